"""Stale rows under row locks: the routes load a row (open_handover, get_meeting, the item
form's applications, get_document) and then the service locks it with
``select(...).with_for_update()``. SQLAlchemy returns the object already in the session and
does NOT refresh it from the locked row (no ``populate_existing``), so every check the
service makes after taking the lock reads the state from before the lock. A change committed
in between by another request is not seen.

Each test pauses the victim request exactly where a real request is between its preload and
its lock (a few milliseconds in production), lets the other request commit, then lets it go.
The rows are committed for real, on a database of the test's own.
"""
import threading
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from jala import clock
from jala.accounts.models import ChairTerm, RoleGrant
from jala.errors import RuleViolation
from jala.extensions import db
from jala.governance import applications, center, chair_library, meetings, resolutions
from jala.governance.models import (
    AgendaItem,
    AnnualDocument,
    Handover,
    Meeting,
    MembershipApplication,
)
from jala.membership import current_chair_library, current_chair_term
from tests.support.factories import make_portal_admin, make_user
from tests.support.files import Upload
from tests.support.governance import make_chair
from tests.support.races import committed, in_thread, reload_user
from tests.support.web import as_user, post_form


@pytest.fixture
def app(private_app):
    """These tests commit, so they get a database of their own."""
    return private_app


def committed_seats(app, codes=("NCU", "JXUFE", "ECJTU", "JXAU")):
    """Committee seats for the codes, NCU's in the chair, and a portal admin, committed;
    returns their ids."""
    def step():
        members = {c: make_user(library=c, roles=("committee_member",)) for c in codes}
        make_chair(members["NCU"])
        admin = make_portal_admin()
        db.session.flush()
        return {c: m.id for c, m in members.items()}, admin.id
    return committed(app, step)


# --- R1: an accept paused after the page loaded goes through after the handover is cancelled

def _creds(u):
    return SimpleNamespace(email=u.email, totp_enabled_at=u.totp_enabled_at,
                           totp_secret=u.totp_secret)


def test_a_cancelled_handover_is_not_accepted_afterwards(app, monkeypatch):
    def setup():
        outgoing = current_chair_library()
        admin = make_user(library=outgoing.code, roles=("portal_admin",))
        director = make_user(library="JXAU", roles=("committee_member",))
        year = current_chair_term().year + 1
        db.session.add(ChairTerm(year=year, library_id=director.home_library_id))
        db.session.flush()
        handover = chair_library.start_handover(admin)
        return handover.id, _creds(admin), _creds(director), admin.id, director.id
    handover_id, admin, director, admin_id, director_id = committed(app, setup)

    director_client, admin_client = app.test_client(), app.test_client()
    for client, who in ((director_client, director), (admin_client, admin)):
        as_user(client, who)

    loaded, go = threading.Event(), threading.Event()
    original = chair_library.accept_handover

    def paused(actor, handover_id):  # the route has loaded open_handover() already
        loaded.set()
        go.wait(20)
        return original(actor, handover_id)

    monkeypatch.setattr(chair_library, "accept_handover", paused)
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("response", post_form(
        director_client, "/center/handover", {"action": "accept", "note": ""},
        token_from="/center/handover")))
    thread.start()
    assert loaded.wait(20)
    cancel = post_form(admin_client, "/center/handover", {"action": "cancel", "note": ""},
                       token_from="/center/handover")
    assert cancel.status_code == 303  # the outgoing chair library withdrew the handover
    go.set()
    thread.join(30)

    with app.app_context():
        handover = db.session.get(Handover, handover_id)
        admin_grants = db.session.execute(select(RoleGrant).where(
            RoleGrant.user_id == admin_id, RoleGrant.role == "portal_admin",
            RoleGrant.revoked_at.is_(None))).scalars().all()
        director_grants = db.session.execute(select(RoleGrant).where(
            RoleGrant.user_id == director_id, RoleGrant.role == "portal_admin",
            RoleGrant.revoked_at.is_(None))).scalars().all()
        state = (handover.status, len(admin_grants), len(director_grants),
                 current_chair_library().code)
        db.session.remove()
    # after the cancel the accept must be refused: nothing moves
    assert state[0] == "cancelled" and state[1] == 1 and state[2] == 0, (
        f"handover {state[0]}, outgoing admin grants {state[1]}, incoming {state[2]}, "
        f"chair library {state[3]}")


# --- R2: closing the meeting misses an item added a moment before

