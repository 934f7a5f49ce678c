"""Reference desk rules, without HTTP: who may ask, claim, answer and see; timers; statistics."""
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import delete, select

from jala import clock
from jala.audit import AuditEntry
from jala.errors import NotAllowed, NotFound, RuleViolation
from jala.extensions import db
from jala.files import StoredFile
from jala.governance.models import WorkingGroupMember
from jala.membership import get_library
from jala.reference import escalation
from jala.reference import services as reference
from jala.reference.group import is_reference_librarian
from jala.reference.models import Question
from jala.reference.stats import COLUMNS, monthly_stats
from jala.settings import change_setting
from jala.stats import csv_text
from tests.support.factories import make_portal_admin, make_user
from tests.support.files import PDF, PNG, Upload
from tests.support.mail import emails_to
from tests.support.reference import join_group


def ask(user, subject="馆际互借怎么申请？", body="我想借一本南昌大学图书馆的书，怎么办？",
        upload=None):
    return reference.ask_question(user, subject=subject, body=body, upload=upload)


# --- who may ask ------------------------------------------------------------------------------

def test_a_verified_reader_asks_and_the_question_waits_for_the_group(reader, group):
    question = ask(reader)
    assert question.status == "open" and question.asker_id == reader.id
    assert question.claimed_by_id is None and question.first_response_at is None
    assert question.escalate_at == question.created_at + timedelta(hours=24)
    [message] = question.messages
    assert message.author_id == reader.id and message.library_id is None
    assert question in reference.desk_questions(group["ecjtu"], "unclaimed")


def test_a_public_user_with_a_confirmed_email_may_ask(ctx):
    public = make_user(library=None)
    assert ask(public).asker_id == public.id


def test_an_unconfirmed_email_cannot_ask(ctx):
    with pytest.raises(RuleViolation, match="Confirm your email"):
        ask(make_user(library=None, confirmed=False))


def test_an_unverified_reader_cannot_ask(ctx):
    with pytest.raises(RuleViolation, match="not been verified"):
        ask(make_user(library="JXUFE", verified=False))


def test_readers_of_a_withdrawn_library_cannot_ask_or_reply(reader, group):
    question = ask(reader)
    get_library("JXUFE").left_on = date(2025, 1, 1)
    with pytest.raises(RuleViolation, match="left the alliance"):
        ask(reader)
    with pytest.raises(RuleViolation, match="left the alliance"):
        reference.reply_to_question(reader, question.id, "还在吗？")
    # what they asked before stays theirs to read
    assert reference.get_question(reader, question.id) is question


def test_the_daily_limit_of_questions(reader):
    change_setting("reference.questions_per_day", "2", make_portal_admin())
    ask(reader)
    ask(reader)
    with pytest.raises(RuleViolation, match="daily limit"):
        ask(reader)
    clock.advance(timedelta(days=1))
    assert ask(reader).id


def test_subject_and_question_are_required(reader):
    with pytest.raises(RuleViolation, match="subject"):
        ask(reader, subject="  ")
    with pytest.raises(RuleViolation, match="Write your question"):
        ask(reader, body="")


# --- attachments ----------------------------------------------------------------------------

def test_a_pdf_or_a_picture_is_attached_checked_by_content(reader):
    question = ask(reader, upload=Upload(PDF, "借书证.pdf"))
    stored = question.messages[0].attachment
    assert stored.content_type == "application/pdf" and stored.original_name == "借书证.pdf"
    picture = ask(reader, upload=Upload(PNG, "screenshot.jpg")).messages[0].attachment
    assert picture.content_type == "image/png"  # the content decides, not the name


def test_a_file_that_only_claims_to_be_a_pdf_is_refused(reader):
    before = db.session.execute(select(StoredFile.id).order_by(StoredFile.id.desc())
                                .limit(1)).scalar()
    savepoint = db.session.begin_nested()
    with pytest.raises(RuleViolation, match="not a valid PDF, PNG, JPEG, WEBP"):
        ask(reader, upload=Upload(b"<html><script>alert(1)</script>", "evil.pdf"))
    savepoint.rollback()
    after = db.session.execute(select(StoredFile.id).order_by(StoredFile.id.desc())
                               .limit(1)).scalar()
    assert after == before
    assert reference.my_questions(reader) == []


