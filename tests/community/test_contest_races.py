"""Races between real database connections: two starts of one round by one contestant (two
tabs, a double tap) make one attempt; two saves of one answer keep one row.

These commit real rows (each thread has its own session and connection), so they run on a
database of their own.
"""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from jala import clock
from jala.community.contest import attempts
from jala.community.contest import services as contest
from jala.community.contest.models import ContestAnswer, ContestAttempt
from jala.errors import RuleViolation
from jala.extensions import db
from tests.support.factories import make_portal_admin, make_user
from tests.support.races import committed, race, reload_user


@pytest.fixture
def app(private_app):
    """These tests commit, so they get a database of their own."""
    return private_app


def _setup(app, kind="official"):
    def step():
        centre = make_portal_admin()
        now = clock.now()
        found = contest.create_round(centre, title="并发赛", kind=kind,
                                     opens_at=now - timedelta(minutes=1),
                                     closes_at=now + timedelta(hours=1), time_limit_minutes=20)
        question = contest.add_question(centre, found.id, kind="text", prompt="题名？",
                                        accepted=["中国发展报告"])
        contest.publish_round(centre, found.id)
        return found.id, question.id, make_user(library="JXUFE").id
    return committed(app, step)


def _count(app, model, **where):
    with app.app_context():
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return db.session.execute(query).scalar_one()


def test_two_simultaneous_starts_by_one_contestant_make_one_attempt(app):
    round_id, _question, user_id = _setup(app)

    def start():
        return attempts.start_attempt(reload_user(user_id), round_id).id

    outcomes = race(app, start, start, start)
    assert not any(isinstance(o, RuleViolation) for o in outcomes), outcomes
    assert len(set(outcomes)) == 1
    assert _count(app, ContestAttempt, round_id=round_id, user_id=user_id) == 1


def test_a_start_racing_the_hand_in_of_an_official_round_never_reopens_it(app):
    round_id, _question, user_id = _setup(app)
    committed(app, lambda: attempts.start_attempt(reload_user(user_id), round_id).id)

    def hand_in():
        return attempts.submit_attempt(reload_user(user_id), round_id).submitted_at

    def start_again():
        return attempts.start_attempt(reload_user(user_id), round_id).submitted_at

    submitted, started = race(app, hand_in, start_again)
    assert submitted is not None
    # the start came first (the same running attempt) or after (refused): never a fresh one
    assert started is None or (isinstance(started, RuleViolation) and started.status == 409)
    with app.app_context():
        mine = db.session.execute(select(ContestAttempt).where(
            ContestAttempt.round_id == round_id)).scalar_one()
        assert mine.submitted_at is not None


def test_two_tabs_saving_one_answer_at_once_keep_one_answer(app):
    round_id, question_id, user_id = _setup(app, kind="practice")
    committed(app, lambda: attempts.start_attempt(reload_user(user_id), round_id).id)

    def save(text):
        return lambda: attempts.save_answer(reload_user(user_id), round_id, question_id,
                                            text=text).id

    outcomes = race(app, save("中国发展报告"), save("中國發展報告"))
    assert not any(isinstance(o, RuleViolation) for o in outcomes), outcomes
    assert _count(app, ContestAnswer, question_id=question_id) == 1
