"""Races between real database connections: two librarians claiming one question at once.

These commit real rows (each thread has its own session and connection), so they run on a
database of their own.
"""
from datetime import timedelta

import pytest
from sqlalchemy import select

from jala import clock
from jala.accounts.models import User
from jala.audit import AuditEntry
from jala.errors import RuleViolation
from jala.extensions import db
from jala.reference import escalation
from jala.reference import services as reference
from jala.reference.models import Question
from tests.support.factories import make_user
from tests.support.races import race as _race
from tests.support.reference import join_group


@pytest.fixture
def app(private_app):
    """These tests commit, so they get a database of their own."""
    return private_app


def _setup(app, librarians=("NCU", "ECJTU", "JXAU")):
    with app.test_request_context("/?lang=en"):
        reader = make_user(library="JXUFE")
        staff = [make_user(library=code, roles=("librarian",)) for code in librarians]
        for person in staff:
            join_group(person)
        question = reference.ask_question(reader, subject="数据库远程访问",
                                          body="校外怎么访问知网？")
        db.session.commit()
        return question.id, [s.id for s in staff]


def _claim(question_id, user_id):
    def step():
        return reference.claim_question(db.session.get(User, user_id), question_id).claimed_by_id
    return step


def test_three_librarians_claiming_at_once_leave_one_claimant(app):
    question_id, staff = _setup(app)
    outcomes = _race(app, *(_claim(question_id, user_id) for user_id in staff))
    winners = [o for o in outcomes if not isinstance(o, RuleViolation)]
    losers = [o for o in outcomes if isinstance(o, RuleViolation)]
    assert len(winners) == 1 and len(losers) == 2
    assert all(o.status == 409 and "already been claimed" in o.message for o in losers)
    with app.app_context():
        question = db.session.get(Question, question_id)
        assert question.claimed_by_id == winners[0]
        claims = db.session.execute(select(AuditEntry).where(
            AuditEntry.action == "reference.claim",
            AuditEntry.object_id == str(question_id))).scalars().all()
        assert [c.actor_id for c in claims] == [winners[0]]


def test_an_answer_racing_the_escalation_timer_leaves_one_consistent_outcome(app):
    question_id, (librarian, *_rest) = _setup(app)
    clock.advance(timedelta(hours=25))

    def answer():
        user = db.session.get(User, librarian)
        return reference.answer_question(user, question_id, "请用VPN。").status

    outcomes = _race(app, answer, escalation.escalate_unanswered_questions)
    assert outcomes[0] == "answered"
    with app.app_context():
        question = db.session.get(Question, question_id)
        assert question.status == "answered" and question.escalate_at is None
        # the timer either escalated first (then the answer came) or found it answered
        assert outcomes[1] in (0, 1)
        assert (question.escalated_at is not None) == (outcomes[1] == 1)