def test_attachments_are_for_the_asker_and_the_group_only(reader, group):
    question = ask(reader, upload=Upload(PDF))
    message_id = question.messages[0].id
    assert reference.attachment_of(reader, question.id, message_id).content_type == \
        "application/pdf"
    assert reference.attachment_of(group["ecjtu"], question.id, message_id) is not None
    for outsider in (make_user(library="JXUFE"), group["outsider"]):
        with pytest.raises(NotFound):
            reference.attachment_of(outsider, question.id, message_id)
    other = ask(make_user(library="NCU"), upload=Upload(PNG, "x.png"))
    # a message of another question through this question's address: not found either
    with pytest.raises(NotFound):
        reference.attachment_of(reader, question.id, other.messages[0].id)


# --- who may see ------------------------------------------------------------------------------

def test_only_the_asker_and_the_group_see_a_question(reader, group):
    question = ask(reader)
    assert reference.get_question(reader, question.id) is question
    assert reference.get_question(group["ncu"], question.id) is question
    for outsider in (make_user(library="JXUFE"), make_user(library=None), group["outsider"]):
        with pytest.raises(NotFound):
            reference.get_question(outsider, question.id)
    with pytest.raises(NotAllowed):
        reference.desk_questions(group["outsider"])


def test_a_group_member_whose_library_left_no_longer_counts(reader, group):
    question = ask(reader)
    get_library("ECJTU").left_on = date(2025, 1, 1)
    assert not is_reference_librarian(group["ecjtu"])
    with pytest.raises(NotFound):
        reference.get_question(group["ecjtu"], question.id)
    with pytest.raises(NotAllowed):
        reference.claim_question(group["ecjtu"], question.id)


def test_a_reader_in_the_group_table_is_not_a_librarian(reader):
    join_group(reader)  # the governance service refuses this; the rule holds here too
    assert not is_reference_librarian(reader)


# --- claiming and answering -------------------------------------------------------------------

def test_one_claimant_at_a_time(reader, group):
    question = ask(reader)
    reference.claim_question(group["ecjtu"], question.id)
    assert question.claimed_by_id == group["ecjtu"].id
    assert question.claimed_library_id == get_library("ECJTU").id
    with pytest.raises(RuleViolation, match="already been claimed by ECJTU Librarian") as exc:
        reference.claim_question(group["ncu"], question.id)
    assert exc.value.status == 409
    with pytest.raises(NotAllowed):
        reference.claim_question(group["outsider"], question.id)
    assert reference.claim_question(group["ecjtu"], question.id) is question  # again: no-op
    assert db.session.execute(select(AuditEntry).where(
        AuditEntry.action == "reference.claim", AuditEntry.object_id == str(question.id))
    ).scalars().all()[0].actor_id == group["ecjtu"].id


def test_a_librarian_does_not_answer_their_own_question(group):
    question = ask(group["ncu"])
    with pytest.raises(RuleViolation, match="asked this question yourself"):
        reference.claim_question(group["ncu"], question.id)
    assert reference.can_do(group["ncu"], question)["claim"] is False


def test_the_claimant_answers_and_the_reader_is_emailed_a_link(reader, group, app):
    clock.freeze(clock.now())
    question = ask(reader)
    reference.claim_question(group["ecjtu"], question.id)
    clock.advance(timedelta(hours=3))
    reference.answer_question(group["ecjtu"], question.id, "请在“馆际互借”页面提交申请。",
                              upload=Upload(PDF, "guide.pdf"))
    answer = question.messages[-1]
    assert answer.library_id == get_library("ECJTU").id
    assert answer.attachment.original_name == "guide.pdf"
    assert question.status == "answered" and question.escalate_at is None
    assert question.first_response_at - question.created_at == timedelta(hours=3)
    [mail] = emails_to(reader.email)
    assert mail.kind == "reference.answer"
    assert f"/reference/questions/{question.id}" in mail.body_text
    assert "请在“馆际互借”页面提交申请。" in mail.body_text
    # a second answer keeps the first-response time
    clock.advance(timedelta(hours=1))
    reference.answer_question(group["ecjtu"], question.id, "补充：通常三天内到馆。")
    assert question.first_response_at - question.created_at == timedelta(hours=3)


def test_only_the_claimant_answers(reader, group):
    question = ask(reader)
    reference.claim_question(group["ecjtu"], question.id)
    with pytest.raises(RuleViolation, match="claimed by ECJTU Librarian"):
        reference.answer_question(group["ncu"], question.id, "我来回答")
    with pytest.raises(NotAllowed):
        reference.answer_question(group["outsider"], question.id, "我来回答")
    assert len(question.messages) == 1


