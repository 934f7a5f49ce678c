"""add community events: events, reading-club series, sign-ups, waiting lists, check-ins,
personal calendar feeds

One sign-up row per reader and event (unique), its ticket code unique within the event; the
day-before reminder is sent once (``reminded_at``); attendance only with a seat.

Revision ID: c0a1e2f3a402
Revises: c0a1e2f3a401
Create Date: 2026-12-13 02:00
"""
import sqlalchemy as sa
from alembic import op

revision = "c0a1e2f3a402"
down_revision = "c0a1e2f3a401"
branch_labels = None
depends_on = None

KINDS = "('lecture', 'training', 'seminar', 'reading_month', 'exchange', 'reading_club')"


def upgrade():
    op.create_table(
        "event_series",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("library_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["library_id"], ["libraries.id"],
                                name=op.f("fk_event_series_library_id_libraries")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"],
                                name=op.f("fk_event_series_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_series")),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("series_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=True),
        sa.Column("online_url", sa.String(length=500), nullable=True),
        sa.Column("library_id", sa.Integer(), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("audience", sa.String(length=10), nullable=False),
        sa.Column("audience_library_id", sa.Integer(), nullable=True),
        sa.Column("signup_opens_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signup_closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(f"kind IN {KINDS}", name=op.f("ck_events_known_kind")),
        sa.CheckConstraint("audience IN ('members', 'staff', 'library')",
                           name=op.f("ck_events_known_audience")),
        sa.CheckConstraint("status IN ('scheduled', 'cancelled')",
                           name=op.f("ck_events_known_status")),
        sa.CheckConstraint("(audience = 'library') = (audience_library_id IS NOT NULL)",
                           name=op.f("ck_events_audience_library_given")),
        sa.CheckConstraint("capacity > 0", name=op.f("ck_events_positive_capacity")),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_events_ends_after_start")),
        sa.CheckConstraint("signup_closes_at > signup_opens_at",
                           name=op.f("ck_events_signup_window")),
        sa.ForeignKeyConstraint(["series_id"], ["event_series.id"],
                                name=op.f("fk_events_series_id_event_series")),
        sa.ForeignKeyConstraint(["library_id"], ["libraries.id"],
                                name=op.f("fk_events_library_id_libraries")),
        sa.ForeignKeyConstraint(["audience_library_id"], ["libraries.id"],
                                name=op.f("fk_events_audience_library_id_libraries")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"],
                                name=op.f("fk_events_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    op.create_index(op.f("ix_events_series_id"), "events", ["series_id"], unique=False)
    op.create_index(op.f("ix_events_starts_at"), "events", ["starts_at"], unique=False)
    op.create_index(op.f("ix_events_library_id"), "events", ["library_id"], unique=False)
    op.create_table(
        "event_registrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("ticket_code", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checked_in_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("status IN ('confirmed', 'waiting', 'cancelled')",
                           name=op.f("ck_event_registrations_known_status")),
        sa.CheckConstraint("checked_in_at IS NULL OR status = 'confirmed'",
                           name=op.f("ck_event_registrations_attended_with_a_seat")),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"],
                                name=op.f("fk_event_registrations_event_id_events")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_event_registrations_user_id_users")),
        sa.ForeignKeyConstraint(["checked_in_by_id"], ["users.id"],
                                name=op.f("fk_event_registrations_checked_in_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_registrations")),
        sa.UniqueConstraint("event_id", "user_id",
                            name=op.f("uq_event_registrations_event_id_user_id")),
        sa.UniqueConstraint("event_id", "ticket_code",
                            name=op.f("uq_event_registrations_event_id_ticket_code")),
    )
    op.create_index(op.f("ix_event_registrations_user_id"), "event_registrations", ["user_id"],
                    unique=False)
    op.create_index("ix_event_registrations_event_status", "event_registrations",
                    ["event_id", "status", "queued_at"], unique=False)
    op.create_table(
        "event_calendar_feeds",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("token_sealed", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_event_calendar_feeds_user_id_users")),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_event_calendar_feeds")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_event_calendar_feeds_token_hash")),
    )


def downgrade():
    op.drop_table("event_calendar_feeds")
    op.drop_index("ix_event_registrations_event_status", table_name="event_registrations")
    op.drop_index(op.f("ix_event_registrations_user_id"), table_name="event_registrations")
    op.drop_table("event_registrations")
    op.drop_index(op.f("ix_events_library_id"), table_name="events")
    op.drop_index(op.f("ix_events_starts_at"), table_name="events")
    op.drop_index(op.f("ix_events_series_id"), table_name="events")
    op.drop_table("events")
    op.drop_table("event_series")
