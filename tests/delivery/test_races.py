"""Races between real database connections: two librarians, a librarian and the timer.

These commit real rows (each thread has its own session and connection), so they use their
own users and records.
"""
from datetime import timedelta

import pytest
from sqlalchemy import select

from jala import clock
from jala.delivery import services as delivery
from jala.delivery import timers
from jala.delivery.models import DeliveryEvent, DeliveryRequest
from jala.errors import RuleViolation
from jala.extensions import db
from jala.membership import get_library
from tests.support.factories import add_record, make_user
from tests.support.races import race as _race
from tests.support.races import reload_user


@pytest.fixture
def app(private_app):
    """These tests commit, so they get a database of their own."""
    return private_app


def _committed_request(app, tag, holders=("NCU",)):
    with app.test_request_context("/?lang=en"):
        record = add_record(f"race-{tag}", list(holders), page_count=500)
        reader = make_user(library="JXUFE")
        staff = [make_user(library=code, roles=("librarian",)) for code in holders]
        staff.append(make_user(library=holders[0], roles=("librarian",)))
        req = delivery.submit_request(reader, kind="book_part", title=record.title,
                                      record_id=record.id, pages="1-5")
        ncu = get_library(holders[0]).id
        req.rota, req.library_id = [ncu] + [i for i in req.rota if i != ncu], ncu
        db.session.commit()
        return req.id, [s.id for s in staff]


def test_two_librarians_accepting_at_once_accept_once(app):
    request_id, (first, _ncu2, second) = _committed_request(app, "accept", ("NCU", "ECJTU"))
    outcomes = _race(
        app,
        lambda: delivery.accept_request(reload_user(first), request_id).status,
        lambda: delivery.accept_request(reload_user(second), request_id).status,
    )
    assert outcomes.count("accepted") == 1
    [loser] = [o for o in outcomes if o != "accepted"]
    assert isinstance(loser, RuleViolation) and "already accepted" in loser.message
    with app.app_context():
        kinds = db.session.execute(select(DeliveryEvent.kind).where(
            DeliveryEvent.request_id == request_id)).scalars().all()
        assert kinds.count("accepted") == 1


def test_the_timer_and_a_librarian_racing_leave_one_consistent_outcome(app):
    request_id, (ncu_staff, _ecjtu, _ncu2) = _committed_request(app, "timer", ("NCU", "ECJTU"))
    clock.advance(timedelta(hours=25))
    outcomes = _race(
        app,
        lambda: delivery.accept_request(reload_user(ncu_staff), request_id).status,
        timers.reroute_overdue_requests,
    )
    with app.app_context():
        req = db.session.get(DeliveryRequest, request_id)
        kinds = [e.kind for e in req.events]
        if outcomes[0] == "accepted":
            # the librarian won: the timer skipped the locked row, or then found it accepted
            # and overdue for a reminder only
            assert req.status == "accepted" and "timed_out" not in kinds
        else:
            # the timer won: the request moved on, and the librarian was told it is gone
            assert isinstance(outcomes[0], RuleViolation)
            assert req.status == "pending" and req.library.code == "ECJTU"
            assert kinds.count("timed_out") == 1 and "accepted" not in kinds