def test_answering_an_unclaimed_question_claims_it(reader, group):
    question = ask(reader)
    reference.answer_question(group["ncu"], question.id, "可以。")
    assert question.claimed_by_id == group["ncu"].id
    assert question.messages[-1].library_id == get_library("NCU").id


def test_the_reader_replies_and_the_claimant_is_emailed(reader, group):
    question = ask(reader)
    reference.answer_question(group["ncu"], question.id, "你的借书证号是多少？")
    reference.reply_to_question(reader, question.id, "证号在附件里。", upload=Upload(PNG, "c.png"))
    assert question.status == "open"
    assert reference.status_label(question) == "reader replied"
    assert question.messages[-1].library_id is None
    [mail] = emails_to(group["ncu"].email, "reference.reply")
    assert "证号在附件里。" in mail.body_text
    assert question in reference.desk_questions(group["ncu"], "mine")
    assert question in reference.desk_questions(group["ecjtu"], "waiting")


def test_nobody_else_replies_in_a_readers_thread(reader, group):
    question = ask(reader)
    with pytest.raises(NotFound):
        reference.reply_to_question(make_user(library="JXUFE"), question.id, "我也想知道")
    with pytest.raises(NotFound):
        reference.reply_to_question(group["ncu"], question.id, "librarians answer instead")


def test_a_reply_when_the_claimant_has_left_the_group_goes_back_to_everyone(reader, group):
    question = ask(reader)
    reference.answer_question(group["ecjtu"], question.id, "请稍等。")
    db.session.execute(delete(WorkingGroupMember).where(
        WorkingGroupMember.user_id == group["ecjtu"].id))
    reference.reply_to_question(reader, question.id, "好的")
    assert question.claimed_by_id is None
    assert question in reference.desk_questions(group["ncu"], "unclaimed")
    assert emails_to(group["ecjtu"].email, "reference.reply") == []


def test_release_by_the_claimant_or_the_lead_only(reader, group):
    question = ask(reader)
    reference.claim_question(group["ecjtu"], question.id)
    with pytest.raises(NotAllowed):
        reference.release_question(group["ncu"], question.id)
    reference.release_question(group["lead"], question.id)
    assert question.claimed_by_id is None and question.claimed_library_id is None
    reference.claim_question(group["ncu"], question.id)
    reference.release_question(group["ncu"], question.id)
    assert question.claimed_by_id is None


def test_closing_by_the_reader_or_the_claimant(reader, group):
    first = ask(reader)
    reference.close_question(reader, first.id)
    assert first.status == "closed" and first.escalate_at is None
    with pytest.raises(RuleViolation, match="closed"):
        reference.reply_to_question(reader, first.id, "再问一下")
    with pytest.raises(RuleViolation, match="closed"):
        reference.claim_question(group["ncu"], first.id)
    second = ask(reader)
    reference.claim_question(group["ecjtu"], second.id)
    with pytest.raises(NotAllowed):
        reference.close_question(group["ncu"], second.id)
    with pytest.raises(NotFound):
        reference.close_question(make_user(library="JXUFE"), second.id)
    reference.close_question(group["ecjtu"], second.id)
    assert second.status == "closed"


# --- the escalation timer ---------------------------------------------------------------------

def test_an_unanswered_question_escalates_once_to_the_whole_group(reader, group):
    clock.freeze(clock.now())
    question = ask(reader)
    answered = ask(make_user(library="JXAU"))
    reference.answer_question(group["ncu"], answered.id, "已回答")
    clock.advance(timedelta(hours=23, minutes=59))
    escalation.escalate_unanswered_questions()
    assert question.escalated_at is None
    clock.advance(timedelta(minutes=1, seconds=1))
    assert escalation.escalate_unanswered_questions() >= 1
    assert question.escalated_at == clock.now() and question.escalate_at is None
    assert answered.escalated_at is None
    for person in (group["ncu"], group["ecjtu"], group["lead"]):
        [mail] = emails_to(person.email, "reference.escalated")
        assert f"/reference/questions/{question.id}" in mail.body_text
    # written by the sweeper, so in each person's own language: Chinese unless they chose
    assert "组长" in emails_to(group["lead"].email, "reference.escalated")[0].body_text
    assert emails_to(group["outsider"].email) == []
    clock.advance(timedelta(days=3))
    escalation.escalate_unanswered_questions()
    assert len(emails_to(group["ncu"].email, "reference.escalated")) == 1
    assert question in reference.desk_questions(group["ecjtu"], "unclaimed")[:1]


