"""create accounts, outbox, files and settings

Revision ID: 273fef675142
Revises: 
Create Date: 2026-11-24 21:34
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '273fef675142'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table('libraries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('name_zh', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('city', sa.String(length=50), nullable=False),
    sa.Column('city_en', sa.String(length=50), nullable=False),
    sa.Column('joined_on', sa.Date(), nullable=False),
    sa.Column('join_date_exact', sa.Boolean(), nullable=False),
    sa.Column('founding', sa.Boolean(), nullable=False),
    sa.Column('left_on', sa.Date(), nullable=True),
    sa.Column('website', sa.String(length=200), nullable=True),
    sa.CheckConstraint("code = upper(code) AND code ~ '^[A-Z][A-Z0-9]{1,15}$'", name=op.f('ck_libraries_code_upper')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_libraries')),
    sa.UniqueConstraint('code', name=op.f('uq_libraries_code'))
    )
    op.create_table('outbox_emails',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('to_addr', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body_text', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=True),
    sa.Column('message_id', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('enqueued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('object_type', sa.String(length=32), nullable=True),
    sa.Column('object_id', sa.String(length=64), nullable=True),
    sa.Column('library_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_emails')),
    sa.UniqueConstraint('message_id', name=op.f('uq_outbox_emails_message_id'))
    )
    op.create_index(op.f('ix_outbox_emails_due_at'), 'outbox_emails', ['due_at'], unique=False)
    op.create_table('chair_terms',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('library_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['library_id'], ['libraries.id'], name=op.f('fk_chair_terms_library_id_libraries')),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_chair_terms'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('email_confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('display_name', sa.String(length=100), nullable=False),
    sa.Column('home_library_id', sa.Integer(), nullable=True),
    sa.Column('card_number', sa.String(length=40), nullable=True),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('verified_by_id', sa.Integer(), nullable=True),
    sa.Column('totp_secret', sa.String(length=64), nullable=True),
    sa.Column('totp_enabled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('totp_last_step', sa.BigInteger(), nullable=True),
    sa.Column('locale', sa.String(length=10), nullable=True),
    sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(home_library_id IS NULL) = (card_number IS NULL)', name=op.f('ck_users_card_with_library')),
    sa.ForeignKeyConstraint(['home_library_id'], ['libraries.id'], name=op.f('fk_users_home_library_id_libraries')),
    sa.ForeignKeyConstraint(['verified_by_id'], ['users.id'], name=op.f('fk_users_verified_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users'))
    )
    op.create_index('uq_users_email_lower', 'users', [sa.literal_column('lower(email)')], unique=True)
    op.create_index('uq_users_library_card', 'users', ['home_library_id', 'card_number'], unique=True, postgresql_where=sa.text('card_number IS NOT NULL'))
    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_role', sa.String(length=32), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('object_type', sa.String(length=32), nullable=True),
    sa.Column('object_id', sa.String(length=64), nullable=True),
    sa.Column('library_id', sa.Integer(), nullable=True),
    sa.Column('details', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_log_actor_id_users')),
    sa.ForeignKeyConstraint(['library_id'], ['libraries.id'], name=op.f('fk_audit_log_library_id_libraries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    op.create_index(op.f('ix_audit_log_action'), 'audit_log', ['action'], unique=False)
    op.create_table('auth_sessions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('user_agent', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_auth_sessions_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auth_sessions'))
    )
    op.create_index(op.f('ix_auth_sessions_user_id'), 'auth_sessions', ['user_id'], unique=False)
    op.create_table('email_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('purpose', sa.String(length=20), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_email_tokens_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_email_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_email_tokens_token_hash'))
    )
    op.create_table('role_grants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('library_id', sa.Integer(), nullable=False),
    sa.Column('granted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('granted_by_id', sa.Integer(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("role IN ('librarian', 'library_admin', 'committee_member', 'portal_admin')", name=op.f('ck_role_grants_known_role')),
    sa.ForeignKeyConstraint(['granted_by_id'], ['users.id'], name=op.f('fk_role_grants_granted_by_id_users')),
    sa.ForeignKeyConstraint(['library_id'], ['libraries.id'], name=op.f('fk_role_grants_library_id_libraries')),
    sa.ForeignKeyConstraint(['revoked_by_id'], ['users.id'], name=op.f('fk_role_grants_revoked_by_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_role_grants_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_role_grants'))
    )
    op.create_index('uq_role_grants_active', 'role_grants', ['user_id', 'role', 'library_id'], unique=True, postgresql_where=sa.text('revoked_at IS NULL'))
    op.create_index('uq_role_grants_committee_seat', 'role_grants', ['library_id'], unique=True, postgresql_where=sa.text("role = 'committee_member' AND revoked_at IS NULL"))
    op.create_table('settings',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_settings_updated_by_id_users')),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_settings'))
    )
    op.create_table('stored_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('storage_name', sa.String(length=64), nullable=False),
    sa.Column('original_name', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delete_after', sa.DateTime(timezone=True), nullable=True),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_stored_files_owner_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stored_files')),
    sa.UniqueConstraint('storage_name', name=op.f('uq_stored_files_storage_name'))
    )
    op.create_index(op.f('ix_stored_files_delete_after'), 'stored_files', ['delete_after'], unique=False)
    op.create_table('file_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file_id', sa.Integer(), nullable=False),
    sa.Column('nonce', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('max_downloads', sa.Integer(), nullable=True),
    sa.Column('downloads', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['file_id'], ['stored_files.id'], name=op.f('fk_file_links_file_id_stored_files')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_file_links'))
    )
    op.create_index(op.f('ix_file_links_file_id'), 'file_links', ['file_id'], unique=False)

    # Library codes appear in URLs, imports and holdings: once given, never changed.
    op.execute("""
        CREATE FUNCTION jala_refuse_library_code_change() RETURNS trigger AS $$
        BEGIN
            IF NEW.code <> OLD.code THEN
                RAISE EXCEPTION 'library code % is immutable', OLD.code;
            END IF;
            RETURN NEW;
        END $$ LANGUAGE plpgsql
    """)
    op.execute("""
        CREATE TRIGGER libraries_code_immutable BEFORE UPDATE OF code ON libraries
        FOR EACH ROW EXECUTE FUNCTION jala_refuse_library_code_change()
    """)
    # The audit log is append-only, whatever the application does.
    op.execute("""
        CREATE FUNCTION jala_refuse_audit_change() RETURNS trigger AS $$
        BEGIN
            RAISE EXCEPTION 'the audit log is append-only';
        END $$ LANGUAGE plpgsql
    """)
    op.execute("""
        CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
        FOR EACH ROW EXECUTE FUNCTION jala_refuse_audit_change()
    """)
    op.execute("""
        CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
        FOR EACH STATEMENT EXECUTE FUNCTION jala_refuse_audit_change()
    """)


def downgrade():
    op.execute("DROP TRIGGER audit_log_no_truncate ON audit_log")
    op.execute("DROP TRIGGER audit_log_append_only ON audit_log")
    op.execute("DROP FUNCTION jala_refuse_audit_change()")
    op.execute("DROP TRIGGER libraries_code_immutable ON libraries")
    op.execute("DROP FUNCTION jala_refuse_library_code_change()")
    op.drop_index(op.f('ix_file_links_file_id'), table_name='file_links')
    op.drop_table('file_links')
    op.drop_index(op.f('ix_stored_files_delete_after'), table_name='stored_files')
    op.drop_table('stored_files')
    op.drop_table('settings')
    op.drop_index('uq_role_grants_committee_seat', table_name='role_grants', postgresql_where=sa.text("role = 'committee_member' AND revoked_at IS NULL"))
    op.drop_index('uq_role_grants_active', table_name='role_grants', postgresql_where=sa.text('revoked_at IS NULL'))
    op.drop_table('role_grants')
    op.drop_table('email_tokens')
    op.drop_index(op.f('ix_auth_sessions_user_id'), table_name='auth_sessions')
    op.drop_table('auth_sessions')
    op.drop_index(op.f('ix_audit_log_action'), table_name='audit_log')
    op.drop_table('audit_log')
    op.drop_index('uq_users_library_card', table_name='users', postgresql_where=sa.text('card_number IS NOT NULL'))
    op.drop_index('uq_users_email_lower', table_name='users')
    op.drop_table('users')
    op.drop_table('chair_terms')
    op.drop_index(op.f('ix_outbox_emails_due_at'), table_name='outbox_emails')
    op.drop_table('outbox_emails')
    op.drop_table('libraries')
