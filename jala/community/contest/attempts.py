"""A contestant's timed attempt: starting (once), answering as they go, submitting.

The timer is the server's: ``deadline`` is the start plus the round's time limit, never after
the round closes. An answer that arrives at or after the deadline, or once the round has closed
(an organiser may close it early: ``services.close_round_now`` hands in every running attempt),
is refused; an attempt whose time is up is submitted as it stands (by the next page that reads
it, the leaderboard, or the sweeper). Answers are checked here only, on submission; no page
carries the right answers before the round closes.

One attempt per person and round: ``(round_id, user_id)`` is unique, and starting inserts with
``ON CONFLICT DO NOTHING`` then locks the row, so two tabs (or two simultaneous starts) share
one attempt. A submitted official attempt is never reopened; a practice one is started afresh.
"""
import secrets
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert

from jala import clock
from jala.community.contest.answers import (
    clean_public_name,
    masked_name,
    question_order,
    read_value,
    score_attempt,
)
from jala.community.contest.models import ContestAnswer, ContestAttempt, ContestRound
from jala.community.contest.services import get_round, refusal_to_take
from jala.errors import NotFound, RuleViolation
from jala.extensions import db
from jala.jobs import sweep_task


def check_can_take(user, found):
    """Raise unless ``user`` may take round ``found`` now."""
    refusal = refusal_to_take(user, found)
    if refusal is not None:
        raise RuleViolation(refusal, status=409 if found.published_at else 404)


def cutoff(attempt):
    """When the attempt's time is up: its deadline, or the round's closing if that is earlier."""
    return min(attempt.deadline, attempt.round.closes_at)


def _lock(round_id, user_id):
    return db.session.execute(select(ContestAttempt).where(
        ContestAttempt.round_id == round_id, ContestAttempt.user_id == user_id)
        .with_for_update()).scalar_one_or_none()


def _begin(attempt, found, now, name):
    attempt.seed = secrets.randbits(48)
    attempt.started_at = now
    attempt.deadline = min(now + timedelta(minutes=found.time_limit_minutes), found.closes_at)
    attempt.submitted_at = attempt.score = attempt.correct_count = None
    attempt.duration_seconds = None
    attempt.public_name = name


def start_attempt(user, round_id, public_name=None):
    """Start ``user``'s attempt at the round, or return the one they have started already.

    A second start of an official round the user has submitted is refused; a practice round
    is started afresh.
    """
    found = get_round(user, round_id)
    check_can_take(user, found)
    name = clean_public_name(public_name) or masked_name(user.display_name)
    now = clock.now()
    deadline = min(now + timedelta(minutes=found.time_limit_minutes), found.closes_at)
    inserted = db.session.execute(
        insert(ContestAttempt).values(
            round_id=found.id, user_id=user.id, library_id=user.home_library_id,
            public_name=name, seed=secrets.randbits(48), started_at=now, deadline=deadline)
        .on_conflict_do_nothing(index_elements=["round_id", "user_id"])
        .returning(ContestAttempt.id)).scalar_one_or_none()
    attempt = _lock(found.id, user.id)
    if inserted is not None:
        return attempt
    finish_if_due(attempt, now)
    if attempt.submitted_at is None:
        return attempt  # another tab, a reload: the same attempt, the same clock
    if found.kind == "official":
        raise RuleViolation(_("You have already taken this round: each contestant has one "
                              "attempt."), status=409)
    db.session.execute(delete(ContestAnswer).where(ContestAnswer.attempt_id == attempt.id))
    db.session.expire(attempt, ["answers"])
    attempt.library_id = user.home_library_id
    _begin(attempt, found, now, name)
    db.session.flush()
    return attempt


def my_attempt(user, round_id):
    """``user``'s attempt at the round (submitted first if its time is up), or None."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    attempt = db.session.execute(select(ContestAttempt).where(
        ContestAttempt.round_id == round_id, ContestAttempt.user_id == user.id)
    ).scalar_one_or_none()
    if attempt is not None and attempt.submitted_at is None and clock.now() >= cutoff(attempt):
        attempt = _lock(round_id, user.id)
        finish_if_due(attempt)
    return attempt


def _lock_running(user, round_id):
    attempt = _lock(round_id, user.id)
    if attempt is None:
        raise NotFound(_("You have not started this round."))
    if attempt.submitted_at is not None:
        raise RuleViolation(_("Your answers have been submitted: they can no longer be "
                              "changed."), status=409)
    now = clock.now()
    if now >= attempt.round.closes_at:
        raise RuleViolation(_("The round has closed: answers are no longer accepted. Your "
                              "answers were submitted as they stood."), status=409)
    if now >= attempt.deadline:
        raise RuleViolation(_("Time is up: answers are no longer accepted. Your answers "
                              "were submitted as they stood."), status=409)
    return attempt


def save_answer(user, round_id, question_id, *, chosen=(), text=""):
    """Keep the contestant's answer to one question (an empty one clears it)."""
    attempt = _lock_running(user, round_id)
    question = next((q for q in attempt.round.questions if q.id == question_id), None)
    if question is None:
        raise NotFound(_("No such question."))
    value = read_value(question, chosen, text)
    if value is None:
        db.session.execute(delete(ContestAnswer).where(
            ContestAnswer.attempt_id == attempt.id, ContestAnswer.question_id == question.id))
    else:
        db.session.execute(insert(ContestAnswer).values(
            attempt_id=attempt.id, question_id=question.id, value=value,
            answered_at=clock.now()).on_conflict_do_update(
                index_elements=["attempt_id", "question_id"],
                set_={"value": value, "answered_at": clock.now()}))
    db.session.expire(attempt, ["answers"])
    return attempt


def submit_attempt(user, round_id):
    """The contestant hands in: the answers are checked and scored (once)."""
    attempt = _lock(round_id, user.id)
    if attempt is None:
        raise NotFound(_("You have not started this round."))
    if attempt.submitted_at is None:
        _finish(attempt, min(clock.now(), cutoff(attempt)))
    return attempt


def finish_if_due(attempt, now=None):
    """Submit a locked attempt whose time is up, as it stands (at its ``cutoff``)."""
    if attempt.submitted_at is None and (now or clock.now()) >= cutoff(attempt):
        _finish(attempt, cutoff(attempt))
    return attempt


def _finish(attempt, at):
    score_attempt(attempt, at)
    db.session.flush()


@sweep_task
def finish_due_attempts(round_id=None):
    """Submit every attempt whose time is up (all rounds, or one); returns how many."""
    now = clock.now()
    query = select(ContestAttempt).join(ContestRound).where(
        ContestAttempt.submitted_at.is_(None),
        (ContestAttempt.deadline <= now) | (ContestRound.closes_at <= now))
    if round_id is not None:
        query = query.where(ContestAttempt.round_id == round_id)
    due = db.session.execute(query.order_by(ContestAttempt.id).limit(1000)
                             .with_for_update(skip_locked=True, of=ContestAttempt)
                             ).scalars().all()
    for attempt in due:
        _finish(attempt, cutoff(attempt))
    return len(due)


def attempt_questions(attempt):
    """The round's questions in this attempt's order."""
    return question_order(attempt.round.questions, attempt.seed)


def answered_ids(attempt):
    """Ids of the questions this attempt has answered."""
    return {a.question_id for a in attempt.answers}


def seconds_left(attempt):
    """Whole seconds until the time is up (0 once it has passed)."""
    return max(0, int((cutoff(attempt) - clock.now()).total_seconds()))
