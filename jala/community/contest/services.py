"""The search contest (搜索大赛): who organises a round, writing it, and which rounds are open.

Organisers: the management centre's admins (``governance.center.is_center_admin``) for
alliance-wide rounds; a member library's staff for a round of their own library. A round is a
draft until it is published; its questions are fixed from then on, so every contestant
answers the same ones. Every organiser step is in the audit log.

Who takes part (``attempts.check_can_take``): an official round, readers of member libraries
(of the organising library for a library's own round), once each; a practice round, anyone
signed in, as often as they like. Organisers never take part in an official round they could
have read the answers of.
"""
import re
from urllib.parse import urlsplit

from flask_babel import format_date, format_time
from flask_babel import gettext as _
from sqlalchemy import select

from jala import clock
from jala.accounts.models import Library
from jala.audit import record_audit
from jala.checks import typed_text
from jala.community.contest.answers import score_attempt
from jala.community.contest.models import (
    QUESTION_KINDS,
    RANKINGS,
    ROUND_KINDS,
    ContestAttempt,
    ContestQuestion,
    ContestRound,
)
from jala.errors import NotAllowed, NotFound, RuleViolation
from jala.extensions import db
from jala.governance.center import is_center_admin
from jala.membership import is_member, library_name, member_library_ids
from jala.permissions import can_staff_library, staff_library_ids

TITLE_MAX = 200
DESCRIPTION_MAX = 20_000
PROMPT_MAX = 5000
CHOICE_MAX = 200
CHOICES_MIN, CHOICES_MAX = 2, 8
ACCEPTED_MAX = 20
HINT_MAX = 500
_UNSAFE_IN_LINK_RE = re.compile(r"[\\\x00-\x1f\x7f-\x9f]")  # backslashes, control characters


# --- who organises ------------------------------------------------------------------------------

def _signed_in(user):
    return user is not None and getattr(user, "is_authenticated", False) and user.is_active


def can_organise(user, library_id):
    """Whether ``user`` may organise a round of ``library_id`` (None: the alliance).

    Centre admins organise alliance rounds and any library's; a library's staff organise
    that library's own rounds.
    """
    if not _signed_in(user):
        return False
    if is_center_admin(user):
        return True
    return library_id is not None and can_staff_library(user, library_id)


def organiser_libraries(user):
    """What ``user`` may organise rounds for: ``None`` (the alliance) and/or member libraries."""
    if not _signed_in(user):
        return []
    members = member_library_ids()
    if is_center_admin(user):
        return [None, *sorted(members)]
    return sorted(staff_library_ids(user) & set(members))


def is_organiser(user):
    """Whether ``user`` may organise any round (the pages show the organiser's links)."""
    return bool(organiser_libraries(user))


def _require_organiser(user, library_id):
    if not can_organise(user, library_id):
        raise NotAllowed(_("Only the management centre's admins, or the staff of the round's "
                           "library, organise this round."))


# --- reading rounds ------------------------------------------------------------------------------

def get_round(user, round_id):
    """A published round (anyone), or a draft (its organisers); to others it does not exist."""
    found = db.session.get(ContestRound, round_id)
    if found is None or (found.published_at is None
                         and not can_organise(user, found.library_id)):
        raise NotFound(_("No such contest round."))
    return found


def get_organised_round(user, round_id):
    """A round (drafts too) for one of its organisers.

    To others a published round is not theirs to change (403), a draft does not exist (404).
    """
    found = get_round(user, round_id)
    _require_organiser(user, found.library_id)
    return found


def lock_round(user, round_id):
    """The round, locked for an organiser's change (``FOR UPDATE``)."""
    found = db.session.execute(select(ContestRound).where(ContestRound.id == round_id)
                               .with_for_update()).scalar_one_or_none()
    if found is None:
        raise NotFound(_("No such contest round."))
    _require_organiser(user, found.library_id)
    return found


