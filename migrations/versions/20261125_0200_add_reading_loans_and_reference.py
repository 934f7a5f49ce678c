"""add reading (previews, link resolvers, saved lists), loans (cards, holds, ILL, union
loans) and the reference desk

Revision ID: 8dfc5f0ad142
Revises: 91f78bce57e9
Create Date: 2026-11-25 02:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '8dfc5f0ad142'
down_revision = '91f78bce57e9'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('interlibrary_cards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reader_id', sa.Integer(), nullable=False),
    sa.Column('library_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.CheckConstraint("status IN ('requested', 'approved', 'refused', 'revoked')", name=op.f('ck_interlibrary_cards_known_status')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_interlibrary_cards_decided_by_id_users')),
    sa.ForeignKeyConstraint(['library_id'], ['libraries.id'], name=op.f('fk_interlibrary_cards_library_id_libraries')),
    sa.ForeignKeyConstraint(['reader_id'], ['users.id'], name=op.f('fk_interlibrary_cards_reader_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interlibrary_cards')),
    sa.UniqueConstraint('code', name=op.f('uq_interlibrary_cards_code'))
    )
    op.create_index('uq_interlibrary_cards_one_live', 'interlibrary_cards', ['reader_id'], unique=True, postgresql_where=sa.text("status IN ('requested', 'approved')"))
    op.create_table('link_resolvers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('library_id', sa.Integer(), nullable=False),
    sa.Column('base_url', sa.String(length=500), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['library_id'], ['libraries.id'], name=op.f('fk_link_resolvers_library_id_libraries')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_link_resolvers_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_link_resolvers')),
    sa.UniqueConstraint('library_id', name=op.f('uq_link_resolvers_library_id'))
    )
    op.create_table('reference_questions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('asker_id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_activity_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_by_id', sa.Integer(), nullable=True),
    sa.Column('claimed_library_id', sa.Integer(), nullable=True),
    sa.Column('first_response_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('escalate_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('faq_question', sa.Text(), nullable=True),
    sa.Column('faq_answer', sa.Text(), nullable=True),
    sa.Column('faq_published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('faq_vector', postgresql.TSVECTOR(), nullable=True),
    sa.CheckConstraint("status IN ('open', 'answered', 'closed')", name=op.f('ck_reference_questions_known_status')),
    sa.ForeignKeyConstraint(['asker_id'], ['users.id'], name=op.f('fk_reference_questions_asker_id_users')),
    sa.ForeignKeyConstraint(['claimed_by_id'], ['users.id'], name=op.f('fk_reference_questions_claimed_by_id_users')),
    sa.ForeignKeyConstraint(['claimed_library_id'], ['libraries.id'], name=op.f('fk_reference_questions_claimed_library_id_libraries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reference_questions'))
    )
    op.create_index(op.f('ix_reference_questions_asker_id'), 'reference_questions', ['asker_id'], unique=False)
    op.create_index('ix_reference_questions_escalate_at', 'reference_questions', ['escalate_at'], unique=False, postgresql_where=sa.text('escalate_at IS NOT NULL'))
    op.create_index('ix_reference_questions_faq_vector', 'reference_questions', ['faq_vector'], unique=False, postgresql_using='gin')
    op.create_table('saved_lists',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('share_token', sa.String(length=43), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_saved_lists_owner_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_lists')),
    sa.UniqueConstraint('share_token', name=op.f('uq_saved_lists_share_token'))
    )
    op.create_index(op.f('ix_saved_lists_owner_id'), 'saved_lists', ['owner_id'], unique=False)
    op.create_table('holds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reader_id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.BigInteger(), nullable=False),
    sa.Column('holding_id', sa.BigInteger(), nullable=True),
    sa.Column('library_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ready_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('placed', 'ready', 'collected', 'cancelled', 'expired')", name=op.f('ck_holds_known_status')),
    sa.ForeignKeyConstraint(['holding_id'], ['holdings.id'], name=op.f('fk_holds_holding_id_holdings'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['library_id'], ['libraries.id'], name=op.f('fk_holds_library_id_libraries')),
    sa.ForeignKeyConstraint(['reader_id'], ['users.id'], name=op.f('fk_holds_reader_id_users')),
    sa.ForeignKeyConstraint(['record_id'], ['records.id'], name=op.f('fk_holds_record_id_records')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_holds'))
    )
    op.create_index('ix_holds_library_status', 'holds', ['library_id', 'status'], unique=False)
    op.create_index('uq_holds_one_live_per_reader_record', 'holds', ['reader_id', 'record_id'], unique=True, postgresql_where=sa.text("status IN ('placed', 'ready')"))
    op.create_table('ill_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reader_id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.BigInteger(), nullable=False),
    sa.Column('holding_id', sa.BigInteger(), nullable=False),
    sa.Column('lending_library_id', sa.Integer(), nullable=False),
    sa.Column('home_library_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('renewals', sa.Integer(), nullable=False),
    sa.Column('remind_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('overdue_notices', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('requested', 'approved', 'refused', 'shipped', 'received', 'on_loan', 'returned', 'back_at_lender', 'closed', 'cancelled')", name=op.f('ck_ill_requests_known_status')),
    sa.CheckConstraint('lending_library_id <> home_library_id', name=op.f('ck_ill_requests_between_libraries')),
    sa.ForeignKeyConstraint(['holding_id'], ['holdings.id'], name=op.f('fk_ill_requests_holding_id_holdings')),
    sa.ForeignKeyConstraint(['home_library_id'], ['libraries.id'], name=op.f('fk_ill_requests_home_library_id_libraries')),
    sa.ForeignKeyConstraint(['lending_library_id'], ['libraries.id'], name=op.f('fk_ill_requests_lending_library_id_libraries')),
    sa.ForeignKeyConstraint(['reader_id'], ['users.id'], name=op.f('fk_ill_requests_reader_id_users')),
    sa.ForeignKeyConstraint(['record_id'], ['records.id'], name=op.f('fk_ill_requests_record_id_records')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ill_requests'))
    )
    op.create_index('ix_ill_requests_home_status', 'ill_requests', ['home_library_id', 'status'], unique=False)
    op.create_index('ix_ill_requests_lending_status', 'ill_requests', ['lending_library_id', 'status'], unique=False)
    op.create_index('ix_ill_requests_reader', 'ill_requests', ['reader_id'], unique=False)
    op.create_index('ix_ill_requests_remind_at', 'ill_requests', ['remind_at'], unique=False, postgresql_where=sa.text('remind_at IS NOT NULL'))
    op.create_index('uq_ill_requests_one_open_per_copy', 'ill_requests', ['holding_id'], unique=True, postgresql_where=sa.text("status IN ('requested', 'approved', 'shipped', 'received', 'on_loan', 'returned', 'back_at_lender')"))
    op.create_table('preview_pages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('file_id', sa.Integer(), nullable=False),
    sa.Column('caption', sa.String(length=200), nullable=True),
    sa.Column('library_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('cover', 'front', 'toc', 'sample')", name=op.f('ck_preview_pages_known_kind')),
    sa.ForeignKeyConstraint(['file_id'], ['stored_files.id'], name=op.f('fk_preview_pages_file_id_stored_files')),
    sa.ForeignKeyConstraint(['library_id'], ['libraries.id'], name=op.f('fk_preview_pages_library_id_libraries')),
    sa.ForeignKeyConstraint(['record_id'], ['records.id'], name=op.f('fk_preview_pages_record_id_records'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_preview_pages_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_preview_pages'))
    )
    op.create_index('ix_preview_pages_record', 'preview_pages', ['record_id', 'kind', 'position'], unique=False)
    op.create_table('reference_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('library_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('attachment_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['attachment_id'], ['stored_files.id'], name=op.f('fk_reference_messages_attachment_id_stored_files')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_reference_messages_author_id_users')),
    sa.ForeignKeyConstraint(['library_id'], ['libraries.id'], name=op.f('fk_reference_messages_library_id_libraries')),
    sa.ForeignKeyConstraint(['question_id'], ['reference_questions.id'], name=op.f('fk_reference_messages_question_id_reference_questions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reference_messages'))
    )
    op.create_index(op.f('ix_reference_messages_question_id'), 'reference_messages', ['question_id'], unique=False)
    op.create_table('saved_list_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('list_id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.BigInteger(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['list_id'], ['saved_lists.id'], name=op.f('fk_saved_list_items_list_id_saved_lists'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['record_id'], ['records.id'], name=op.f('fk_saved_list_items_record_id_records'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_list_items')),
    sa.UniqueConstraint('list_id', 'record_id', name=op.f('uq_saved_list_items_list_id_record_id'))
    )
    op.create_table('union_loans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reader_id', sa.Integer(), nullable=False),
    sa.Column('card_id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.BigInteger(), nullable=True),
    sa.Column('holding_id', sa.BigInteger(), nullable=True),
    sa.Column('item_barcode', sa.String(length=60), nullable=False),
    sa.Column('lending_library_id', sa.Integer(), nullable=False),
    sa.Column('return_library_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('borrowed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('returned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('arrived_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('remind_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('overdue_notices', sa.Integer(), nullable=False),
    sa.Column('lent_by_id', sa.Integer(), nullable=True),
    sa.Column('returned_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("status IN ('on_loan', 'in_transit', 'closed')", name=op.f('ck_union_loans_known_status')),
    sa.ForeignKeyConstraint(['card_id'], ['interlibrary_cards.id'], name=op.f('fk_union_loans_card_id_interlibrary_cards')),
    sa.ForeignKeyConstraint(['holding_id'], ['holdings.id'], name=op.f('fk_union_loans_holding_id_holdings')),
    sa.ForeignKeyConstraint(['lending_library_id'], ['libraries.id'], name=op.f('fk_union_loans_lending_library_id_libraries')),
    sa.ForeignKeyConstraint(['lent_by_id'], ['users.id'], name=op.f('fk_union_loans_lent_by_id_users')),
    sa.ForeignKeyConstraint(['reader_id'], ['users.id'], name=op.f('fk_union_loans_reader_id_users')),
    sa.ForeignKeyConstraint(['record_id'], ['records.id'], name=op.f('fk_union_loans_record_id_records')),
    sa.ForeignKeyConstraint(['return_library_id'], ['libraries.id'], name=op.f('fk_union_loans_return_library_id_libraries')),
    sa.ForeignKeyConstraint(['returned_by_id'], ['users.id'], name=op.f('fk_union_loans_returned_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_union_loans'))
    )
    op.create_index('ix_union_loans_reader', 'union_loans', ['reader_id'], unique=False)
    op.create_index('ix_union_loans_remind_at', 'union_loans', ['remind_at'], unique=False, postgresql_where=sa.text('remind_at IS NOT NULL'))
    op.create_index('uq_union_loans_one_open_per_item', 'union_loans', ['lending_library_id', 'item_barcode'], unique=True, postgresql_where=sa.text("status IN ('on_loan', 'in_transit')"))
    op.create_table('ill_events',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('from_status', sa.String(length=16), nullable=True),
    sa.Column('to_status', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('library_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_ill_events_actor_id_users')),
    sa.ForeignKeyConstraint(['library_id'], ['libraries.id'], name=op.f('fk_ill_events_library_id_libraries')),
    sa.ForeignKeyConstraint(['request_id'], ['ill_requests.id'], name=op.f('fk_ill_events_request_id_ill_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ill_events'))
    )
    op.create_index(op.f('ix_ill_events_request_id'), 'ill_events', ['request_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_ill_events_request_id'), table_name='ill_events')
    op.drop_table('ill_events')
    op.drop_index('uq_union_loans_one_open_per_item', table_name='union_loans', postgresql_where=sa.text("status IN ('on_loan', 'in_transit')"))
    op.drop_index('ix_union_loans_remind_at', table_name='union_loans', postgresql_where=sa.text('remind_at IS NOT NULL'))
    op.drop_index('ix_union_loans_reader', table_name='union_loans')
    op.drop_table('union_loans')
    op.drop_table('saved_list_items')
    op.drop_index(op.f('ix_reference_messages_question_id'), table_name='reference_messages')
    op.drop_table('reference_messages')
    op.drop_index('ix_preview_pages_record', table_name='preview_pages')
    op.drop_table('preview_pages')
    op.drop_index('uq_ill_requests_one_open_per_copy', table_name='ill_requests', postgresql_where=sa.text("status IN ('requested', 'approved', 'shipped', 'received', 'on_loan', 'returned', 'back_at_lender')"))
    op.drop_index('ix_ill_requests_remind_at', table_name='ill_requests', postgresql_where=sa.text('remind_at IS NOT NULL'))
    op.drop_index('ix_ill_requests_reader', table_name='ill_requests')
    op.drop_index('ix_ill_requests_lending_status', table_name='ill_requests')
    op.drop_index('ix_ill_requests_home_status', table_name='ill_requests')
    op.drop_table('ill_requests')
    op.drop_index('uq_holds_one_live_per_reader_record', table_name='holds', postgresql_where=sa.text("status IN ('placed', 'ready')"))
    op.drop_index('ix_holds_library_status', table_name='holds')
    op.drop_table('holds')
    op.drop_index(op.f('ix_saved_lists_owner_id'), table_name='saved_lists')
    op.drop_table('saved_lists')
    op.drop_index('ix_reference_questions_faq_vector', table_name='reference_questions', postgresql_using='gin')
    op.drop_index('ix_reference_questions_escalate_at', table_name='reference_questions', postgresql_where=sa.text('escalate_at IS NOT NULL'))
    op.drop_index(op.f('ix_reference_questions_asker_id'), table_name='reference_questions')
    op.drop_table('reference_questions')
    op.drop_table('link_resolvers')
    op.drop_index('uq_interlibrary_cards_one_live', table_name='interlibrary_cards', postgresql_where=sa.text("status IN ('requested', 'approved')"))
    op.drop_table('interlibrary_cards')
