"""Races between real connections: double votes, a vote racing the close, two accepts, the
third signature. Each thread has its own session; the rows are committed for real."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from jala import clock
from jala.accounts.models import RoleGrant
from jala.errors import RuleViolation
from jala.extensions import db
from jala.governance import chair_library, meetings, resolutions
from jala.governance.models import AgendaItem, CommitteeOffice, Handover, Meeting, Vote
from jala.membership import current_chair_library, current_chair_term
from tests.support.factories import make_user
from tests.support.races import race, reload_user

CODES = ("JXUFE", "ECJTU", "JXAU", "NCHU", "ECUT", "JXUTCM", "NCU")


@pytest.fixture
def app(private_app):
    """These tests commit, so they get a database of their own."""
    return private_app


def committed_committee(app):
    """Fresh committee seats for the codes (earlier seats are revoked), a chair, a meeting
    with one open resolution, and every seat checked in; returns ids."""
    with app.test_request_context("/?lang=en"):
        db.session.execute(db.update(RoleGrant).where(
            RoleGrant.role == "committee_member", RoleGrant.revoked_at.is_(None))
            .values(revoked_at=clock.now()))
        db.session.execute(db.update(CommitteeOffice).where(CommitteeOffice.ended_at.is_(None))
                           .values(ended_at=clock.now()))
        members = {code: make_user(library=code, roles=("committee_member",)) for code in CODES}
        chair = members["NCU"]
        db.session.add(CommitteeOffice(office="chair", user_id=chair.id,
                                       library_id=chair.home_library_id, started_at=clock.now()))
        db.session.flush()
        meeting = meetings.convene_meeting(chair, title="Race meeting", place="NCU",
                                           starts_at=clock.now() + timedelta(minutes=30))
        item = resolutions.add_agenda_item(chair, meeting.id, kind="resolution",
                                           title="Race motion")
        for member in members.values():
            meetings.check_in(member, meeting.id, "online")
        db.session.commit()
        return {code: m.id for code, m in members.items()}, meeting.id, item.id


def test_a_double_submit_and_two_tabs_leave_one_vote(app):
    members, _meeting, item_id = committed_committee(app)
    voter = members["JXUFE"]
    race(app, *[lambda choice=choice: meetings.cast_vote(reload_user(voter), item_id, choice)
                for choice in ("yes", "yes", "no", "abstain")])
    with app.app_context():
        rows = db.session.execute(select(Vote).where(Vote.item_id == item_id)).scalars().all()
        assert len(rows) == 1 and rows[0].choice in ("yes", "no", "abstain")


def test_votes_racing_the_close_are_either_counted_or_refused(app):
    members, _meeting, item_id = committed_committee(app)
    voters = [members[c] for c in CODES if c != "NCU"]
    outcomes = race(app, lambda: resolutions.close_item(reload_user(members["NCU"]), item_id).yes,
                    *[lambda v=v: meetings.cast_vote(reload_user(v), item_id, "yes") and "voted"
                      for v in voters])
    tally = outcomes[0]
    accepted = [o for o in outcomes[1:] if o == "voted"]
    refused = [o for o in outcomes[1:] if isinstance(o, RuleViolation)]
    assert len(accepted) + len(refused) == len(voters)
    assert all("closed" in r.message for r in refused)
    with app.app_context():
        item = db.session.get(AgendaItem, item_id)
        stored = db.session.execute(select(func.count()).select_from(Vote).where(
            Vote.item_id == item_id)).scalar_one()
        # every vote that got in was counted in the final tally, and none came after it
        assert item.status == "closed" and item.yes == tally == stored == len(accepted)


def test_two_racing_accepts_give_one_handover(app):
    with app.test_request_context("/?lang=en"):
        outgoing = current_chair_library()
        admin = make_user(library=outgoing.code, roles=("portal_admin",))
        db.session.execute(db.update(RoleGrant).where(
            RoleGrant.role == "committee_member", RoleGrant.library_id.in_(
                select(db.literal_column("id")).select_from(db.table("libraries")).where(
                    db.literal_column("code") == "JXAU")), RoleGrant.revoked_at.is_(None))
            .values(revoked_at=clock.now()))
        director = make_user(library="JXAU", roles=("committee_member",))
        from jala.accounts.models import ChairTerm

        year = current_chair_term().year + 1
        if db.session.get(ChairTerm, year) is None:
            db.session.add(ChairTerm(year=year, library_id=director.home_library_id))
        handover = chair_library.start_handover(admin)
        db.session.commit()
        ids = handover.id, director.id
    outcomes = race(app, *[lambda: chair_library.accept_handover(reload_user(ids[1]), ids[0]).status
                           for _ in range(3)])
    assert outcomes.count("accepted") == 1
    assert all(isinstance(o, RuleViolation) for o in outcomes if o != "accepted")
    with app.app_context():
        assert current_chair_library().code == "JXAU"
        admins = db.session.execute(select(RoleGrant).where(
            RoleGrant.role == "portal_admin", RoleGrant.revoked_at.is_(None))).scalars().all()
        assert [g.user_id for g in admins] == [ids[1]]
        assert db.session.get(Handover, ids[0]).status == "accepted"


def test_racing_third_signatures_convene_once(app):
    members, _meeting, _item = committed_committee(app)
    with app.test_request_context("/?lang=en"):
        meeting = meetings.request_meeting(reload_user(members["JXUFE"]), title="Joint request",
                                           starts_at=clock.now() + timedelta(days=2),
                                           place="JXUFE")
        meetings.cosign_meeting(reload_user(members["ECJTU"]), meeting.id)
        db.session.commit()
        meeting_id = meeting.id
    outcomes = race(app, *[lambda code=code: meetings.cosign_meeting(reload_user(members[code]),
                                                                     meeting_id).status
                           for code in ("JXAU", "NCHU", "ECUT")])
    assert outcomes.count("convened") == 1
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        assert meeting.status == "convened" and len(meeting.signatures) == 3
