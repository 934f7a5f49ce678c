"""Ask a librarian (联合虚拟参考咨询): who may ask, claim, answer, close and see a question.

Who may ask: a reader of a member library whose card is verified, or a public user (社会用户),
in both cases with a confirmed email address (answers are announced there). Readers of a
library that has left the alliance may not ask or reply (alliance services end with
membership); they still see their old questions. Everyone has a daily limit of new questions.

Who answers: the reference working group (参考咨询组, ``group.py``), whose members are staff
of member libraries; a member of a library that has left no longer counts. Any member sees
every question and may claim one that is unclaimed — one claimant at a time (the row is
locked, so two claims at once give one winner). Only the claimant answers; each answer is a
message marked with the claimant's home library (for the statistics). The claimant, or the
group's lead, may release a claim. The asker and the claimant (or the lead) may close a
question. Nobody else sees a question or its attachments:
to them it does not exist (404).

An unanswered question escalates to the whole group, once (``escalation.py``). An answered
one may be published, anonymised, in the FAQ (``faq.py``).
"""
from datetime import timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from jala import clock
from jala.audit import record_audit
from jala.checks import typed_text
from jala.errors import NotAllowed, NotFound, RuleViolation
from jala.extensions import db
from jala.files import store_upload
from jala.mail import notify
from jala.membership import check_reader_standing, library_name
from jala.reference.group import (
    is_reference_lead,
    is_reference_librarian,
    require_reference_librarian,
)
from jala.reference.models import Question, QuestionMessage
from jala.settings import declare, get_setting
from jala.urls import external_url

SUBJECT_MAX = 200
BODY_MAX = 5000
ATTACHMENT_KINDS = ("pdf", "png", "jpeg", "webp")
IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp")
DESK_TABS = ("unclaimed", "mine", "waiting", "answered", "closed", "published")

declare("reference.escalate_hours", 24, 1, 24 * 14,
        _l("Hours before an unanswered reference question is escalated"), _l("hours"))
declare("reference.questions_per_day", 5, 0, 100, _l("Reference questions per person per day"))
declare("reference.max_attachment_mb", 10, 1, 50,
        _l("Maximum size of a reference question's attachment"), "MB")


# --- who may ask ----------------------------------------------------------------------------

def check_can_ask(user):
    """Raise unless ``user`` may put a question to the reference desk (or reply in one)."""
    if not user.is_active:
        raise NotAllowed(_("This account is disabled."))
    if user.email_confirmed_at is None:
        raise RuleViolation(_("Confirm your email address first: we tell you there when a "
                              "librarian answers."))
    check_reader_standing(user)


def daily_quota(user):
    """Return ``(limit, questions asked today)``."""
    today = clock.start_of_day()
    used = db.session.execute(
        select(func.count()).select_from(Question).where(
            Question.asker_id == user.id, Question.created_at >= today)
    ).scalar_one()
    return get_setting("reference.questions_per_day"), used


# --- asking ---------------------------------------------------------------------------------



def _store_attachment(user, upload):
    if upload is None:
        return None
    return store_upload(upload.stream, upload.filename or "attachment",
                        allowed_kinds=ATTACHMENT_KINDS,
                        max_bytes=get_setting("reference.max_attachment_mb") * 1024 * 1024,
                        owner=user)


def _add_message(question, author, body, attachment, library_id=None):
    now = clock.now()
    message = QuestionMessage(author_id=author.id, library_id=library_id, body=body,
                              attachment_id=attachment.id if attachment else None,
                              created_at=now)
    question.messages.append(message)
    question.last_activity_at = now
    db.session.flush()
    return message


def ask_question(asker, *, subject, body, upload=None):
    """A reader or public user asks; the question waits on the desk of the whole group."""
    check_can_ask(asker)
    limit, used = daily_quota(asker)
    if used >= limit:
        raise RuleViolation(_("You have asked %(used)d questions today, the daily limit. You "
                              "can ask again tomorrow.", used=used))
    subject = typed_text(subject, SUBJECT_MAX, missing=_("Give your question a short subject."))
    body = typed_text(body, BODY_MAX, missing=_("Write your question."))
    now = clock.now()
    question = Question(asker_id=asker.id, subject=subject, status="open", created_at=now,
                        last_activity_at=now,
                        escalate_at=now + timedelta(hours=get_setting("reference.escalate_hours")))
    db.session.add(question)
    db.session.flush()
    _add_message(question, asker, body, _store_attachment(asker, upload))
    return question


