"""Governance: a director who lost the committee seat, or a library that withdrew or was revoked,
no longer presides, votes, counts as attending or co-signs (review findings G1, G2, G7)."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from jala import clock
from jala.accounts.models import RoleGrant
from jala.errors import NotAllowed
from jala.extensions import db
from jala.governance import applications, meetings, resolutions
from jala.governance.committee import committee_seat
from jala.membership import get_library, is_member
from tests.support.files import Upload
from tests.support.governance import CODES, check_in_all, convened_meeting, vote_all

# --- G1: the chair keeps presiding after losing the committee seat

def test_a_chair_whose_committee_seat_was_revoked_no_longer_closes_votes(committee):
    chair = committee["NCU"]
    meeting = convened_meeting(chair)
    item = resolutions.add_agenda_item(chair, meeting.id, kind="resolution", title="Motion")
    check_in_all(meeting, committee, ["JXUFE", "ECJTU"], mode="online")
    vote_all(meeting, item, committee, yes=["JXUFE", "ECJTU"])
    # NCU's director is replaced: the committee_member grant is revoked (accounts.revoke_role
    # does exactly this), the CommitteeOffice row is left untouched
    grant = db.session.execute(select(RoleGrant).where(
        RoleGrant.user_id == chair.id, RoleGrant.role == "committee_member")).scalar_one()
    grant.revoked_at = clock.now()
    db.session.flush()
    db.session.expire(chair, ["grants"])
    assert committee_seat(chair) is None
    with pytest.raises(NotAllowed):
        resolutions.close_item(chair, item.id)


def test_a_chair_whose_library_withdrew_no_longer_closes_votes(committee):
    chair = committee["NCU"]
    meeting = convened_meeting(chair)
    # a vice-chair presides over this one; the committee chair may still close its votes
    item = resolutions.add_agenda_item(chair, meeting.id, kind="resolution", title="Motion")
    meeting.presiding_id = committee["JXUFE"].id
    check_in_all(meeting, committee, ["JXUFE", "ECJTU"], mode="online")
    vote_all(meeting, item, committee, yes=["JXUFE", "ECJTU"])
    applications.withdraw(chair, "NCU", clock.local_today(), Upload())
    assert committee_seat(chair) is None
    with pytest.raises(NotAllowed):
        resolutions.close_item(chair, item.id)


# --- G2: a revoked library's vote and attendance still decide later items

def test_a_library_revoked_during_the_meeting_does_not_decide_the_next_vote(committee):
    chair = committee["NCU"]
    meeting = convened_meeting(chair)
    revoke = resolutions.add_agenda_item(chair, meeting.id, kind="revocation",
                                         target_library_code="JCU")
    motion = resolutions.add_agenda_item(chair, meeting.id, kind="resolution", title="Budget rule")
    check_in_all(meeting, committee, CODES, mode="online")  # 15 attending
    yes = ["NCU", "JXUFE", "ECJTU", "JXAU", "NCHU", "ECUT", "JXUTCM", "JXSTNU", "JJU", "JCU"]
    vote_all(meeting, motion, committee, yes=yes)  # 10 yes incl. JCU
    vote_all(meeting, revoke, committee, yes=[c for c in CODES if c != "JCU"])
    resolutions.close_item(chair, revoke.id)
    assert not is_member(get_library("JCU"))
    closed = resolutions.close_item(chair, motion.id)
    # JCU is no longer a member: 9 yes of 14 members attending fails (27 < 28); counting the
    # former member's vote and attendance turns it into 10 of 15, which passes
    assert (closed.yes, closed.attending, closed.passed) == (9, 14, False)


# --- G7: a joint request convened by fewer than 3 member libraries

def test_a_signature_of_a_library_that_has_left_does_not_count(committee):
    meeting = meetings.request_meeting(committee["JXUFE"], title="Joint", place="JXUFE",
                                       starts_at=clock.now() + timedelta(days=5))
    meetings.cosign_meeting(committee["ECJTU"], meeting.id)
    # leaves today
    applications.withdraw(committee["ECJTU"], "ECJTU", clock.local_today(), Upload())
    meetings.cosign_meeting(committee["JXAU"], meeting.id)
    members_signed = [s.library.code for s in meeting.signatures
                      if is_member(s.library)]
    assert not (meeting.status == "convened" and len(members_signed) < 3), \
        f"convened with the signatures of {members_signed} only"
