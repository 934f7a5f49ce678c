"""Races between real connections: libraries pledging for the same new line at once, and
a pledge against the centre's step on the title's round.

These commit real rows, so they run on a database of their own.
"""
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from jala.accounts.models import User
from jala.errors import RuleViolation
from jala.extensions import db
from jala.procurement import joint_pledges as pledges
from jala.procurement import joint_rounds as rounds
from jala.procurement import services as procurement
from jala.procurement.joint_models import Pledge, ProcurementRound, ProcurementTitle
from tests.support.factories import library_id, make_portal_admin, make_user, set_setting
from tests.support.races import in_thread, race

KEY = "isbn:9787301046067"


@pytest.fixture
def app(private_app):
    return private_app


def test_libraries_pledging_at_once_for_a_new_line_share_one_title(app):
    with app.test_request_context("/?lang=en"):
        reader = make_user(library="JXUFE")
        procurement.suggest_purchase(reader, title="江西通史", isbn="9787301046067")
        staff = {code: make_user(library=code, roles=("librarian",)).id
                 for code in ("JXUFE", "NCU", "ECJTU")}
        db.session.commit()

    def pledge(code):
        return lambda: pledges.pledge(db.session.get(User, staff[code]), KEY,
                                      library_id=library_id(code), kind="share",
                                      amount="50").id

    outcomes = race(app, *(pledge(code) for code in staff))
    assert all(isinstance(o, int) for o in outcomes), outcomes
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(ProcurementTitle)
                                  ).scalar_one() == 1
        assert db.session.execute(select(func.count()).select_from(Pledge)).scalar_one() == 3


def test_a_double_tap_on_pledge_keeps_one_pledge(app):
    with app.test_request_context("/?lang=en"):
        reader = make_user(library="JXUFE")
        procurement.suggest_purchase(reader, title="江西通史", isbn="9787301046067")
        staff_id = make_user(library="JXUFE", roles=("librarian",)).id
        db.session.commit()

    def pledge():
        return pledges.pledge(db.session.get(User, staff_id), KEY,
                              library_id=library_id("JXUFE"), kind="buy", amount="50").id

    outcomes = race(app, pledge, pledge)
    assert sum(isinstance(o, int) for o in outcomes) == 1
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Pledge)).scalar_one() == 1


# --- a pledge against a round step ----------------------------------------------------------

def _round_near_the_threshold(app):
    """A round of one title pledged 80 yuan, open, with the committee limit at 100 yuan."""
    with app.test_request_context("/?lang=en"):
        set_setting("procurement.committee_threshold", 100)
        reader = make_user(library="JXUFE")
        procurement.suggest_purchase(reader, title="江西通史", isbn="9787301046067")
        staff = {code: make_user(library=code, roles=("librarian",)).id
                 for code in ("JXUFE", "NCU")}
        centre = make_portal_admin().id
        pledges.pledge(db.session.get(User, staff["JXUFE"]), KEY,
                       library_id=library_id("JXUFE"), kind="buy", amount="80")
        title_id = db.session.execute(select(ProcurementTitle.id)).scalar_one()
        round_id = rounds.create_round(db.session.get(User, centre), "2027 spring",
                                       [title_id]).id
        db.session.commit()
    return staff, centre, round_id


def _pledge_50(staff):
    return lambda *_: pledges.pledge(db.session.get(User, staff["NCU"]), KEY,
                                     library_id=library_id("NCU"), kind="share",
                                     amount="50").id


def _order(centre, round_id):
    return lambda *_: rounds.step(db.session.get(User, centre), round_id, "order").status


def _settled(app, round_id):
    with app.app_context():
        row = db.session.get(ProcurementRound, round_id)
        return row.status, row.total, row.pledged_total


def test_a_pledge_racing_the_order_never_takes_the_round_past_the_committee(app):
    for attempt in range(3):
        with app.app_context():
            for table in ("procurement_pledges", "procurement_titles", "procurement_rounds"):
                db.session.execute(text(f"DELETE FROM {table}"))
            db.session.commit()
        staff, centre, round_id = _round_near_the_threshold(app)
        pledged, ordered = race(app, _pledge_50(staff), _order(centre, round_id))
        status, total, pledged_total = _settled(app, round_id)
        if ordered == "ordered":
            # the order came first: the pledge found the round's pledges fixed
            assert isinstance(pledged, RuleViolation) and "fixed" in pledged.message, attempt
            assert (status, total, pledged_total) == ("ordered", Decimal("80.00"),
                                                      Decimal("80.00"))
        else:
            # the pledge came first: 130 yuan is the committee's to decide, not orderable
            assert isinstance(pledged, int), attempt
            assert isinstance(ordered, RuleViolation) and "committee" in ordered.message
            assert (status, pledged_total) == ("open", Decimal("130.00"))


def test_a_pledge_waits_for_a_round_step_in_progress_and_then_finds_it_fixed(app):
    staff, centre, round_id = _round_near_the_threshold(app)
    # the centre's order has locked the round and not committed yet
    step_done, release_step, step_thread, step_outcome = in_thread(
        app, _order(centre, round_id), lambda status: status)
    assert step_done.wait(10)
    started, go, pledge_thread, pledge_outcome = in_thread(app, lambda: None, _pledge_50(staff))
    assert started.wait(10)
    go.set()
    pledge_thread.join(1)
    assert pledge_thread.is_alive()  # waits on the round's lock instead of reading "open"
    release_step.set()
    step_thread.join(10)
    pledge_thread.join(10)
    assert step_outcome["value"] == "ordered"
    refused = pledge_outcome["value"]
    assert isinstance(refused, RuleViolation) and "fixed" in refused.message
    assert _settled(app, round_id) == ("ordered", Decimal("80.00"), Decimal("80.00"))


def test_an_order_waits_for_a_pledge_in_progress_and_then_sends_it_to_the_committee(app):
    staff, centre, round_id = _round_near_the_threshold(app)
    pledge_done, release_pledge, pledge_thread, pledge_outcome = in_thread(
        app, _pledge_50(staff), lambda pledge_id: pledge_id)
    assert pledge_done.wait(10)
    started, go, step_thread, step_outcome = in_thread(app, lambda: None,
                                                       _order(centre, round_id))
    assert started.wait(10)
    go.set()
    step_thread.join(1)
    assert step_thread.is_alive()  # waits for the pledge's locks
    release_pledge.set()
    pledge_thread.join(10)
    step_thread.join(10)
    assert isinstance(pledge_outcome["value"], int)
    refused = step_outcome["value"]
    assert isinstance(refused, RuleViolation) and "committee decides" in refused.message
    assert _settled(app, round_id) == ("open", None, Decimal("130.00"))
