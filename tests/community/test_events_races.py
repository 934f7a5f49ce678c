"""Races between real database connections: readers taking the last seat at once.

These commit real rows (each thread has its own session and connection), so they run on a
database of their own.
"""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from jala import clock
from jala.community.events import services as events
from jala.community.events import signups
from jala.community.events.models import EventRegistration
from jala.community.events.seats import get_event, waiting_place
from jala.errors import RuleViolation
from jala.extensions import db
from tests.support.factories import library_id, make_user
from tests.support.races import committed, race, reload_user


@pytest.fixture
def app(private_app):
    """These tests commit, so they get a database of their own."""
    return private_app


def _setup(app, capacity, readers, taken=0):
    """An NCU event with ``capacity`` seats, ``taken`` of them already taken; reader ids."""
    def step():
        organiser = make_user(library="NCU", roles=("librarian",))
        starts = clock.now() + timedelta(days=2)
        event = events.create_event(
            organiser, library_id=library_id("NCU"), title="百家讲坛", kind="lecture",
            description="", starts_at=starts, ends_at=starts + timedelta(hours=2),
            place="报告厅", capacity=capacity, audience="members")
        for _i in range(taken):
            signups.sign_up(make_user(library="JXAU"), event.id)
        people = [make_user(library=code) for code in ("JXUFE", "ECJTU", "NCU", "JXAU",
                                                         "NCHU")[:readers]]
        return event.id, [p.id for p in people]
    return committed(app, step)


def _sign_up(event_id, user_id):
    return lambda: signups.sign_up(reload_user(user_id), event_id).status


def _statuses(app, event_id):
    def step():
        return dict(db.session.execute(
            select(EventRegistration.status, func.count()).where(
                EventRegistration.event_id == event_id)
            .group_by(EventRegistration.status)).all())
    return committed(app, step)


@pytest.mark.parametrize("round_", range(4))  # a lost race shows up in one round or another
def test_two_readers_taking_the_last_seat_exactly_one_gets_it(app, round_):
    event_id, (first, second) = _setup(app, capacity=3, readers=2, taken=2)
    outcomes = race(app, _sign_up(event_id, first), _sign_up(event_id, second))
    assert sorted(outcomes) == ["confirmed", "waiting"]
    assert _statuses(app, event_id) == {"confirmed": 3, "waiting": 1}


def test_five_readers_for_two_seats_leave_two_seated_and_three_waiting_in_order(app):
    event_id, people = _setup(app, capacity=2, readers=5)
    outcomes = race(app, *(_sign_up(event_id, person) for person in people))
    assert not any(isinstance(o, RuleViolation) for o in outcomes)
    assert sorted(outcomes) == ["confirmed"] * 2 + ["waiting"] * 3
    assert _statuses(app, event_id) == {"confirmed": 2, "waiting": 3}

    def places():
        rows = db.session.execute(select(EventRegistration).where(
            EventRegistration.event_id == event_id,
            EventRegistration.status == "waiting")).scalars()
        return sorted(waiting_place(r) for r in rows)
    assert committed(app, places) == [1, 2, 3]


def test_a_seat_given_up_while_another_reader_signs_up_goes_to_exactly_one(app):
    event_id, (holder, waiting, newcomer) = _setup(app, capacity=1, readers=3)
    committed(app, _sign_up(event_id, holder))
    committed(app, _sign_up(event_id, waiting))

    def give_up():
        user = reload_user(holder)
        registration = signups.registration_of(user, get_event(event_id, user))
        return signups.cancel_registration(user, registration.id).status

    outcomes = race(app, give_up, _sign_up(event_id, newcomer))
    assert outcomes[0] == "cancelled" and outcomes[1] == "waiting"
    assert _statuses(app, event_id) == {"confirmed": 1, "waiting": 1, "cancelled": 1}

    def seated_user():
        return db.session.execute(select(EventRegistration.user_id).where(
            EventRegistration.event_id == event_id,
            EventRegistration.status == "confirmed")).scalar_one()
    assert committed(app, seated_user) == waiting  # the first in the queue, not the newcomer
