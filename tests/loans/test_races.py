"""Races between real database connections: two librarians approving, two readers asking.

These commit real rows (each thread has its own session and connection), so they run on a
database of their own.
"""

import pytest
from sqlalchemy import func, select

from jala.errors import RuleViolation
from jala.extensions import db
from jala.loans import cards, ill
from jala.loans.models import IllEvent, IllRequest
from tests.support.factories import add_record, copy_at, make_user
from tests.support.races import race as _race
from tests.support.races import reload_user


@pytest.fixture
def app(private_app):
    """These tests commit, so they get a database of their own."""
    return private_app


def test_two_librarians_approving_at_once_approve_once(app):
    with app.test_request_context("/?lang=en"):
        record = add_record("race-ill-approve", ["NCU"])
        reader = make_user(library="JXUFE")
        first = make_user(library="NCU", roles=("librarian",))
        second = make_user(library="NCU", roles=("librarian",))
        req = ill.request_loan(reader, copy_at(record, "NCU").id)
        db.session.commit()
        request_id, staff = req.id, (first.id, second.id)
    outcomes = _race(app, *[lambda who=who: ill.approve(reload_user(who), request_id).status
                            for who in staff])
    assert outcomes.count("approved") == 1
    [loser] = [o for o in outcomes if o != "approved"]
    assert isinstance(loser, RuleViolation) and "is approved" in loser.message
    with app.app_context():
        events = db.session.execute(select(IllEvent.to_status).where(
            IllEvent.request_id == request_id)).scalars().all()
        assert events == ["requested", "approved"]


def test_two_readers_asking_for_one_copy_at_once_get_one_request(app):
    with app.test_request_context("/?lang=en"):
        record = add_record("race-ill-copy", ["NCU"])
        holding_id = copy_at(record, "NCU").id
        readers = [make_user(library=code).id for code in ("JXUFE", "JXAU", "ECJTU")]
        db.session.commit()
    outcomes = _race(app, *[lambda who=who: ill.request_loan(reload_user(who), holding_id).id
                            for who in readers])
    winners = [o for o in outcomes if isinstance(o, int)]
    losers = [o for o in outcomes if isinstance(o, RuleViolation)]
    assert len(winners) == 1 and len(losers) == 2
    assert all("already requested by another reader" in o.message for o in losers)
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(IllRequest).where(
            IllRequest.holding_id == holding_id)).scalar_one() == 1


def test_a_reader_applying_twice_at_once_gets_one_card(app):
    with app.test_request_context("/?lang=en"):
        reader_id = make_user(library="JXUFE").id
        db.session.commit()
    outcomes = _race(app, *[lambda: cards.apply_for_card(reload_user(reader_id)).id] * 2)
    assert len([o for o in outcomes if isinstance(o, int)]) == 1
    [loser] = [o for o in outcomes if isinstance(o, RuleViolation)]
    assert "already applied" in loser.message
