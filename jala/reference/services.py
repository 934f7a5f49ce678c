"""Ask a librarian (联合虚拟参考咨询): who may ask, claim, answer and see; the escalation timer.

Who may ask: a reader of a member library whose card is verified, or a public user (社会用户),
in both cases with a confirmed email address (answers are announced there). Readers of a
library that has left the alliance may not ask or reply (alliance services end with
membership); they still see their old questions. Everyone has a daily limit of new questions.

Who answers: the reference working group (参考咨询组, ``WorkingGroupMember`` rows with group
``reference``), whose members are staff of member libraries; a member of a library that has
left no longer counts. Any member sees every question and may claim one that is unclaimed —
one claimant at a time (the row is locked, so two claims at once give one winner). Only the
claimant answers; each answer is a message marked with the claimant's home library (for the
statistics). The claimant, or the group's lead, may release a claim. The asker and the
claimant (or the lead) may close a question. Nobody else sees a question or its attachments:
to them it does not exist (404).

An unanswered question escalates: ``escalate_at`` (asked + ``reference.escalate_hours``) is
picked up by a sweep task that emails the whole group, its lead included, once.
"""
import re
from datetime import datetime, time, timedelta

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from jala import clock
from jala.accounts.models import ROLE_PORTAL_ADMIN, RoleGrant, User
from jala.audit import record_audit
from jala.errors import NotAllowed, NotFound, RuleViolation
from jala.extensions import db
from jala.files import store_upload
from jala.governance.models import WorkingGroupMember
from jala.jobs import queue_email, sweep_task
from jala.mail import user_locale
from jala.membership import (
    check_reader_standing,
    current_chair_library,
    serves_member_library,
)
from jala.reference.models import Question, QuestionMessage
from jala.settings import declare, get_setting
from jala.urls import external_url

GROUP = "reference"
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


# --- who is who -----------------------------------------------------------------------------

def _membership(user):
    if not serves_member_library(user):
        return None
    return db.session.execute(
        select(WorkingGroupMember).where(WorkingGroupMember.group == GROUP,
                                         WorkingGroupMember.user_id == user.id)
    ).scalar_one_or_none()


def is_reference_librarian(user):
    """Whether ``user`` is in the reference working group (and staff of a member library)."""
    return _membership(user) is not None


def is_reference_lead(user):
    """Whether ``user`` leads the reference working group."""
    member = _membership(user)
    return member is not None and member.is_lead


def require_reference_librarian(user):
    """Raise unless ``user`` is in the reference working group."""
    if not is_reference_librarian(user):
        raise NotAllowed(_("Only the reference working group can do this."))


def reference_group():
    """The group's members who can act now (active staff of member libraries), lead first."""
    members = db.session.execute(
        select(WorkingGroupMember).where(WorkingGroupMember.group == GROUP)
        .order_by(WorkingGroupMember.is_lead.desc(), WorkingGroupMember.id)
    ).scalars().all()
    return [m for m in members if serves_member_library(m.user)]


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
    today = datetime.combine(clock.local_today(), time.min, tzinfo=clock.SHANGHAI)
    used = db.session.execute(
        select(func.count()).select_from(Question).where(
            Question.asker_id == user.id, Question.created_at >= today)
    ).scalar_one()
    return get_setting("reference.questions_per_day"), used


# --- asking ---------------------------------------------------------------------------------

def _text(value, limit, message):
    value = (value or "").strip()
    if not value:
        raise RuleViolation(message)
    if len(value) > limit:
        raise RuleViolation(_("At most %(n)d characters, please.", n=limit))
    return value


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
    subject = _text(subject, SUBJECT_MAX, _("Give your question a short subject."))
    body = _text(body, BODY_MAX, _("Write your question."))
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
    body = _text(body, BODY_MAX, _("Write your message."))
    message = _add_message(question, asker, body, _store_attachment(asker, upload))
    question.status = "open"
    claimant = question.claimed_by
    if claimant is not None and not is_reference_librarian(claimant):
        # the claimant has left the group: the question goes back to everyone
        question.claimed_by_id = question.claimed_library_id = None
        claimant = None
    if claimant is not None:
        with force_locale(user_locale(claimant)):
            queue_email(claimant.email,
                        _("Question %(id)d: the reader replied", id=question.id),
                        _("The reader replied to the question “%(subject)s”:\n\n%(body)s\n\n"
                          "Answer in the thread:\n%(link)s",
                          subject=question.subject, body=message.body,
                          link=external_url("reference.question", question_id=question.id)),
                        kind="reference.reply", related=("reference_question", question.id),
                        library_id=question.claimed_library_id)
    return question


# --- the group's side ---------------------------------------------------------------------