def test_the_escalation_time_is_a_setting(reader, group):
    change_setting("reference.escalate_hours", "2", make_portal_admin())
    question = ask(reader)
    assert question.escalate_at == question.created_at + timedelta(hours=2)
    clock.advance(timedelta(hours=2, seconds=1))
    escalation.escalate_unanswered_questions()
    assert question.escalated_at is not None


def test_a_claimed_but_unanswered_question_still_escalates(reader, group):
    question = ask(reader)
    reference.claim_question(group["ecjtu"], question.id)
    clock.advance(timedelta(hours=25))
    escalation.escalate_unanswered_questions()
    assert question.escalated_at is not None
    assert "ECJTU Librarian" in emails_to(group["ncu"].email)[0].body_text


def test_with_nobody_in_the_group_the_management_center_hears_of_it(reader):

    db.session.execute(delete(WorkingGroupMember).where(WorkingGroupMember.group == "reference"))
    admin = make_portal_admin()
    question = ask(reader)
    clock.advance(timedelta(hours=25))
    escalation.escalate_unanswered_questions()
    assert question.escalated_at is not None
    assert len(emails_to(admin.email, "reference.escalated")) == 1


def test_the_sweep_runs_the_escalation_timer(ctx):
    from jala.jobs import _sweep_tasks

    assert escalation.escalate_unanswered_questions in _sweep_tasks


# --- statistics -------------------------------------------------------------------------------

def test_statistics_per_month_and_answering_library(reader, group):
    start = datetime(2031, 1, 10, 2, 0, tzinfo=UTC)

    def asked_then_answered(at, librarian, hours):
        clock.freeze(at)
        question = ask(make_user(library="JXUFE"))
        if librarian is not None:
            clock.freeze(at + timedelta(hours=hours))
            reference.answer_question(librarian, question.id, "答复")
        return question

    asked_then_answered(start, group["ncu"], 2)
    asked_then_answered(start + timedelta(days=1), group["ecjtu"], 4)
    asked_then_answered(start + timedelta(days=2), group["ncu"], 6)
    waiting = asked_then_answered(start + timedelta(days=3), None, 0)
    clock.freeze(start + timedelta(days=4, hours=1))
    escalation.escalate_unanswered_questions()
    assert waiting.escalated_at is not None
    asked_then_answered(datetime(2031, 2, 3, tzinfo=UTC), group["ncu"], 1)
    # the thread of a reply does not change who answered first
    first = db.session.execute(select(Question).where(Question.created_at == start)).scalar_one()
    reference.reply_to_question(first.asker, first.id, "谢谢")

    since, until = datetime(2030, 12, 31, 16, tzinfo=UTC), datetime(2031, 2, 28, 16, tzinfo=UTC)
    rows = {(r["month"], r["library"]): r for r in monthly_stats(since, until)}
    assert set(rows) == {("2031-01", "ALL"), ("2031-01", "ECJTU"), ("2031-01", "NCU"),
                         ("2031-01", "-"), ("2031-02", "ALL"), ("2031-02", "NCU")}
    jan = rows[("2031-01", "ALL")]
    assert (jan["questions"], jan["answered"], jan["escalated"]) == (4, 3, 1)
    assert jan["median_first_response_hours"] == 4.0
    assert rows[("2031-01", "NCU")]["questions"] == 2
    assert rows[("2031-01", "NCU")]["median_first_response_hours"] == 4.0
    assert rows[("2031-01", "ECJTU")]["median_first_response_hours"] == 4.0
    assert rows[("2031-01", "-")]["escalated"] == 1
    assert rows[("2031-01", "-")]["median_first_response_hours"] is None
    assert rows[("2031-02", "NCU")]["median_first_response_hours"] == 1.0
    only_ncu = monthly_stats(since, until, "NCU")
    assert [(r["month"], r["questions"]) for r in only_ncu] == [("2031-01", 2), ("2031-02", 1)]
    csv_out = csv_text(only_ncu, COLUMNS)
    assert csv_out.splitlines() == ["month,library,questions,answered,escalated,"
                                    "median_first_response_hours",
                                    "2031-01,NCU,2,2,0,4.0", "2031-02,NCU,1,1,0,1.0"]