def is_open(found, now=None):
    """Whether the round is published and open now."""
    now = now or clock.now()
    return found.published_at is not None and found.opens_at <= now < found.closes_at


def is_closed(found, now=None):
    """Whether the round is over (its answers and leaderboard are then published)."""
    return found.published_at is not None and (now or clock.now()) >= found.closes_at


def open_rounds(user=None):
    """Rounds ``user`` can take now (not an official round they have finished).

    With no user (a visitor), every round open now: signing in decides who may take part.
    """
    from_here = select(ContestRound).where(
        ContestRound.published_at.is_not(None), ContestRound.opens_at <= clock.now(),
        ContestRound.closes_at > clock.now()).order_by(ContestRound.closes_at, ContestRound.id)
    rounds = db.session.execute(from_here).scalars().all()
    if not _signed_in(user):
        return rounds
    finished = set(db.session.execute(select(ContestAttempt.round_id).where(
        ContestAttempt.user_id == user.id, ContestAttempt.submitted_at.is_not(None))
    ).scalars())
    return [r for r in rounds if refusal_to_take(user, r) is None
            and not (r.kind == "official" and r.id in finished)]


def moment_words(instant):
    """An instant as readers read it: 2026年12月10日 08:00 (Beijing time)."""
    return f"{format_date(instant, 'long')} {format_time(instant, 'HH:mm')}"


def refusal_to_take(user, found):
    """Why ``user`` may not take ``found`` now (a message), or None if they may."""
    now = clock.now()
    if found.published_at is None:
        return _("This round has not been published yet.")
    if now < found.opens_at:
        return _("This round opens on %(when)s.",
                 when=moment_words(found.opens_at))
    if now >= found.closes_at:
        return _("This round has closed.")
    if not _signed_in(user):
        return _("Log in to take part.")
    if found.kind == "practice":
        return None
    if can_organise(user, found.library_id):
        return _("Organisers can see the answers, so they do not take part in official rounds.")
    if user.home_library_id is None or not is_member(user.home_library):
        return _("Official rounds are for readers of member libraries. Practice rounds are "
                 "open to everyone.")
    if user.verified_at is None:
        return _("Your library card has not been verified yet. Your library will check it "
                 "soon.")
    if found.library_id is not None and user.home_library_id != found.library_id:
        return _("This round is for readers of %(library)s.",
                 library=library_name(found.library))
    return None


def rounds_page(user):
    """The contest's page: open rounds, coming ones and closed ones (published rounds)."""
    now = clock.now()
    rounds = db.session.execute(select(ContestRound).where(
        ContestRound.published_at.is_not(None)).order_by(ContestRound.opens_at.desc())
        .limit(200)).scalars().all()
    return {"open": [r for r in rounds if r.opens_at <= now < r.closes_at][::-1],
            "coming": [r for r in rounds if now < r.opens_at][::-1],
            "closed": [r for r in rounds if r.closes_at <= now]}


def organised_rounds(user):
    """Every round (drafts too) of the libraries ``user`` organises for, newest first."""
    libraries = organiser_libraries(user)
    if not libraries:
        raise NotAllowed(_("Only the management centre's admins and library staff organise "
                           "contest rounds."))
    query = select(ContestRound).order_by(ContestRound.id.desc()).limit(200)
    if not is_center_admin(user):
        query = query.where(ContestRound.library_id.in_(libraries))
    return db.session.execute(query).scalars().all()


# --- writing a round ------------------------------------------------------------------------------