def claim_question(librarian, question_id):
    """A group member takes the question on (one claimant: the row is locked)."""
    question = _lock_for_librarian(librarian, question_id)
    _require_not_closed(question)
    if question.claimed_by_id == librarian.id:
        return question
    if question.claimed_by_id is not None:
        raise RuleViolation(_("Question %(id)d has already been claimed by %(name)s (%(code)s).",
                              id=question.id, name=question.claimed_by.display_name,
                              code=question.claimed_library.code if question.claimed_library
                              else "—"), status=409)
    question.claimed_by_id = librarian.id
    question.claimed_library_id = librarian.home_library_id
    db.session.flush()
    record_audit(librarian, "reference.claim", "reference_question", question.id,
                 library_id=librarian.home_library_id)
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
    db.session.flush()
    record_audit(librarian, "reference.release", "reference_question", question.id,
                 library_id=librarian.home_library_id, details=details)
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
    body = _text(body, BODY_MAX, _("Write your answer."))
    message = _add_message(question, librarian, body, _store_attachment(librarian, upload),
                           library_id=librarian.home_library_id)
    question.status = "answered"
    if question.first_response_at is None:
        question.first_response_at = message.created_at
    question.escalate_at = None
    asker = question.asker
    with force_locale(user_locale(asker)):
        queue_email(asker.email,
                    _("A librarian answered your question: %(subject)s",
                      subject=question.subject[:150]),
                    _("Dear %(name)s,\n\nThe reference service of %(library)s answered your "
                      "question “%(subject)s”:\n\n%(body)s\n\nReply, or close the question if "
                      "this answers it:\n%(link)s\n\nJiangxi Academic Library Alliance",
                      name=asker.display_name, library=library_name(librarian.home_library),
                      subject=question.subject, body=message.body,
                      link=external_url("reference.question", question_id=question.id)),
                    kind="reference.answer", related=("reference_question", question.id),
                    library_id=librarian.home_library_id)
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
    db.session.flush()
    if not is_asker:
        record_audit(user, "reference.close", "reference_question", question.id,
                     library_id=user.home_library_id)
    return question


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


# --- the escalation timer -------------------------------------------------------------------

def _escalation_recipients():
    people = [m.user for m in reference_group()]
    if people:
        return people
    # nobody in the group: the management center must hear of it
    chair = current_chair_library()
    if chair is None:
        return []
    return db.session.execute(
        select(User).join(RoleGrant, RoleGrant.user_id == User.id).where(
            RoleGrant.library_id == chair.id, RoleGrant.role == ROLE_PORTAL_ADMIN,
            RoleGrant.revoked_at.is_(None), User.disabled_at.is_(None))
    ).scalars().unique().all()


@sweep_task
def escalate_unanswered_questions():
    """Email the whole reference group (its lead too) once about each question left waiting."""
    now = clock.now()
    rows = db.session.execute(
        select(Question).where(Question.escalate_at <= now)
        .order_by(Question.escalate_at).limit(200)
        .with_for_update(skip_locked=True)
    ).scalars().all()
    if not rows:
        return 0
    recipients = _escalation_recipients()
    lead_ids = {m.user_id for m in reference_group() if m.is_lead}
    escalated = 0
    for question in rows:
        question.escalate_at = None
        if question.status != "open" or question.first_response_at is not None:
            continue  # answered or closed meanwhile: nothing to escalate
        question.escalated_at = now
        escalated += 1
        for person in recipients:
            _email_escalation(question, person, person.id in lead_ids)
    return escalated


def _email_escalation(question, person, is_lead):
    asker = question.asker
    with force_locale(user_locale(person)):
        who = asker.home_library.code if asker.home_library else _("a public user")
        claimed = (_("It was claimed by %(name)s (%(code)s) but has no answer yet.",
                     name=question.claimed_by.display_name,
                     code=question.claimed_library.code if question.claimed_library else "—")
                   if question.claimed_by else _("Nobody has claimed it yet."))
        lead_note = _("You lead the reference working group.") + "\n\n" if is_lead else ""
        queue_email(
            person.email,
            _("Reference question %(id)d has waited %(hours)d hours", id=question.id,
              hours=round((clock.now() - question.created_at).total_seconds() / 3600)),
            _("%(lead)sThe question “%(subject)s” (from %(who)s, asked %(asked)s) has not been "
              "answered. %(claimed)s\n\nOpen it:\n%(link)s\n\nAll waiting questions:\n%(desk)s",
              lead=lead_note, subject=question.subject, who=who,
              asked=question.created_at.astimezone(clock.SHANGHAI).strftime("%Y-%m-%d %H:%M"),
              claimed=claimed,
              link=external_url("reference.question", question_id=question.id),
              desk=external_url("reference.desk")),
            kind="reference.escalated", related=("reference_question", question.id),
            library_id=person.home_library_id)


# --- words ------------------------------------------------------------------------------------

def library_name(library):
    """The library's name in the language in use."""
    from flask_babel import get_locale

    if library is None:
        return ""
    return library.name_zh if str(get_locale() or "zh").startswith("zh") else library.name_en


def status_label(question):
    """Where the question stands, in the user's language."""
    if question.status == "closed":
        return _("closed")
    if question.status == "answered":
        return _("answered")
    if question.first_response_at is not None:
        return _("reader replied")
    return _("waiting for a librarian")


EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE_RE = re.compile(r"(?<!\d)(?:\+?86[\s-]?)?1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}(?!\d)")
MASK = "***"


def anonymise(text, asker, contacts=True):
    """``text`` without the asker's name, email address and card number.

    With ``contacts`` (the draft), any email address or mobile number goes too; the librarian
    checks the draft, may put a library's own address back, and edits the rest.
    """
    text = text or ""
    values = [asker.email, asker.card_number, asker.display_name]
    local_part = (asker.email or "").split("@")[0]
    if len(local_part) >= 4:
        values.append(local_part)
    # longest first, so that a name inside the email address does not break the address up
    for value in sorted({(v or "").strip() for v in values}, key=len, reverse=True):
        if len(value) >= 2:
            text = re.sub(re.escape(value), MASK, text, flags=re.IGNORECASE)
    if contacts:
        text = PHONE_RE.sub(MASK, EMAIL_RE.sub(MASK, text))
    return text