def my_questions(user):
    """The user's own questions, newest first."""
    return db.session.execute(
        select(Question).where(Question.asker_id == user.id)
        .order_by(Question.id.desc()).limit(200)
    ).scalars().all()


def get_question(user, question_id):
    """A question its asker or the reference group may see; to anyone else it does not exist."""
    question = db.session.get(Question, question_id)
    if question is None or not (question.asker_id == user.id or is_reference_librarian(user)):
        raise NotFound(_("No such question."))
    return question


def lock_question(question_id):
    """The question, locked for this transaction (``FOR UPDATE``), or NotFound."""
    question = db.session.execute(
        select(Question).where(Question.id == question_id).with_for_update()
    ).scalar_one_or_none()
    if question is None:
        raise NotFound(_("No such question."))
    return question


def _lock_for_asker(asker, question_id):
    question = lock_question(question_id)
    if question.asker_id != asker.id:
        raise NotFound(_("No such question."))
    return question


def _lock_for_librarian(librarian, question_id):
    require_reference_librarian(librarian)
    question = lock_question(question_id)
    if question.asker_id == librarian.id:
        raise RuleViolation(_("You asked this question yourself: another member of the group "
                              "answers it."))
    return question


def _require_not_closed(question):
    if question.status == "closed":
        raise RuleViolation(_("Question %(id)d is closed.", id=question.id), status=409)


def reply_to_question(asker, question_id, body, upload=None):
    """The asker writes in the thread; the claimant is emailed, and it waits on the desk again."""
    question = _lock_for_asker(asker, question_id)
    check_can_ask(asker)
    _require_not_closed(question)
    body = typed_text(body, BODY_MAX, missing=_("Write your message."))
    message = _add_message(question, asker, body, _store_attachment(asker, upload))
    question.status = "open"
    claimant = question.claimed_by
    if claimant is not None and not is_reference_librarian(claimant):
        # the claimant has left the group: the question goes back to everyone
        question.claimed_by_id = question.claimed_library_id = None
        claimant = None
    if claimant is not None:
        notify(claimant, "reference_reply", kind="reference.reply",
               related=("reference_question", question.id),
               library_id=question.claimed_library_id, question=question, message=message,
               link=external_url("reference.question", question_id=question.id))
    return question


# --- the group's side ---------------------------------------------------------------------

def claim_question(librarian, question_id):
    """A group member takes the question on (one claimant: the row is locked)."""
    question = _lock_for_librarian(librarian, question_id)
    _require_not_closed(question)
    if question.claimed_by_id == librarian.id:
        return question
    if question.claimed_by_id is not None:
        raise RuleViolation(_("Question %(id)d has already been claimed by %(name)s "
                              "(%(library)s).", id=question.id,
                              name=question.claimed_by.display_name,
                              library=library_name(question.claimed_library)
                              if question.claimed_library else "—"), status=409)
    question.claimed_by_id = librarian.id
    question.claimed_library_id = librarian.home_library_id
    audit_question(librarian, "reference.claim", question)
    return question


def release_question(librarian, question_id):
    """The claimant (or the group's lead) gives the question back to the whole group."""
    question = _lock_for_librarian(librarian, question_id)
    _require_not_closed(question)
    if question.claimed_by_id is None:
        return question
    if question.claimed_by_id != librarian.id and not is_reference_lead(librarian):
        raise NotAllowed(_("Only the librarian who claimed it, or the group's lead, can "
                           "release it."))
    details = {"claimed_by": question.claimed_by_id}
    question.claimed_by_id = question.claimed_library_id = None
    audit_question(librarian, "reference.release", question, details)
    return question