def _round_fields(*, title, description, kind, opens_at, closes_at, time_limit_minutes,
                  ranking, top_n):
    if kind not in ROUND_KINDS or ranking not in RANKINGS:
        raise RuleViolation(_("Check the form."))
    if opens_at is None or closes_at is None or opens_at.tzinfo is None:
        raise RuleViolation(_("Give the times the round opens and closes."))
    if closes_at <= opens_at:
        raise RuleViolation(_("The round must close after it opens."))
    if not (time_limit_minutes and 1 <= time_limit_minutes <= 600):
        raise RuleViolation(_("The time limit is between 1 and 600 minutes."))
    if not (top_n and 1 <= top_n <= 100):
        raise RuleViolation(_("Count between 1 and 100 contestants of each library."))
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        raise RuleViolation(_("At most %(n)d characters, please.", n=DESCRIPTION_MAX))
    return {"title": typed_text(title, TITLE_MAX, missing=_("Give the round a title.")),
            "description": description, "kind": kind, "opens_at": opens_at,
            "closes_at": closes_at, "time_limit_minutes": time_limit_minutes,
            "ranking": ranking, "top_n": top_n}


def create_round(actor, *, library_id=None, title, description="", kind="official", opens_at,
                 closes_at, time_limit_minutes, ranking="average", top_n=5):
    """An organiser starts a round as a draft (questions are added before publishing)."""
    _require_organiser(actor, library_id)
    if library_id is not None and not is_member(db.session.get(Library, library_id)):
        raise RuleViolation(_("Only member libraries organise contest rounds."))
    fields = _round_fields(title=title, description=description, kind=kind, opens_at=opens_at,
                           closes_at=closes_at, time_limit_minutes=time_limit_minutes,
                           ranking=ranking, top_n=top_n)
    found = ContestRound(library_id=library_id, created_by_id=actor.id, created_at=clock.now(),
                         **fields)
    db.session.add(found)
    db.session.flush()
    _audit(actor, "contest.round.create", found, {"title": found.title, "kind": found.kind})
    return found


def _require_draft(found):
    if found.published_at is not None:
        raise RuleViolation(_("This round has been published: its questions and times are "
                              "fixed."), status=409)


def update_round(actor, round_id, **fields):
    """An organiser changes a draft round's title, description, times or ranking."""
    found = lock_round(actor, round_id)
    _require_draft(found)
    for name, value in _round_fields(**fields).items():
        setattr(found, name, value)
    db.session.flush()
    _audit(actor, "contest.round.update", found, {"title": found.title})
    return found


def _hint(url):
    url = (url or "").strip()
    if not url:
        return None
    if len(url) > HINT_MAX:
        raise RuleViolation(_("At most %(n)d characters, please.", n=HINT_MAX))
    if _UNSAFE_IN_LINK_RE.search(url):  # browsers read /\evil.com as //evil.com
        raise RuleViolation(_("The hint is a link: a portal address starting with / (like "
                              "/search?q=…) or an http(s) address."))
    parts = urlsplit(url)
    on_portal = url.startswith("/") and not url.startswith("//") and not parts.scheme
    if not on_portal and not (parts.scheme in ("http", "https") and parts.netloc):
        raise RuleViolation(_("The hint is a link: a portal address starting with / (like "
                              "/search?q=…) or an http(s) address."))
    return url


def _question_fields(kind, prompt, choices, correct, accepted, points, hint_url):
    if kind not in QUESTION_KINDS:
        raise RuleViolation(_("Check the form."))
    prompt = typed_text(prompt, PROMPT_MAX, missing=_("Write the question."))
    if not (points and 1 <= points <= 100):
        raise RuleViolation(_("A question is worth between 1 and 100 points."))
    if kind == "text":
        accepted = [" ".join(a.split()) for a in accepted or () if a and a.strip()]
        if not accepted:
            raise RuleViolation(_("List at least one accepted answer."))
        if len(accepted) > ACCEPTED_MAX or any(len(a) > CHOICE_MAX for a in accepted):
            raise RuleViolation(_("At most %(n)d accepted answers of at most %(m)d characters.",
                                  n=ACCEPTED_MAX, m=CHOICE_MAX))
        choices, correct = [], accepted
    else:
        choices = [c.strip() for c in choices or () if c and c.strip()]
        if not (CHOICES_MIN <= len(choices) <= CHOICES_MAX):
            raise RuleViolation(_("Give between %(low)d and %(high)d choices.",
                                  low=CHOICES_MIN, high=CHOICES_MAX))
        if any(len(c) > CHOICE_MAX for c in choices):
            raise RuleViolation(_("At most %(n)d characters, please.", n=CHOICE_MAX))
        correct = sorted({int(i) for i in correct or ()})
        if not correct or correct[-1] >= len(choices) or correct[0] < 0:
            raise RuleViolation(_("Mark the right choice."))
        if kind == "single" and len(correct) != 1:
            raise RuleViolation(_("A single-choice question has exactly one right choice."))
    return {"kind": kind, "prompt": prompt, "choices": choices, "correct": correct,
            "points": points, "hint_url": _hint(hint_url)}


