"""add purchase_suggestions (荐购: a reader suggests a title for their library to buy)

One open suggestion per reader and normalised title (a partial unique index); a declined
suggestion carries its reason.

Revision ID: 8c3f1a52e7b6
Revises: 7b2e9c41d0a5
Create Date: 2026-12-04 18:00
"""
from alembic import op
import sqlalchemy as sa

revision = '8c3f1a52e7b6'
down_revision = '7b2e9c41d0a5'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('purchase_suggestions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reader_id', sa.Integer(), nullable=False),
    sa.Column('library_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('title_key', sa.Text(), nullable=False),
    sa.Column('authors', sa.Text(), nullable=True),
    sa.Column('publisher', sa.Text(), nullable=True),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('isbn', sa.String(length=13), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('record_id', sa.BigInteger(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ordered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('suggested', 'ordered', 'declined', 'available')", name=op.f('ck_purchase_suggestions_known_status')),
    sa.CheckConstraint("status <> 'declined' OR reason IS NOT NULL", name=op.f('ck_purchase_suggestions_declined_has_reason')),
    sa.ForeignKeyConstraint(['library_id'], ['libraries.id'], name=op.f('fk_purchase_suggestions_library_id_libraries')),
    sa.ForeignKeyConstraint(['reader_id'], ['users.id'], name=op.f('fk_purchase_suggestions_reader_id_users')),
    sa.ForeignKeyConstraint(['record_id'], ['records.id'], name=op.f('fk_purchase_suggestions_record_id_records'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchase_suggestions'))
    )
    op.create_index(op.f('ix_purchase_suggestions_reader_id'), 'purchase_suggestions', ['reader_id'], unique=False)
    op.create_index('ix_purchase_suggestions_library_status', 'purchase_suggestions', ['library_id', 'status'], unique=False)
    op.create_index('uq_purchase_suggestions_reader_id_title_key', 'purchase_suggestions', ['reader_id', 'title_key'], unique=True, postgresql_where=sa.text("status IN ('suggested', 'ordered')"))


def downgrade():
    op.drop_index('uq_purchase_suggestions_reader_id_title_key', table_name='purchase_suggestions', postgresql_where=sa.text("status IN ('suggested', 'ordered')"))
    op.drop_index('ix_purchase_suggestions_library_status', table_name='purchase_suggestions')
    op.drop_index(op.f('ix_purchase_suggestions_reader_id'), table_name='purchase_suggestions')
    op.drop_table('purchase_suggestions')
