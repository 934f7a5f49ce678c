"""add joint procurement: the buying list, pledges and procurement rounds

Revision ID: d1b2c3e4f503
Revises: d1b2c3e4f502
Create Date: 2026-12-14 03:00
"""
import sqlalchemy as sa
from alembic import op

revision = "d1b2c3e4f503"
down_revision = "d1b2c3e4f502"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade():
    op.create_table(
        "procurement_rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("total", sa.Numeric(14, 2), nullable=True),
        sa.Column("agenda_item_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("ordered_at", TZ, nullable=True),
        sa.Column("received_at", TZ, nullable=True),
        sa.Column("closed_at", TZ, nullable=True),
        sa.CheckConstraint("status IN ('open', 'committee', 'ordered', 'received', 'cancelled')",
                           name=op.f("ck_procurement_rounds_known_status")),
        sa.CheckConstraint("status <> 'committee' OR agenda_item_id IS NOT NULL",
                           name=op.f("ck_procurement_rounds_committee_has_item")),
        sa.ForeignKeyConstraint(["agenda_item_id"], ["agenda_items.id"],
                                name=op.f("fk_procurement_rounds_agenda_item_id_agenda_items")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"],
                                name=op.f("fk_procurement_rounds_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_procurement_rounds")),
    )
    op.create_table(
        "procurement_titles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("isbn", sa.String(length=13), nullable=True),
        sa.Column("round_id", sa.Integer(), nullable=True),
        sa.Column("record_id", sa.BigInteger(), nullable=True),
        sa.Column("holding_library_id", sa.Integer(), nullable=True),
        sa.Column("received_at", TZ, nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(["round_id"], ["procurement_rounds.id"],
                                name=op.f("fk_procurement_titles_round_id_procurement_rounds")),
        sa.ForeignKeyConstraint(["record_id"], ["records.id"], ondelete="SET NULL",
                                name=op.f("fk_procurement_titles_record_id_records")),
        sa.ForeignKeyConstraint(["holding_library_id"], ["libraries.id"],
                                name=op.f("fk_procurement_titles_holding_library_id_libraries")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_procurement_titles")),
        sa.UniqueConstraint("key", name=op.f("uq_procurement_titles_key")),
    )
    op.create_index(op.f("ix_procurement_titles_round_id"), "procurement_titles", ["round_id"],
                    unique=False)
    op.create_table(
        "procurement_pledges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title_id", sa.Integer(), nullable=False),
        sa.Column("library_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=5), nullable=False),
        sa.Column("amount", sa.Numeric(12, 2), nullable=False),
        sa.Column("status", sa.String(length=9), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("withdrawn_at", TZ, nullable=True),
        sa.CheckConstraint("kind IN ('buy', 'share')",
                           name=op.f("ck_procurement_pledges_known_kind")),
        sa.CheckConstraint("status IN ('active', 'withdrawn')",
                           name=op.f("ck_procurement_pledges_known_status")),
        sa.CheckConstraint("amount > 0", name=op.f("ck_procurement_pledges_positive_amount")),
        sa.ForeignKeyConstraint(["title_id"], ["procurement_titles.id"],
                                name=op.f("fk_procurement_pledges_title_id_procurement_titles")),
        sa.ForeignKeyConstraint(["library_id"], ["libraries.id"],
                                name=op.f("fk_procurement_pledges_library_id_libraries")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_procurement_pledges_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_procurement_pledges")),
    )
    op.create_index(op.f("ix_procurement_pledges_title_id"), "procurement_pledges", ["title_id"],
                    unique=False)
    op.create_index("uq_procurement_pledges_title_id_library_id", "procurement_pledges",
                    ["title_id", "library_id"], unique=True,
                    postgresql_where=sa.text("status = 'active'"))
    op.create_table(
        "procurement_search_demand",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("library_id", sa.Integer(), nullable=True),
        sa.Column("searches", sa.Integer(), nullable=False),
        sa.Column("isbn", sa.String(length=13), nullable=True),
        sa.Column("title_key", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_procurement_search_demand")),
    )
    op.create_index(op.f("ix_procurement_search_demand_isbn"), "procurement_search_demand",
                    ["isbn"], unique=False)
    op.create_index(op.f("ix_procurement_search_demand_title_key"), "procurement_search_demand",
                    ["title_key"], unique=False)
    op.create_table(
        "procurement_demand_refreshes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("refreshed_at", TZ, nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("ms", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_procurement_demand_refreshes")),
    )


def downgrade():
    op.drop_table("procurement_demand_refreshes")
    op.drop_index(op.f("ix_procurement_search_demand_title_key"),
                  table_name="procurement_search_demand")
    op.drop_index(op.f("ix_procurement_search_demand_isbn"), table_name="procurement_search_demand")
    op.drop_table("procurement_search_demand")
    op.drop_index("uq_procurement_pledges_title_id_library_id", table_name="procurement_pledges")
    op.drop_index(op.f("ix_procurement_pledges_title_id"), table_name="procurement_pledges")
    op.drop_table("procurement_pledges")
    op.drop_index(op.f("ix_procurement_titles_round_id"), table_name="procurement_titles")
    op.drop_table("procurement_titles")
    op.drop_table("procurement_rounds")
