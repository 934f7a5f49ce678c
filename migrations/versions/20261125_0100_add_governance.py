"""add governance: membership, committee offices, meetings and votes, handovers, the center's work

Triggers make the vote rules hold under concurrency: a vote needs an open item of a convened
meeting and a checked-in library (the item row is locked FOR SHARE, so a vote and the close
of its item are serialised), and a closed item and its votes never change.

Revision ID: 91f78bce57e9
Revises: 522d2e292c92
Create Date: 2026-11-25 01:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '91f78bce57e9'
down_revision = '522d2e292c92'
branch_labels = None
depends_on = None


VOTE_RULES = """
CREATE FUNCTION jala_vote_rules() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    item record;
BEGIN
    SELECT i.status, i.kind, i.meeting_id, m.status AS meeting_status INTO item
      FROM agenda_items i JOIN meetings m ON m.id = i.meeting_id
     WHERE i.id = NEW.item_id
       FOR SHARE OF i;
    IF item.status IS DISTINCT FROM 'open' THEN
        RAISE EXCEPTION 'vote refused: agenda item % is closed', NEW.item_id
            USING ERRCODE = 'check_violation';
    END IF;
    IF item.kind = 'information' OR item.meeting_status <> 'convened' THEN
        RAISE EXCEPTION 'vote refused: agenda item % takes no vote now', NEW.item_id
            USING ERRCODE = 'check_violation';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM attendance a
                    WHERE a.meeting_id = item.meeting_id AND a.library_id = NEW.library_id) THEN
        RAISE EXCEPTION 'vote refused: library % has not checked in', NEW.library_id
            USING ERRCODE = 'check_violation';
    END IF;
    IF TG_OP = 'UPDATE' AND (NEW.item_id <> OLD.item_id OR NEW.library_id <> OLD.library_id) THEN
        RAISE EXCEPTION 'vote refused: a vote stays on its item and library'
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER vote_rules BEFORE INSERT OR UPDATE ON votes
    FOR EACH ROW EXECUTE FUNCTION jala_vote_rules();
"""

CLOSED_ITEMS_ARE_FINAL = """
CREATE FUNCTION jala_closed_items_are_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'closed' THEN
        RAISE EXCEPTION 'agenda item % is closed: its result never changes', OLD.id
            USING ERRCODE = 'check_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER closed_items_are_final BEFORE UPDATE OR DELETE ON agenda_items
    FOR EACH ROW EXECUTE FUNCTION jala_closed_items_are_final();

CREATE FUNCTION jala_closed_item_votes_are_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM agenda_items WHERE id = OLD.item_id AND status = 'closed') THEN
        RAISE EXCEPTION 'votes on closed agenda item % never change', OLD.item_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN OLD;
END $$;
CREATE TRIGGER closed_item_votes_are_final BEFORE DELETE ON votes
    FOR EACH ROW EXECUTE FUNCTION jala_closed_item_votes_are_final();
