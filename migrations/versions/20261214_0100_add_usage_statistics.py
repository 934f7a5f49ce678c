"""add usage statistics: usage events, monthly roll-ups, the search log's library

Revision ID: d1b2c3e4f501
Revises: c0a1e2f3a405
Create Date: 2026-12-14 01:00
"""
from contextlib import nullcontext

import sqlalchemy as sa
from alembic import context, op

revision = "d1b2c3e4f501"
down_revision = "c0a1e2f3a405"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "usage_events",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("record_id", sa.BigInteger(), nullable=True),
        sa.Column("library_id", sa.Integer(), nullable=True),
        sa.Column("session_key", sa.Text(), nullable=True),
        sa.Column("platform", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["library_id"], ["libraries.id"],
                                name=op.f("fk_usage_events_library_id_libraries")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_events")),
    )
    op.create_index("ix_usage_events_kind_at", "usage_events", ["kind", "at"])
    op.create_index("ix_usage_events_at", "usage_events", ["at"])
    op.create_index("ix_usage_events_library_id_at", "usage_events", ["library_id", "at"])
    op.create_index("ix_usage_events_record_id", "usage_events", ["record_id"],
                    postgresql_where=sa.text("record_id IS NOT NULL"))
    op.create_table(
        "usage_monthly",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("library_id", sa.Integer(), nullable=True),
        sa.Column("measure", sa.Text(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["library_id"], ["libraries.id"],
                                name=op.f("fk_usage_monthly_library_id_libraries"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_monthly")),
    )
    op.create_index("uq_usage_monthly_month_library_measure", "usage_monthly",
                    ["month", sa.text("coalesce(library_id, 0)"), "measure"], unique=True)
    op.create_index("ix_usage_monthly_library_month", "usage_monthly", ["library_id", "month"])
    op.create_table(
        "usage_query_monthly",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("searches", sa.BigInteger(), nullable=False),
        sa.Column("zero_hits", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_query_monthly")),
        sa.UniqueConstraint("month", "query", name=op.f("uq_usage_query_monthly_month")),
    )
    op.create_table(
        "usage_refreshes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_refreshes")),
    )
    op.add_column("search_log", sa.Column("library_id", sa.Integer(), nullable=True))
    # search_log is live and large: build its index without locking out the searches' writes
    with _outside_a_transaction():
        op.create_index("ix_search_log_at", "search_log", ["at"],
                        postgresql_concurrently=_concurrently(), if_not_exists=True)


def _concurrently():
    """CONCURRENTLY runs outside a transaction, so only when alembic owns the transactions.

    A caller that migrates on its own connection inside its own transaction (the tests' and
    benches' scratch databases, empty: nothing to lock out) gets a plain build.
    """
    return context.config.attributes.get("connection") is None


def _outside_a_transaction():
    return op.get_context().autocommit_block() if _concurrently() else nullcontext()


def downgrade():
    with _outside_a_transaction():
        op.drop_index("ix_search_log_at", table_name="search_log",
                      postgresql_concurrently=_concurrently(), if_exists=True)
    op.drop_column("search_log", "library_id")
    op.drop_table("usage_refreshes")
    op.drop_table("usage_query_monthly")
    op.drop_index("ix_usage_monthly_library_month", table_name="usage_monthly")
    op.drop_index("uq_usage_monthly_month_library_measure", table_name="usage_monthly")
    op.drop_table("usage_monthly")
    op.drop_index("ix_usage_events_record_id", table_name="usage_events")
    op.drop_index("ix_usage_events_at", table_name="usage_events")
    op.drop_index("ix_usage_events_library_id_at", table_name="usage_events")
    op.drop_index("ix_usage_events_kind_at", table_name="usage_events")
    op.drop_table("usage_events")
