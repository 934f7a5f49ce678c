"""add counter reports: the SUSHI credentials member libraries harvest COUNTER reports with

Revision ID: d1b2c3e4f502
Revises: d1b2c3e4f501
Create Date: 2026-12-14 02:00
"""
import sqlalchemy as sa
from alembic import op

revision = "d1b2c3e4f502"
down_revision = "d1b2c3e4f501"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "sushi_credentials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("library_id", sa.Integer(), nullable=False),
        sa.Column("requestor_id", sa.Text(), nullable=False),
        sa.Column("key_hash", sa.Text(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["library_id"], ["libraries.id"],
                                name=op.f("fk_sushi_credentials_library_id_libraries"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"],
                                name=op.f("fk_sushi_credentials_created_by_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sushi_credentials")),
        sa.UniqueConstraint("requestor_id", name=op.f("uq_sushi_credentials_requestor_id")),
    )
    op.create_index(op.f("ix_sushi_credentials_library_id"), "sushi_credentials",
                    ["library_id"])


def downgrade():
    op.drop_index(op.f("ix_sushi_credentials_library_id"), table_name="sushi_credentials")
    op.drop_table("sushi_credentials")