def test_a_meeting_is_not_closed_with_an_open_item(app):
    members, admin_id = committed_seats(app)

    def setup():
        chair = reload_user(members["NCU"])
        meeting = meetings.convene_meeting(chair, title="Stale", place="NCU",
                                           starts_at=clock.now() + timedelta(minutes=30))
        item = resolutions.add_agenda_item(chair, meeting.id, kind="information", title="News")
        resolutions.close_item(chair, item.id)
        return meeting.id
    meeting_id = committed(app, setup)

    loaded, go, thread, outcome = in_thread(
        app,
        # the close route's preload
        lambda: meetings.get_meeting(reload_user(members["NCU"]), meeting_id),
        lambda _m: meetings.close_meeting(reload_user(members["NCU"]), meeting_id, "Done"))
    assert loaded.wait(20)
    committed(app, lambda: resolutions.add_agenda_item(reload_user(admin_id), meeting_id,
                                                       kind="resolution", title="Late motion"))
    go.set()
    thread.join(30)

    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        open_items = [i.title for i in meeting.items if i.status == "open"]
        status = meeting.status
        db.session.remove()
    assert not (status == "closed" and open_items), \
        f"meeting closed with open items {open_items}: they can never be voted on or closed"


# --- R3: one application on two agendas

def test_an_application_goes_on_one_agenda_only(app):
    members, admin_id = committed_seats(app)

    def setup():
        application = applications.submit_application(
            name_zh="江西师范大学图书馆", code="JXNU", city="南昌", contact_name="李",
            contact_email="li@jxnu.edu.cn", letter=Upload())
        applications.review_application(reload_user(admin_id), application.id, complete=True)
        chair = reload_user(members["NCU"])
        one = meetings.convene_meeting(chair, title="One", place="NCU",
                                       starts_at=clock.now() + timedelta(minutes=30))
        two = meetings.convene_meeting(chair, title="Two", place="NCU",
                                       starts_at=clock.now() + timedelta(minutes=50))
        return application.id, one.id, two.id
    application_id, one_id, two_id = committed(app, setup)

    loaded, go, thread, outcome = in_thread(
        app,
        # what the add-item route's _item_form loads: the complete applications
        lambda: db.session.query(MembershipApplication).filter_by(status="complete").all(),
        lambda _a: resolutions.add_agenda_item(reload_user(members["NCU"]), one_id,
                                               kind="application",
                                               application_id=application_id))
    assert loaded.wait(20)
    committed(app, lambda: resolutions.add_agenda_item(reload_user(admin_id), two_id,
                                                       kind="application",
                                                       application_id=application_id))
    go.set()
    thread.join(30)

    with app.app_context():
        items = db.session.execute(select(AgendaItem).where(
            AgendaItem.application_id == application_id)).scalars().all()
        count = len(items)
        db.session.remove()
    assert count == 1, "the application is on two agendas: admitted twice, or rejected and " \
                       "then admitted"


# --- R4: a published annual document is overwritten

def test_a_published_plan_is_never_overwritten(app):
    year = clock.local_today().year

    def setup():
        chair = current_chair_library()
        writer = make_user(library=chair.code, roles=("portal_admin",))
        publisher = make_user(library=chair.code, roles=("portal_admin",))
        document = center.save_document(writer, year, "plan", "The plan as published.")
        return writer.id, publisher.id, center.version_of(document)
    writer_id, publisher_id, version = committed(app, setup)

    loaded, go, thread, outcome = in_thread(
        app,
        lambda: center.get_document(reload_user(writer_id), year, "plan"),  # the route's preload
        lambda _d: center.save_document(reload_user(writer_id), year, "plan", "Changed afterwards.",
                                        based_on=version))
    assert loaded.wait(20)
    committed(app, lambda: center.publish_document(reload_user(publisher_id), year, "plan"))
    go.set()
    thread.join(30)

    with app.app_context():
        document = db.session.execute(select(AnnualDocument).where(
            AnnualDocument.year == year, AnnualDocument.kind == "plan")).scalar_one()
        body, published = document.body, document.published_at
        db.session.remove()
    assert published is not None
    assert body == "The plan as published.", "the committee was emailed a text that changed"


def test_two_saves_of_one_version_do_not_both_succeed(app):
    year = clock.local_today().year

    def setup():
        chair = current_chair_library()
        one = make_user(library=chair.code, roles=("portal_admin",))
        two = make_user(library=chair.code, roles=("portal_admin",))
        document = center.save_document(one, year, "report", "Draft 1")
        return one.id, two.id, center.version_of(document)
    one_id, two_id, version = committed(app, setup)

    loaded, go, thread, outcome = in_thread(
        app,
        lambda: center.get_document(reload_user(two_id), year, "report"),
        lambda _d: center.save_document(reload_user(two_id), year, "report", "Two's text",
                                        based_on=version))
    assert loaded.wait(20)
    committed(app, lambda: center.save_document(reload_user(one_id), year, "report", "One's text",
                                                based_on=version))
    go.set()
    thread.join(30)
    assert isinstance(outcome.get("value"), RuleViolation), \
        "the second save, based on the same old version, silently overwrote the first"
