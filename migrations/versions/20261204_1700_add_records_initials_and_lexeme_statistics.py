"""add records.initials_key and a trigram index on pinyin_key; keep more lexeme statistics

For the forgiving search: zgfzbg finds 中国发展报告 by its initials (a btree prefix), pinyin
typed with a slip finds the title's pinyin key by trigram similarity, and a loose query is
anchored on its rarest terms, read from ANALYZE's most common elements of the
two tsvector columns: with a statistics target of 1000, ANALYZE keeps 10,000 of them, so that
"not among them" means rare. Existing records get empty initials; `jala reindex` fills them in.

Revision ID: 7b2e9c41d0a5
Revises: 6a4d2c8e9f13
Create Date: 2026-12-04 17:00
"""
from alembic import op
import sqlalchemy as sa

revision = '7b2e9c41d0a5'
down_revision = '6a4d2c8e9f13'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('records', sa.Column('initials_key', sa.Text(), server_default='',
                                       nullable=False))
    op.create_index('ix_records_initials_key', 'records', ['initials_key'], unique=False,
                    postgresql_ops={'initials_key': 'text_pattern_ops'})
    op.create_index('ix_records_pinyin_key_trgm', 'records', ['pinyin_key'], unique=False,
                    postgresql_using='gin', postgresql_ops={'pinyin_key': 'gin_trgm_ops'})
    op.execute("ALTER TABLE records ALTER COLUMN title_vector SET STATISTICS 1000")
    op.execute("ALTER TABLE records ALTER COLUMN search_vector SET STATISTICS 1000")


def downgrade():
    op.execute("ALTER TABLE records ALTER COLUMN search_vector SET STATISTICS -1")
    op.execute("ALTER TABLE records ALTER COLUMN title_vector SET STATISTICS -1")
    op.drop_index('ix_records_pinyin_key_trgm', table_name='records')
    op.drop_index('ix_records_initials_key', table_name='records')
    op.drop_column('records', 'initials_key')
