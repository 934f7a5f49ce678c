"""add records.pinyin_key: the title run together in pinyin, for prefix lookups

Existing records get an empty key; `jala reindex` fills it in.

Revision ID: 3c9e1f7a2b64
Revises: 8dfc5f0ad142
Create Date: 2026-11-25 03:10
"""
from alembic import op
import sqlalchemy as sa

revision = '3c9e1f7a2b64'
down_revision = '8dfc5f0ad142'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('records', sa.Column('pinyin_key', sa.Text(), server_default='', nullable=False))
    op.create_index('ix_records_pinyin_key', 'records', ['pinyin_key'], unique=False,
                    postgresql_ops={'pinyin_key': 'text_pattern_ops'})


def downgrade():
    op.drop_index('ix_records_pinyin_key', table_name='records')
    op.drop_column('records', 'pinyin_key')
