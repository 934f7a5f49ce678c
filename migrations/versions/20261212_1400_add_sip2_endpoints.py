"""add sip2 endpoints: each member library's SIP2 server for live availability

Revision ID: 5e1a9c3d7b24
Revises: 3a9c4e6f8b21
Create Date: 2026-12-12 14:00
"""
import sqlalchemy as sa
from alembic import op

revision = "5e1a9c3d7b24"
down_revision = "3a9c4e6f8b21"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "sip2_endpoints",
        sa.Column("library_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("host", sa.String(length=253), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.String(length=64), nullable=False),
        sa.Column("login_user", sa.String(length=64), nullable=True),
        sa.Column("password_sealed", sa.Text(), nullable=True),
        sa.Column("location_code", sa.String(length=64), nullable=True),
        sa.Column("encoding", sa.String(length=10), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("port BETWEEN 1 AND 65535",
                           name=op.f("ck_sip2_endpoints_port_in_range")),
        sa.CheckConstraint("encoding IN ('utf-8', 'gb18030', 'cp850')",
                           name=op.f("ck_sip2_endpoints_known_encoding")),
        sa.ForeignKeyConstraint(["library_id"], ["libraries.id"],
                                name=op.f("fk_sip2_endpoints_library_id_libraries")),
        sa.ForeignKeyConstraint(["updated_by_id"], ["users.id"],
                                name=op.f("fk_sip2_endpoints_updated_by_id_users")),
        sa.PrimaryKeyConstraint("library_id", name=op.f("pk_sip2_endpoints")),
    )


def downgrade():
    op.drop_table("sip2_endpoints")