def add_question(actor, round_id, *, kind, prompt, choices=(), correct=(), accepted=(),
                 points=1, hint_url=None):
    """An organiser adds a question to a draft round.

    ``correct`` holds indices into ``choices``; ``accepted``, the text answers that count.
    """
    found = lock_round(actor, round_id)
    _require_draft(found)
    fields = _question_fields(kind, prompt, choices, correct, accepted, points, hint_url)
    position = max((q.position for q in found.questions), default=0) + 1
    question = ContestQuestion(round_id=found.id, position=position, **fields)
    db.session.add(question)
    db.session.flush()
    db.session.refresh(found, ["questions"])
    _audit(actor, "contest.question.add", found, {"question": question.id})
    return question


def delete_question(actor, round_id, question_id):
    """An organiser takes a question out of a draft round."""
    found = lock_round(actor, round_id)
    _require_draft(found)
    question = db.session.get(ContestQuestion, question_id)
    if question is None or question.round_id != found.id:
        raise NotFound(_("No such question."))
    db.session.delete(question)
    db.session.flush()
    db.session.refresh(found, ["questions"])
    _audit(actor, "contest.question.delete", found, {"question": question_id})
    return found


def publish_round(actor, round_id):
    """An organiser publishes a draft: it opens to contestants at its opening time."""
    found = lock_round(actor, round_id)
    _require_draft(found)
    if not found.questions:
        raise RuleViolation(_("Add at least one question first."))
    if found.closes_at <= clock.now():
        raise RuleViolation(_("The round's closing time has passed: change it first."))
    found.published_at = clock.now()
    db.session.flush()
    _audit(actor, "contest.round.publish", found, {"title": found.title})
    return found


def close_round_now(actor, round_id):
    """An organiser closes an open round early: answers and leaderboard are published.

    Every attempt still running is cut off now and handed in with the answers it has, in the
    same transaction, so no one answers once the right answers are shown. (An answer being
    saved holds its attempt's lock: it lands before the hand-in, or is refused after it.)
    """
    found = lock_round(actor, round_id)
    now = clock.now()
    if not is_open(found, now):
        raise RuleViolation(_("Only an open round can be closed early."), status=409)
    found.closes_at = now
    running = db.session.execute(select(ContestAttempt).where(
        ContestAttempt.round_id == found.id, ContestAttempt.submitted_at.is_(None))
        .order_by(ContestAttempt.id).with_for_update()
        .execution_options(populate_existing=True)).scalars().all()
    for attempt in running:
        db.session.expire(attempt, ["answers"])
        attempt.deadline = min(attempt.deadline, now)
        score_attempt(attempt, attempt.deadline)
    db.session.flush()
    _audit(actor, "contest.round.close", found, {"title": found.title})
    return found


def _audit(actor, action, found, details):
    record_audit(actor, action, "contest_round", found.id, library_id=found.library_id,
                 details=details)


def organiser_choices(user):
    """``(value, library)`` pairs a new round's organiser may choose (``""``: the alliance)."""
    return [("", None) if lib is None else (str(lib), db.session.get(Library, lib))
            for lib in organiser_libraries(user)]
