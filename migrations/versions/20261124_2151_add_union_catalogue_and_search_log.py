"""add union catalogue and search log

Revision ID: 7698506c1008
Revises: 5b1c0d7e2a90
Create Date: 2026-11-24 21:51
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '7698506c1008'
down_revision = '5b1c0d7e2a90'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('records',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('type', sa.String(length=20), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('title_key', sa.Text(), nullable=False),
    sa.Column('title_pinyin', sa.Text(), nullable=True),
    sa.Column('authors', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False),
    sa.Column('keywords', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False),
    sa.Column('subjects', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False),
    sa.Column('abstract', sa.Text(), nullable=True),
    sa.Column('publisher', sa.Text(), nullable=True),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('isbn', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False),
    sa.Column('issn', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False),
    sa.Column('clc', sa.Text(), nullable=True),
    sa.Column('journal', sa.Text(), nullable=True),
    sa.Column('volume', sa.Text(), nullable=True),
    sa.Column('issue', sa.Text(), nullable=True),
    sa.Column('pages', sa.Text(), nullable=True),
    sa.Column('page_count', sa.Integer(), nullable=True),
    sa.Column('doi', sa.Text(), nullable=True),
    sa.Column('language', sa.String(length=20), nullable=True),
    sa.Column('discipline', sa.Text(), nullable=True),
    sa.Column('category', sa.Text(), nullable=True),
    sa.Column('url', sa.Text(), nullable=True),
    sa.Column('extra', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('match_key', sa.Text(), nullable=True),
    sa.Column('holdings_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('library_ids', postgresql.ARRAY(sa.Integer()), server_default='{}', nullable=False),
    sa.Column('search_vector', postgresql.TSVECTOR(), nullable=False),
    sa.Column('title_vector', postgresql.TSVECTOR(), nullable=False),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_records'))
    )
    op.create_index('ix_records_match_key', 'records', ['match_key'], unique=False, postgresql_where=sa.text('match_key IS NOT NULL'))
    op.create_index('ix_records_search_text_trgm', 'records', ['search_text'], unique=False, postgresql_using='gin', postgresql_ops={'search_text': 'gin_trgm_ops'})
    op.create_index('ix_records_search_vector', 'records', ['search_vector'], unique=False, postgresql_using='gin')
    op.create_index('ix_records_title_key', 'records', ['title_key'], unique=False)
    op.create_index('ix_records_title_vector', 'records', ['title_vector'], unique=False, postgresql_using='gin')
    op.create_index('ix_records_year', 'records', ['year'], unique=False)
    op.create_table('search_log',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('query', sa.String(length=500), nullable=False),
    sa.Column('filters', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.Column('total_relation', sa.String(length=3), nullable=False),
    sa.Column('ms', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_log'))
    )
    op.create_table('record_identifiers',
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('value', sa.String(length=20), nullable=False),
    sa.Column('record_id', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['record_id'], ['records.id'], name=op.f('fk_record_identifiers_record_id_records'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('kind', 'value', name=op.f('pk_record_identifiers'))
    )
    op.create_index(op.f('ix_record_identifiers_record_id'), 'record_identifiers', ['record_id'], unique=False)
    op.create_table('source_records',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('library_id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.String(length=200), nullable=False),
    sa.Column('record_id', sa.BigInteger(), nullable=False),
    sa.Column('format', sa.String(length=10), nullable=False),
    sa.Column('raw', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('content_hash', sa.String(length=40), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['library_id'], ['libraries.id'], name=op.f('fk_source_records_library_id_libraries')),
    sa.ForeignKeyConstraint(['record_id'], ['records.id'], name=op.f('fk_source_records_record_id_records'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_source_records')),
    sa.UniqueConstraint('library_id', 'source_id', name=op.f('uq_source_records_library_id_source_id'))
    )
    op.create_index(op.f('ix_source_records_record_id'), 'source_records', ['record_id'], unique=False)
    op.create_table('holdings',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('record_id', sa.BigInteger(), nullable=False),
    sa.Column('library_id', sa.Integer(), nullable=False),
    sa.Column('source_record_id', sa.BigInteger(), nullable=True),
    sa.Column('call_number', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('location', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['library_id'], ['libraries.id'], name=op.f('fk_holdings_library_id_libraries')),
    sa.ForeignKeyConstraint(['record_id'], ['records.id'], name=op.f('fk_holdings_record_id_records'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['source_record_id'], ['source_records.id'], name=op.f('fk_holdings_source_record_id_source_records'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_holdings'))
    )
    op.create_index(op.f('ix_holdings_library_id'), 'holdings', ['library_id'], unique=False)
    op.create_index(op.f('ix_holdings_record_id'), 'holdings', ['record_id'], unique=False)
    op.create_index(op.f('ix_holdings_source_record_id'), 'holdings', ['source_record_id'], unique=False)
    op.create_table('import_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('library_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('stored_file_id', sa.Integer(), nullable=True),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('format', sa.String(length=10), nullable=True),
    sa.Column('options', postgresql.JSONB(astext_type=sa.Text()), nullable=False, server_default='{}'),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('read', sa.Integer(), nullable=False),
    sa.Column('created', sa.Integer(), nullable=False),
    sa.Column('merged', sa.Integer(), nullable=False),
    sa.Column('updated', sa.Integer(), nullable=False),
    sa.Column('unchanged', sa.Integer(), nullable=False),
    sa.Column('skipped', sa.Integer(), nullable=False),
    sa.Column('errors', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('enqueued_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['library_id'], ['libraries.id'], name=op.f('fk_import_runs_library_id_libraries')),
    sa.ForeignKeyConstraint(['stored_file_id'], ['stored_files.id'], name=op.f('fk_import_runs_stored_file_id_stored_files')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_import_runs_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_runs'))
    )


def downgrade():
    op.drop_table('import_runs')
    op.drop_index(op.f('ix_holdings_source_record_id'), table_name='holdings')
    op.drop_index(op.f('ix_holdings_record_id'), table_name='holdings')
    op.drop_index(op.f('ix_holdings_library_id'), table_name='holdings')
    op.drop_table('holdings')
    op.drop_index(op.f('ix_source_records_record_id'), table_name='source_records')
    op.drop_table('source_records')
    op.drop_index(op.f('ix_record_identifiers_record_id'), table_name='record_identifiers')
    op.drop_table('record_identifiers')
    op.drop_table('search_log')
    op.drop_index('ix_records_year', table_name='records')
    op.drop_index('ix_records_title_vector', table_name='records', postgresql_using='gin')
    op.drop_index('ix_records_title_key', table_name='records')
    op.drop_index('ix_records_search_vector', table_name='records', postgresql_using='gin')
    op.drop_index('ix_records_search_text_trgm', table_name='records', postgresql_using='gin', postgresql_ops={'search_text': 'gin_trgm_ops'})
    op.drop_index('ix_records_match_key', table_name='records', postgresql_where=sa.text('match_key IS NOT NULL'))
    op.drop_table('records')
