"""add union cataloguing: submitted records, reviews, MARC downloads

Revision ID: d1b2c3e4f504
Revises: d1b2c3e4f503
Create Date: 2026-12-14 04:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "d1b2c3e4f504"
down_revision = "d1b2c3e4f503"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade():
    op.create_table(
        "cataloguing_submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("library_id", sa.Integer(), nullable=False),
        sa.Column("submitter_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("flavour", sa.String(length=8), nullable=False),
        sa.Column("leader", sa.String(length=24), nullable=False),
        sa.Column("fields", JSONB(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("record_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("decided_at", TZ, nullable=True),
        sa.CheckConstraint("kind IN ('original', 'correction')",
                           name=op.f("ck_cataloguing_submissions_kind")),
        sa.CheckConstraint("status IN ('submitted', 'returned', 'approved', 'merged', "
                           "'withdrawn')", name=op.f("ck_cataloguing_submissions_status")),
        sa.CheckConstraint("flavour IN ('marc21', 'cnmarc')",
                           name=op.f("ck_cataloguing_submissions_flavour")),
        sa.ForeignKeyConstraint(["library_id"], ["libraries.id"],
                                name=op.f("fk_cataloguing_submissions_library_id_libraries")),
        sa.ForeignKeyConstraint(["submitter_id"], ["users.id"],
                                name=op.f("fk_cataloguing_submissions_submitter_id_users")),
        sa.ForeignKeyConstraint(["record_id"], ["records.id"], ondelete="SET NULL",
                                name=op.f("fk_cataloguing_submissions_record_id_records")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cataloguing_submissions")),
    )
    op.create_index(op.f("ix_cataloguing_submissions_library_id"), "cataloguing_submissions",
                    ["library_id"])
    op.create_index(op.f("ix_cataloguing_submissions_record_id"), "cataloguing_submissions",
                    ["record_id"])
    op.create_index("ix_cataloguing_submissions_status", "cataloguing_submissions",
                    ["status", "id"])
    op.create_table(
        "cataloguing_events",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=12), nullable=False),
        sa.Column("from_status", sa.String(length=12), nullable=True),
        sa.Column("to_status", sa.String(length=12), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("fields", JSONB(), nullable=True),
        sa.ForeignKeyConstraint(["submission_id"], ["cataloguing_submissions.id"],
                                ondelete="CASCADE",
                                name=op.f("fk_cataloguing_events_submission_id_"
                                          "cataloguing_submissions")),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"],
                                name=op.f("fk_cataloguing_events_actor_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cataloguing_events")),
    )
    op.create_index(op.f("ix_cataloguing_events_submission_id"), "cataloguing_events",
                    ["submission_id"])
    op.create_table(
        "cataloguing_downloads",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("record_id", sa.BigInteger(), nullable=False),
        sa.Column("library_id", sa.Integer(), nullable=True),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(["library_id"], ["libraries.id"],
                                name=op.f("fk_cataloguing_downloads_library_id_libraries")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cataloguing_downloads")),
    )
    op.create_index(op.f("ix_cataloguing_downloads_record_id"), "cataloguing_downloads",
                    ["record_id"])
    op.create_index(op.f("ix_cataloguing_downloads_library_id"), "cataloguing_downloads",
                    ["library_id"])


def downgrade():
    op.drop_table("cataloguing_downloads")
    op.drop_table("cataloguing_events")
    op.drop_table("cataloguing_submissions")
