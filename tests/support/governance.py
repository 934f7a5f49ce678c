"""The committee for governance tests: seats, the chair, a convened meeting, a stale admin."""
from datetime import timedelta

from jala import clock
from jala.accounts.models import RoleGrant
from jala.extensions import db
from jala.governance import meetings
from jala.governance.models import CommitteeOffice
from jala.membership import get_library
from tests.support.factories import make_user

CODES = ("JXUFE", "ECJTU", "JXAU", "NCHU", "ECUT", "JXUTCM", "JXSTNU", "NCU", "JJU", "NIT",
         "SRNU", "JDZU", "YCU", "JXEMC", "JCU")  # the 15 member libraries


def seat_committee(codes=CODES):
    """A committee member (director) at each library, by code."""
    return {code: make_user(library=code, roles=("committee_member",), name=f"Director {code}")
            for code in codes}


def make_chair(user):
    """Make ``user`` the committee's chair."""
    db.session.add(CommitteeOffice(office="chair", user_id=user.id,
                                   library_id=user.home_library_id, started_at=clock.now()))
    db.session.flush()


def seated_committee():
    """A director at each member library, NCU's in the chair; returns them by code."""
    members = seat_committee()
    make_chair(members["NCU"])
    return members


def convened_meeting(chair, **kwargs):
    """A meeting the chair convenes, starting in half an hour."""
    return meetings.convene_meeting(chair, title=kwargs.get("title", "Annual meeting"),
                                    starts_at=clock.now() + timedelta(minutes=30),
                                    place=kwargs.get("place", "南昌大学图书馆"))


def check_in_all(meeting, committee, codes, mode=None):
    """Check in the directors of ``codes`` (online or in person by turns, unless ``mode``)."""
    for code in codes:
        meetings.check_in(committee[code], meeting.id,
                          mode or ("online" if len(code) % 2 else "in_person"))


def vote_all(meeting, item, committee, yes=(), no=(), abstain=()):
    """The directors of the codes in ``yes``, ``no`` and ``abstain`` vote so on ``item``."""
    for codes, choice in ((yes, "yes"), (no, "no"), (abstain, "abstain")):
        for code in codes:
            meetings.cast_vote(committee[code], item.id, choice)


def stale_portal_admin(code="NCU"):
    """A portal admin grant left at a library that is no longer the chair library."""
    user = make_user(library=code, roles=("librarian",))
    db.session.add(RoleGrant(user_id=user.id, role="portal_admin",
                             library_id=get_library(code).id))
    db.session.flush()
    db.session.expire(user, ["grants"])
    assert user.is_portal_admin
    return user