def answer_question(librarian, question_id, body, upload=None):
    """The claimant answers (claiming it first if nobody has); the asker is emailed."""
    question = _lock_for_librarian(librarian, question_id)
    _require_not_closed(question)
    if question.claimed_by_id is None:
        claim_question(librarian, question.id)
    elif question.claimed_by_id != librarian.id:
        raise RuleViolation(_("Question %(id)d has been claimed by %(name)s: only they answer "
                              "it.", id=question.id, name=question.claimed_by.display_name),
                            status=409)
    body = typed_text(body, BODY_MAX, missing=_("Write your answer."))
    message = _add_message(question, librarian, body, _store_attachment(librarian, upload),
                           library_id=librarian.home_library_id)
    question.status = "answered"
    if question.first_response_at is None:
        question.first_response_at = message.created_at
    question.escalate_at = None
    notify(question.asker, "reference_answer", kind="reference.answer",
           related=("reference_question", question.id), library_id=librarian.home_library_id,
           question=question, message=message, library=librarian.home_library,
           link=external_url("reference.question", question_id=question.id))
    return question


def close_question(user, question_id):
    """The asker, the claimant or the group's lead closes the question."""
    question = lock_question(question_id)
    is_asker = question.asker_id == user.id
    if not is_asker:
        if not is_reference_librarian(user):
            raise NotFound(_("No such question."))
        if question.claimed_by_id != user.id and not is_reference_lead(user):
            raise NotAllowed(_("Only the reader, the librarian who claimed it, or the group's "
                               "lead can close it."))
    _require_not_closed(question)
    question.status = "closed"
    question.escalate_at = None
    question.last_activity_at = clock.now()
    if is_asker:
        db.session.flush()
    else:
        audit_question(user, "reference.close", question)
    return question


def audit_question(librarian, action, question, details=None):
    """Write the question's changes, and the audit entry of ``librarian``'s step on it."""
    db.session.flush()
    record_audit(librarian, action, "reference_question", question.id,
                 library_id=librarian.home_library_id, details=details)


def can_do(user, question):
    """What ``user`` may do with ``question`` now (the rules above, for the page's buttons)."""
    member = is_reference_librarian(user)
    lead = member and is_reference_lead(user)
    asker = question.asker_id == user.id
    is_open = question.status != "closed"
    claimant = question.claimed_by_id == user.id
    return {
        "reply": asker and is_open,
        "claim": member and not asker and is_open and question.claimed_by_id is None,
        "answer": member and not asker and is_open and claimant,
        "release": member and is_open and question.claimed_by_id is not None
        and (claimant or lead),
        "close": is_open and (asker or (member and (claimant or lead))),
        "publish": member and question.first_response_at is not None,
        "staff_view": member and not asker,
    }


def desk_questions(librarian, tab="unclaimed", limit=200):
    """The desk of the whole group, by tab; oldest waiting first, escalated ones on top."""
    require_reference_librarian(librarian)
    query = select(Question)
    if tab == "mine":
        query = query.where(Question.claimed_by_id == librarian.id, Question.status != "closed")
        order = (Question.last_activity_at.asc(),)
    elif tab == "waiting":
        query = query.where(Question.status == "open")
        order = (Question.last_activity_at.asc(),)
    elif tab in ("answered", "closed"):
        query = query.where(Question.status == tab)
        order = (Question.last_activity_at.desc(),)
    elif tab == "published":
        query = query.where(Question.faq_published_at.is_not(None))
        order = (Question.faq_published_at.desc(),)
    else:
        query = query.where(Question.status == "open", Question.claimed_by_id.is_(None))
        order = (Question.escalated_at.desc().nulls_last(), Question.created_at.asc())
    return db.session.execute(query.order_by(*order, Question.id).limit(limit)).scalars().all()


def attachment_of(user, question_id, message_id):
    """The file of one message, for someone who may see the question; else 'not found'."""
    question = get_question(user, question_id)
    message = db.session.get(QuestionMessage, message_id)
    if (message is None or message.question_id != question.id or message.attachment is None
            or message.attachment.deleted_at is not None):
        raise NotFound(_("No such attachment."))
    return message.attachment


# --- words ------------------------------------------------------------------------------------

def status_label(question):
    """Where the question stands, in the user's language."""
    if question.status == "closed":
        return _("closed")
    if question.status == "answered":
        return _("answered")
    if question.first_response_at is not None:
        return _("reader replied")
    return _("waiting for a librarian")
