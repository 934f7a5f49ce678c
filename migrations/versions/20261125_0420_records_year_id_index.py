"""index records by (year, id) instead of year alone: sorting by year walks it newest first

Revision ID: 6a4d2c8e9f13
Revises: 3c9e1f7a2b64
Create Date: 2026-11-25 04:20
"""
from alembic import op

revision = '6a4d2c8e9f13'
down_revision = '3c9e1f7a2b64'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_records_year_id', 'records', ['year', 'id'], unique=False)
    op.drop_index('ix_records_year', table_name='records')


def downgrade():
    op.create_index('ix_records_year', 'records', ['year'], unique=False)
    op.drop_index('ix_records_year_id', table_name='records')
