"""add document delivery

Revision ID: 522d2e292c92
Revises: 7698506c1008
Create Date: 2026-11-25 00:30
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '522d2e292c92'
down_revision = '7698506c1008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('journal_coverage',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('library_id', sa.Integer(), nullable=False),
    sa.Column('issn', sa.String(length=9), nullable=False),
    sa.Column('title', sa.Text(), nullable=True),
    sa.Column('year_from', sa.Integer(), nullable=True),
    sa.Column('year_to', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('year_to IS NULL OR year_from IS NULL OR year_to >= year_from', name=op.f('ck_journal_coverage_year_range')),
    sa.ForeignKeyConstraint(['library_id'], ['libraries.id'], name=op.f('fk_journal_coverage_library_id_libraries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_journal_coverage')),
    sa.UniqueConstraint('library_id', 'issn', name=op.f('uq_journal_coverage_library_id_issn'))
    )
    op.create_index(op.f('ix_journal_coverage_issn'), 'journal_coverage', ['issn'], unique=False)
    op.create_table('delivery_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reader_id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.BigInteger(), nullable=True),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('authors', sa.Text(), nullable=True),
    sa.Column('container_title', sa.Text(), nullable=True),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('volume', sa.String(length=40), nullable=True),
    sa.Column('issue', sa.String(length=40), nullable=True),
    sa.Column('pages', sa.String(length=40), nullable=True),
    sa.Column('page_from', sa.Integer(), nullable=True),
    sa.Column('page_to', sa.Integer(), nullable=True),
    sa.Column('isbn', sa.String(length=13), nullable=True),
    sa.Column('issn', sa.String(length=9), nullable=True),
    sa.Column('doi', sa.String(length=200), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('page_count', sa.Integer(), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('rota', postgresql.ARRAY(sa.Integer()), nullable=False),
    sa.Column('rota_position', sa.Integer(), nullable=False),
    sa.Column('library_id', sa.Integer(), nullable=True),
    sa.Column('routed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('respond_by', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('accepted_by_id', sa.Integer(), nullable=True),
    sa.Column('fulfilled_by_id', sa.Integer(), nullable=True),
    sa.Column('file_id', sa.Integer(), nullable=True),
    sa.Column('link_id', sa.Integer(), nullable=True),
    sa.Column('url', sa.Text(), nullable=True),
    sa.Column('finish_reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("kind IN ('article', 'book_part', 'other')", name=op.f('ck_delivery_requests_known_kind')),
    sa.CheckConstraint("status IN ('pending', 'accepted', 'fulfilled', 'unfilled', 'refused', 'cancelled')", name=op.f('ck_delivery_requests_known_status')),
    sa.CheckConstraint("status NOT IN ('pending', 'accepted') OR library_id IS NOT NULL", name=op.f('ck_delivery_requests_open_request_has_library')),
    sa.CheckConstraint('page_from IS NULL OR (page_from >= 1 AND page_to >= page_from)', name=op.f('ck_delivery_requests_page_range')),
    sa.ForeignKeyConstraint(['accepted_by_id'], ['users.id'], name=op.f('fk_delivery_requests_accepted_by_id_users')),
    sa.ForeignKeyConstraint(['file_id'], ['stored_files.id'], name=op.f('fk_delivery_requests_file_id_stored_files')),
    sa.ForeignKeyConstraint(['fulfilled_by_id'], ['users.id'], name=op.f('fk_delivery_requests_fulfilled_by_id_users')),
    sa.ForeignKeyConstraint(['library_id'], ['libraries.id'], name=op.f('fk_delivery_requests_library_id_libraries')),
    sa.ForeignKeyConstraint(['link_id'], ['file_links.id'], name=op.f('fk_delivery_requests_link_id_file_links')),
    sa.ForeignKeyConstraint(['reader_id'], ['users.id'], name=op.f('fk_delivery_requests_reader_id_users')),
    sa.ForeignKeyConstraint(['record_id'], ['records.id'], name=op.f('fk_delivery_requests_record_id_records'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_requests'))
    )
    op.create_index('ix_delivery_requests_library_status', 'delivery_requests', ['library_id', 'status'], unique=False)
    op.create_index(op.f('ix_delivery_requests_link_id'), 'delivery_requests', ['link_id'], unique=False)
    op.create_index('ix_delivery_requests_reader', 'delivery_requests', ['reader_id', 'created_at'], unique=False)
    op.create_index('ix_delivery_requests_respond_by', 'delivery_requests', ['respond_by'], unique=False, postgresql_where=sa.text("status IN ('pending', 'accepted')"))
    op.create_table('delivery_events',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('library_id', sa.Integer(), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.CheckConstraint("kind IN ('submitted', 'routed', 'accepted', 'passed', 'timed_out', 'fulfilled', 'unfilled', 'refused', 'cancelled', 'reminded', 'page_count')", name=op.f('ck_delivery_events_known_event_kind')),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_delivery_events_actor_id_users')),
    sa.ForeignKeyConstraint(['library_id'], ['libraries.id'], name=op.f('fk_delivery_events_library_id_libraries')),
    sa.ForeignKeyConstraint(['request_id'], ['delivery_requests.id'], name=op.f('fk_delivery_events_request_id_delivery_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_events'))
    )
    op.create_index('ix_delivery_events_library_at', 'delivery_events', ['library_id', 'at'], unique=False)
    op.create_index(op.f('ix_delivery_events_request_id'), 'delivery_events', ['request_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_delivery_events_request_id'), table_name='delivery_events')
    op.drop_index('ix_delivery_events_library_at', table_name='delivery_events')
    op.drop_table('delivery_events')
    op.drop_index('ix_delivery_requests_respond_by', table_name='delivery_requests', postgresql_where=sa.text("status IN ('pending', 'accepted')"))
    op.drop_index(op.f('ix_delivery_requests_link_id'), table_name='delivery_requests')
    op.drop_index('ix_delivery_requests_reader', table_name='delivery_requests')
    op.drop_index('ix_delivery_requests_library_status', table_name='delivery_requests')
    op.drop_table('delivery_requests')
    op.drop_index(op.f('ix_journal_coverage_issn'), table_name='journal_coverage')
    op.drop_table('journal_coverage')