"""


def upgrade():
    op.create_table('cost_shares',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('library_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=True),
    sa.CheckConstraint('amount >= 0', name=op.f('ck_cost_shares_not_negative')),
    sa.ForeignKeyConstraint(['library_id'], ['libraries.id'], name=op.f('fk_cost_shares_library_id_libraries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cost_shares')),
    sa.UniqueConstraint('year', 'library_id', name=op.f('uq_cost_shares_year_library_id'))
    )
    op.create_table('annual_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('library_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("kind IN ('plan', 'report')", name=op.f('ck_annual_documents_known_kind')),
    sa.ForeignKeyConstraint(['library_id'], ['libraries.id'], name=op.f('fk_annual_documents_library_id_libraries')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_annual_documents_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_annual_documents')),
    sa.UniqueConstraint('year', 'kind', name=op.f('uq_annual_documents_year_kind'))
    )
    op.create_table('handovers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('from_library_id', sa.Integer(), nullable=False),
    sa.Column('to_library_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('started_by_id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('accepted_by_id', sa.Integer(), nullable=True),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.CheckConstraint("status IN ('open', 'accepted', 'cancelled')", name=op.f('ck_handovers_known_status')),
    sa.ForeignKeyConstraint(['accepted_by_id'], ['users.id'], name=op.f('fk_handovers_accepted_by_id_users')),
    sa.ForeignKeyConstraint(['from_library_id'], ['libraries.id'], name=op.f('fk_handovers_from_library_id_libraries')),
    sa.ForeignKeyConstraint(['started_by_id'], ['users.id'], name=op.f('fk_handovers_started_by_id_users')),
    sa.ForeignKeyConstraint(['to_library_id'], ['libraries.id'], name=op.f('fk_handovers_to_library_id_libraries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handovers'))
    )
    op.create_index('uq_handovers_one_open', 'handovers', ['status'], unique=True, postgresql_where=sa.text("status = 'open'"))
    op.create_table('meetings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=True),
    sa.Column('online_url', sa.String(length=500), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('convened_via', sa.String(length=10), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('presiding_id', sa.Integer(), nullable=True),
    sa.Column('convened_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('minutes_note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("convened_via IN ('chair', 'vice_chair', 'joint')", name=op.f('ck_meetings_known_via')),
    sa.CheckConstraint("status IN ('requested', 'convened', 'closed')", name=op.f('ck_meetings_known_status')),
    sa.CheckConstraint('place IS NOT NULL OR online_url IS NOT NULL', name=op.f('ck_meetings_place_or_link')),
    sa.ForeignKeyConstraint(['presiding_id'], ['users.id'], name=op.f('fk_meetings_presiding_id_users')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_meetings_requested_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meetings'))
    )
    op.create_table('working_group_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group', sa.String(length=20), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('is_lead', sa.Boolean(), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('"group" IN (\'resources\', \'reader_services\', \'it\', \'reference\')', name=op.f('ck_working_group_members_known_group')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_working_group_members_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_working_group_members')),
    sa.UniqueConstraint('group', 'user_id', name=op.f('uq_working_group_members_group_user_id'))
    )
    op.create_table('attendance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('library_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('mode', sa.String(length=10), nullable=False),
    sa.Column('checked_in_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("mode IN ('in_person', 'online')", name=op.f('ck_attendance_known_mode')),
    sa.ForeignKeyConstraint(['library_id'], ['libraries.id'], name=op.f('fk_attendance_library_id_libraries')),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_attendance_meeting_id_meetings')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_attendance_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attendance')),
    sa.UniqueConstraint('meeting_id', 'library_id', name=op.f('uq_attendance_meeting_id_library_id'))
    )
    op.create_table('meeting_signatures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('library_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['library_id'], ['libraries.id'], name=op.f('fk_meeting_signatures_library_id_libraries')),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_meeting_signatures_meeting_id_meetings')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_meeting_signatures_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_signatures')),
    sa.UniqueConstraint('meeting_id', 'library_id', name=op.f('uq_meeting_signatures_meeting_id_library_id'))
    )
    op.create_table('membership_applications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name_zh', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=True),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('city', sa.String(length=50), nullable=False),
    sa.Column('website', sa.String(length=200), nullable=True),
    sa.Column('contact_name', sa.String(length=100), nullable=False),
    sa.Column('contact_email', sa.String(length=254), nullable=False),
    sa.Column('contact_phone', sa.String(length=40), nullable=True),
    sa.Column('letter_file_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('review_note', sa.Text(), nullable=True),
    sa.Column('library_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('submitted', 'returned', 'complete', 'on_agenda', 'admitted', 'rejected')", name=op.f('ck_membership_applications_known_status')),
    sa.ForeignKeyConstraint(['letter_file_id'], ['stored_files.id'], name=op.f('fk_membership_applications_letter_file_id_stored_files')),
    sa.ForeignKeyConstraint(['library_id'], ['libraries.id'], name=op.f('fk_membership_applications_library_id_libraries')),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], name=op.f('fk_membership_applications_reviewed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_membership_applications'))
    )
    op.create_table('agenda_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('application_id', sa.Integer(), nullable=True),
    sa.Column('target_library_id', sa.Integer(), nullable=True),
    sa.Column('target_user_id', sa.Integer(), nullable=True),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('yes', sa.Integer(), nullable=True),
    sa.Column('no', sa.Integer(), nullable=True),
    sa.Column('abstain', sa.Integer(), nullable=True),
    sa.Column('attending', sa.Integer(), nullable=True),
    sa.Column('passed', sa.Boolean(), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("kind IN ('application', 'revocation', 'resolution', 'charter_amendment', 'elect_chair', 'remove_chair', 'elect_vice_chair', 'remove_vice_chair', 'rotation_order', 'budget', 'expense', 'information')", name=op.f('ck_agenda_items_known_kind')),
    sa.CheckConstraint("status = 'open' OR kind = 'information' OR (yes IS NOT NULL AND attending IS NOT NULL AND passed IS NOT NULL)", name=op.f('ck_agenda_items_closed_has_tally')),
    sa.CheckConstraint("status IN ('open', 'closed')", name=op.f('ck_agenda_items_known_status')),
    sa.ForeignKeyConstraint(['application_id'], ['membership_applications.id'], name=op.f('fk_agenda_items_application_id_membership_applications')),
    sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_agenda_items_closed_by_id_users')),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_agenda_items_meeting_id_meetings')),
    sa.ForeignKeyConstraint(['target_library_id'], ['libraries.id'], name=op.f('fk_agenda_items_target_library_id_libraries')),
    sa.ForeignKeyConstraint(['target_user_id'], ['users.id'], name=op.f('fk_agenda_items_target_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agenda_items')),
    sa.UniqueConstraint('meeting_id', 'position', name=op.f('uq_agenda_items_meeting_id_position'))
    )
    op.create_index(op.f('ix_agenda_items_meeting_id'), 'agenda_items', ['meeting_id'], unique=False)
    op.create_table('membership_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('library_id', sa.Integer(), nullable=True),
    sa.Column('application_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('on', sa.Date(), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('applied', 'admitted', 'rejected', 'withdrew', 'revoked')", name=op.f('ck_membership_events_known_kind')),
    sa.ForeignKeyConstraint(['application_id'], ['membership_applications.id'], name=op.f('fk_membership_events_application_id_membership_applications')),
    sa.ForeignKeyConstraint(['library_id'], ['libraries.id'], name=op.f('fk_membership_events_library_id_libraries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_membership_events'))
    )
    op.create_table('committee_offices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('office', sa.String(length=10), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('library_id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('elected_by_item_id', sa.Integer(), nullable=True),
    sa.Column('ended_by_item_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("office IN ('chair', 'vice_chair')", name=op.f('ck_committee_offices_known_office')),
    sa.ForeignKeyConstraint(['elected_by_item_id'], ['agenda_items.id'], name=op.f('fk_committee_offices_elected_by_item_id_agenda_items')),
    sa.ForeignKeyConstraint(['ended_by_item_id'], ['agenda_items.id'], name=op.f('fk_committee_offices_ended_by_item_id_agenda_items')),
    sa.ForeignKeyConstraint(['library_id'], ['libraries.id'], name=op.f('fk_committee_offices_library_id_libraries')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_committee_offices_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_committee_offices'))
    )
    op.create_index('uq_committee_offices_one_chair', 'committee_offices', ['office'], unique=True, postgresql_where=sa.text("office = 'chair' AND ended_at IS NULL"))
    op.create_index('uq_committee_offices_one_office_per_user', 'committee_offices', ['user_id', 'office'], unique=True, postgresql_where=sa.text('ended_at IS NULL'))
    op.create_table('expenses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('spent_on', sa.Date(), nullable=False),
    sa.Column('description', sa.String(length=300), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('approved_by_item_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('amount > 0', name=op.f('ck_expenses_positive')),
    sa.ForeignKeyConstraint(['approved_by_item_id'], ['agenda_items.id'], name=op.f('fk_expenses_approved_by_item_id_agenda_items')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_expenses_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_expenses'))
    )
    op.create_index(op.f('ix_expenses_year'), 'expenses', ['year'], unique=False)
    op.create_table('votes',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('library_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('choice', sa.String(length=8), nullable=False),
    sa.Column('cast_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("choice IN ('yes', 'no', 'abstain')", name=op.f('ck_votes_known_choice')),
    sa.ForeignKeyConstraint(['item_id'], ['agenda_items.id'], name=op.f('fk_votes_item_id_agenda_items')),
    sa.ForeignKeyConstraint(['library_id'], ['libraries.id'], name=op.f('fk_votes_library_id_libraries')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_votes_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_votes')),
    sa.UniqueConstraint('item_id', 'library_id', name=op.f('uq_votes_item_id_library_id'))
    )
    op.execute(VOTE_RULES)
    op.execute(CLOSED_ITEMS_ARE_FINAL)
    op.create_table('withdrawals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('library_id', sa.Integer(), nullable=False),
    sa.Column('notice_file_id', sa.Integer(), nullable=False),
    sa.Column('effective_on', sa.Date(), nullable=False),
    sa.Column('submitted_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reported_item_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['library_id'], ['libraries.id'], name=op.f('fk_withdrawals_library_id_libraries')),
    sa.ForeignKeyConstraint(['notice_file_id'], ['stored_files.id'], name=op.f('fk_withdrawals_notice_file_id_stored_files')),
    sa.ForeignKeyConstraint(['reported_item_id'], ['agenda_items.id'], name=op.f('fk_withdrawals_reported_item_id_agenda_items')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_withdrawals_submitted_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_withdrawals')),
    sa.UniqueConstraint('library_id', name=op.f('uq_withdrawals_library_id'))
    )
    op.add_column('chair_terms', sa.Column('took_office_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('chair_terms', sa.Column('approved_by_item_id', sa.Integer(), nullable=True))
    op.execute(
        "UPDATE chair_terms SET took_office_at = make_timestamptz(year, 1, 1, 0, 0, 0, "
        "'Asia/Shanghai')")


def downgrade():
    op.execute("DROP TRIGGER IF EXISTS closed_items_are_final ON agenda_items")
    op.execute("DROP TRIGGER IF EXISTS closed_item_votes_are_final ON votes")
    op.execute("DROP TRIGGER IF EXISTS vote_rules ON votes")
    op.execute("DROP FUNCTION IF EXISTS jala_closed_items_are_final()")
    op.execute("DROP FUNCTION IF EXISTS jala_closed_item_votes_are_final()")
    op.execute("DROP FUNCTION IF EXISTS jala_vote_rules()")
    op.drop_column('chair_terms', 'approved_by_item_id')
    op.drop_column('chair_terms', 'took_office_at')
    op.drop_table('withdrawals')
    op.drop_table('votes')
    op.drop_index(op.f('ix_expenses_year'), table_name='expenses')
    op.drop_table('expenses')
    op.drop_index('uq_committee_offices_one_office_per_user', table_name='committee_offices', postgresql_where=sa.text('ended_at IS NULL'))
    op.drop_index('uq_committee_offices_one_chair', table_name='committee_offices', postgresql_where=sa.text("office = 'chair' AND ended_at IS NULL"))
    op.drop_table('committee_offices')
    op.drop_table('membership_events')
    op.drop_index(op.f('ix_agenda_items_meeting_id'), table_name='agenda_items')
    op.drop_table('agenda_items')
    op.drop_table('membership_applications')
    op.drop_table('meeting_signatures')
    op.drop_table('attendance')
    op.drop_table('working_group_members')
    op.drop_table('meetings')
    op.drop_index('uq_handovers_one_open', table_name='handovers', postgresql_where=sa.text("status = 'open'"))
    op.drop_table('handovers')
    op.drop_table('annual_documents')
    op.drop_table('cost_shares')
