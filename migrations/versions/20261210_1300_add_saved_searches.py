"""add saved searches: a reader keeps a search to run again from 我的

Revision ID: 6b2d8e4f1a70
Revises: 4f7a1c9e2d35
Create Date: 2026-12-10 13:00
"""
import sqlalchemy as sa
from alembic import op

revision = "6b2d8e4f1a70"
down_revision = "4f7a1c9e2d35"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "saved_searches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("query_string", sa.String(length=1000), nullable=False),
        sa.Column("label", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"],
                                name=op.f("fk_saved_searches_owner_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_searches")),
        sa.UniqueConstraint("owner_id", "query_string",
                            name=op.f("uq_saved_searches_owner_id_query_string")),
    )


def downgrade():
    op.drop_table("saved_searches")
