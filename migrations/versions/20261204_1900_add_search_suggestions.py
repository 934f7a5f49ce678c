"""add search_suggestions: titles, authors and subjects offered under the search box

Each row is found by its characters, its pinyin and its pinyin initials; a short prefix is
answered from an index in weight order. `jala suggestions` fills the table for an existing
catalogue; the worker's sweeper keeps it up with new records.

Revision ID: 9d4e2b7c1f08
Revises: 8c3f1a52e7b6
Create Date: 2026-12-04 19:00
"""
from alembic import op
import sqlalchemy as sa

revision = '9d4e2b7c1f08'
down_revision = '8c3f1a52e7b6'
branch_labels = None
depends_on = None

PREFIX_INDEXES = (("key", (1, 2)), ("pinyin", (2, 3, 4)), ("initials", (2, 3)))


def upgrade():
    op.create_table(
        'search_suggestions',
        sa.Column('id', sa.BigInteger(), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('text', sa.String(length=200), nullable=False),
        sa.Column('key', sa.String(length=100), nullable=False),
        sa.Column('pinyin', sa.String(length=120), server_default='', nullable=False),
        sa.Column('initials', sa.String(length=60), server_default='', nullable=False),
        sa.Column('weight', sa.Integer(), server_default='1', nullable=False),
        sa.CheckConstraint("kind IN ('title', 'author', 'subject')",
                           name=op.f('ck_search_suggestions_known_kind')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_search_suggestions')),
        sa.UniqueConstraint('kind', 'key', name=op.f('uq_search_suggestions_kind_key')),
    )
    for column, lengths in PREFIX_INDEXES:
        for n in lengths:
            op.create_index(f'ix_search_suggestions_{column}_{n}', 'search_suggestions',
                            [sa.text(f'left({column}, {n})'), sa.text('weight DESC')])
        op.create_index(f'ix_search_suggestions_{column}', 'search_suggestions', [column],
                        postgresql_ops={column: 'text_pattern_ops'})
    op.create_table(
        'search_suggestion_progress',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('through_record_id', sa.BigInteger(), server_default='0', nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_search_suggestion_progress')),
    )


def downgrade():
    op.drop_table('search_suggestion_progress')
    op.drop_table('search_suggestions')
