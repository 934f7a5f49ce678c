"""add kbart embargo: a journal's moving wall from its KBART embargo_info (R1Y, P5Y)

Revision ID: c0a1e2f3a405
Revises: c0a1e2f3a404
Create Date: 2026-12-13 05:00
"""
import sqlalchemy as sa
from alembic import op

revision = "c0a1e2f3a405"
down_revision = "c0a1e2f3a404"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("journal_coverage", sa.Column("embargo", sa.String(length=5), nullable=True))
    op.create_check_constraint(op.f("ck_journal_coverage_kbart_embargo"), "journal_coverage",
                               "embargo ~ '^[RP][0-9]{1,3}[DMY]$'")


def downgrade():
    op.drop_constraint(op.f("ck_journal_coverage_kbart_embargo"), "journal_coverage",
                       type_="check")
    op.drop_column("journal_coverage", "embargo")
