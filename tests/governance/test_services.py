"""Governance rules without HTTP: the two-thirds rule, meetings, membership, handover."""
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from jala import clock
from jala.accounts.models import ChairTerm, RoleGrant
from jala.errors import RuleViolation
from jala.extensions import db
from jala.governance import applications, chair_library, meetings, resolutions
from jala.governance.committee import committee_seat, office_of
from jala.governance.models import AgendaItem, MembershipApplication, Vote
from jala.jobs import OutboxEmail
from jala.membership import (
    current_chair_library,
    current_chair_term,
    find_library,
    get_library,
    is_member,
)
from tests.support.factories import make_portal_admin, make_user
from tests.support.files import Upload
from tests.support.governance import check_in_all, convened_meeting, vote_all


def emails(kind):
    return db.session.execute(select(OutboxEmail).where(OutboxEmail.kind == kind)
                              ).scalars().all()


# --- the rule ------------------------------------------------------------------------------

@pytest.mark.parametrize("yes, attending, passed", [
    (0, 0, False), (1, 1, True), (1, 2, False), (2, 3, True), (1, 3, False), (6, 9, True),
    (5, 9, False), (10, 15, True), (9, 15, False), (10, 14, True), (9, 14, False),
    (8, 12, True), (7, 11, False), (8, 11, True),
])
def test_two_thirds_of_the_members_attending(yes, attending, passed):
    assert meetings.passes(yes, attending) is passed


def test_abstentions_count_as_attending_at_the_boundary(committee):
    chair = committee["NCU"]
    meeting = convened_meeting(chair)
    item = resolutions.add_agenda_item(chair, meeting.id, kind="resolution",
                                       title="Adopt the 2027 plan")
    attending = ["NCU", "JXUFE", "ECJTU", "JXAU", "NCHU", "ECUT", "JXUTCM", "JXSTNU", "JJU"]
    check_in_all(meeting, committee, attending)
    vote_all(meeting, item, committee, yes=attending[:6], no=["JXSTNU"],
             abstain=["JXUTCM", "JJU"])  # 6 of 9 attending: exactly two thirds
    closed = resolutions.close_item(chair, item.id)
    assert (closed.yes, closed.no, closed.abstain, closed.attending) == (6, 1, 2, 9)
    assert closed.passed is True

    second = resolutions.add_agenda_item(chair, meeting.id, kind="resolution",
                                         title="Second motion")
    vote_all(meeting, second, committee, yes=attending[:5], abstain=attending[5:])  # 5 of 9
    assert resolutions.close_item(chair, second.id).passed is False


def test_a_member_who_checked_in_but_did_not_vote_still_attends(committee):
    chair = committee["NCU"]
    meeting = convened_meeting(chair)
    item = resolutions.add_agenda_item(chair, meeting.id, kind="resolution", title="Motion")
    check_in_all(meeting, committee, ["NCU", "JXUFE", "ECJTU"])
    vote_all(meeting, item, committee, yes=["NCU"])
    closed = resolutions.close_item(chair, item.id)
    assert (closed.yes, closed.attending, closed.passed) == (1, 3, False)


def test_one_vote_per_library_changeable_until_the_close_then_final(committee):
    chair = committee["NCU"]
    meeting = convened_meeting(chair)
    item = resolutions.add_agenda_item(chair, meeting.id, kind="resolution", title="Motion")
    check_in_all(meeting, committee, ["NCU", "JXUFE"])
    meetings.cast_vote(committee["JXUFE"], item.id, "no")
    meetings.cast_vote(committee["JXUFE"], item.id, "yes")
    meetings.cast_vote(committee["NCU"], item.id, "yes")
    votes = db.session.execute(select(Vote).where(Vote.item_id == item.id)).scalars().all()
    assert sorted(v.choice for v in votes) == ["yes", "yes"]
    resolutions.close_item(chair, item.id)
    with pytest.raises(RuleViolation, match="closed"):
        meetings.cast_vote(committee["JXUFE"], item.id, "no")
    with pytest.raises(RuleViolation, match="already closed"):
        resolutions.close_item(chair, item.id)


def test_the_database_refuses_a_vote_on_a_closed_item_and_a_changed_tally(committee):
    from sqlalchemy.exc import DBAPIError

    chair = committee["NCU"]
    meeting = convened_meeting(chair)
    item = resolutions.add_agenda_item(chair, meeting.id, kind="resolution", title="Motion")
    check_in_all(meeting, committee, ["NCU"])
    meetings.cast_vote(chair, item.id, "yes")
    resolutions.close_item(chair, item.id)
    for statement in (
        f"INSERT INTO votes (item_id, library_id, user_id, choice, cast_at) VALUES "
        f"({item.id}, {committee['JXUFE'].home_library_id}, {committee['JXUFE'].id}, 'yes', now())",
        f"UPDATE agenda_items SET yes = 5 WHERE id = {item.id}",
        f"DELETE FROM votes WHERE item_id = {item.id}",
    ):
        savepoint = db.session.begin_nested()
        with pytest.raises(DBAPIError):
            db.session.execute(db.text(statement))
        savepoint.rollback()


def test_only_checked_in_members_vote_and_only_for_their_library(committee, ctx):
    chair = committee["NCU"]
    meeting = convened_meeting(chair)
    item = resolutions.add_agenda_item(chair, meeting.id, kind="resolution", title="Motion")
    with pytest.raises(RuleViolation, match="Check in"):
        meetings.cast_vote(committee["JXUFE"], item.id, "yes")
    librarian = make_user(library="JXUFE", roles=("librarian",))
    with pytest.raises(RuleViolation, match="Only committee members"):
        meetings.check_in(librarian, meeting.id, "online")
    with pytest.raises(RuleViolation, match="for, against or abstain"):
        meetings.check_in(committee["JXUFE"], meeting.id, "online")
        meetings.cast_vote(committee["JXUFE"], item.id, "maybe")


def test_members_of_a_withdrawn_library_have_no_seat(committee):
    get_library("JCU").left_on = clock.local_today()
    assert committee_seat(committee["JCU"]) is None


# --- convening ------------------------------------------------------------------------------

def test_only_the_chair_or_a_vice_chair_convenes_alone(committee):
    with pytest.raises(RuleViolation, match="request one jointly"):
        convened_meeting(committee["JXUFE"])
    meeting = convened_meeting(committee["NCU"])
    assert meeting.status == "convened" and meeting.presiding_id == committee["NCU"].id
    notices = emails("governance.notice")
    assert len(notices) == 15 and "Annual meeting" in notices[0].subject


def test_three_members_convene_a_meeting_jointly(committee):
    starts = clock.now() + timedelta(days=3)
    meeting = meetings.request_meeting(committee["JXUFE"], title="Extraordinary meeting",
                                       starts_at=starts, online_url="https://meet.example.cn/j")
    assert meeting.status == "requested"
    with pytest.raises(RuleViolation, match="already signed"):
        meetings.cosign_meeting(committee["JXUFE"], meeting.id)
    meetings.cosign_meeting(committee["ECJTU"], meeting.id)
    assert meeting.status == "requested" and emails("governance.notice") == []
    meetings.cosign_meeting(committee["JXAU"], meeting.id)
    assert meeting.status == "convened" and meeting.convened_via == "joint"
    assert meeting.presiding_id == committee["NCU"].id  # the committee chair presides
    assert len(emails("governance.notice")) == 15
    with pytest.raises(RuleViolation, match="already convened"):
        meetings.cosign_meeting(committee["NCHU"], meeting.id)


def test_meeting_details_are_checked(committee):
    with pytest.raises(RuleViolation, match="future"):
        meetings.convene_meeting(committee["NCU"], title="x", starts_at=clock.now(), place="x")
    with pytest.raises(RuleViolation, match="place or an online link"):
        meetings.convene_meeting(committee["NCU"], title="x",
                                 starts_at=clock.now() + timedelta(days=1))


# --- membership -----------------------------------------------------------------------------

def apply(code="JXNU", email="director@jxnu.edu.cn"):
    return applications.submit_application(name_zh="江西师范大学图书馆", name_en="JXNU Library",
                                           code=code, city="南昌", contact_name="李馆长",
                                           contact_email=email, letter=Upload())


def test_an_applicant_becomes_a_member_by_a_two_thirds_vote(committee):
    admin = make_portal_admin()
    application = apply()
    with pytest.raises(RuleViolation, match="complete"):
        resolutions.add_agenda_item(committee["NCU"], convened_meeting(committee["NCU"]).id,
                                    kind="application", application_id=application.id)
    applications.review_application(admin, application.id, complete=True)
    meeting = convened_meeting(committee["NCU"])
    item = resolutions.add_agenda_item(admin, meeting.id, kind="application",
                                       application_id=application.id)
    assert application.status == "on_agenda" and "江西师范大学图书馆" in item.title
    present = ["NCU", "JXUFE", "ECJTU"]
    check_in_all(meeting, committee, present)
    vote_all(meeting, item, committee, yes=["NCU", "JXUFE"], no=["ECJTU"])
    resolutions.close_item(committee["NCU"], item.id)
    library = find_library("JXNU")
    assert library is not None and is_member(library)
    assert application.status == "admitted" and application.library_id == library.id
    [welcome] = emails("governance.welcome")
    assert welcome.to_addr == "director@jxnu.edu.cn" and "/reset/" in welcome.body_text
    admin_grant = db.session.execute(select(RoleGrant).where(
        RoleGrant.library_id == library.id)).scalar_one()
    assert admin_grant.role == "library_admin"
    assert [e.kind for e in applications.library_history(library)] == ["applied", "admitted"]


def test_a_rejected_applicant_is_told_why(committee):
    admin = make_portal_admin()
    application = apply(code="GNNU", email="head@gnnu.edu.cn")
    applications.review_application(admin, application.id, complete=True)
    meeting = convened_meeting(committee["NCU"])
    item = resolutions.add_agenda_item(admin, meeting.id, kind="application",
                                       application_id=application.id)
    check_in_all(meeting, committee, ["NCU", "JXUFE", "ECJTU"])
    vote_all(meeting, item, committee, yes=["NCU"], no=["JXUFE", "ECJTU"])
    resolutions.close_item(committee["NCU"], item.id)
    assert application.status == "rejected" and find_library("GNNU") is None
    decision = [e for e in emails("governance.application")
                if e.to_addr == "head@gnnu.edu.cn"][-1]
    assert "two thirds" in decision.body_text and "1 for, 2 against" in decision.body_text


def test_application_input_is_checked(ctx):
    with pytest.raises(RuleViolation, match="already in the alliance"):
        apply(code="NCU")
    with pytest.raises(RuleViolation, match="capital letters"):
        apply(code="x")
    with pytest.raises(RuleViolation, match="not a valid PDF"):
        applications.submit_application(name_zh="某图书馆", code="MOU", city="南昌",
                                        contact_name="张", contact_email="a@b.cn",
                                        letter=Upload(b"<html>", "x.pdf"))
    apply(code="PXU", email="a@pxu.cn")
    with pytest.raises(RuleViolation, match="already being handled"):
        apply(code="PXU", email="b@pxu.cn")


def test_a_withdrawal_takes_effect_on_its_date_and_is_reported(committee):
    chair = committee["NCU"]
    meeting = convened_meeting(chair)
    director = committee["YCU"]
    effective = clock.local_today() + timedelta(days=30)
    with pytest.raises(RuleViolation, match="director or its admins"):
        applications.withdraw(committee["NCU"], "YCU", effective, Upload())
    applications.withdraw(director, "YCU", effective, Upload(filename="notice.pdf"))
    library = get_library("YCU")
    assert is_member(library)
    assert not is_member(library, effective)
    info = [i for i in meeting.items if i.kind == "information"]
    assert len(info) == 1 and "宜春学院图书馆" in info[0].title
    with pytest.raises(RuleViolation, match="already given notice"):
        applications.withdraw(director, "YCU", effective, Upload())
    closed = resolutions.close_item(chair, info[0].id)
    assert closed.status == "closed" and closed.passed is None


def test_revocation_by_resolution(committee):
    chair = committee["NCU"]
    meeting = convened_meeting(chair)
    item = resolutions.add_agenda_item(chair, meeting.id, kind="revocation",
                                       target_library_code="JCU")
    check_in_all(meeting, committee, ["NCU", "JXUFE", "ECJTU"])
    vote_all(meeting, item, committee, yes=["NCU", "JXUFE", "ECJTU"])
    resolutions.close_item(chair, item.id)
    assert get_library("JCU").left_on == clock.local_today()


# --- offices and rotation ---------------------------------------------------------------------

def test_electing_a_new_chair_ends_the_old_one(committee):
    chair = committee["NCU"]
    meeting = convened_meeting(chair)
    item = resolutions.add_agenda_item(chair, meeting.id, kind="elect_chair",
                                       target_user_id=committee["JXUFE"].id)
    check_in_all(meeting, committee, ["NCU", "JXUFE"])
    vote_all(meeting, item, committee, yes=["NCU", "JXUFE"])
    resolutions.close_item(chair, item.id)
    assert office_of(committee["JXUFE"]) == "chair"
    assert office_of(chair) is None
    # the presiding member still closes the rest of the meeting
    meetings.close_meeting(chair, meeting.id)


def test_rotation_order_then_handover_moves_the_portal_admin_roles(committee):
    outgoing_chair = current_chair_library()
    admins = [make_user(library=outgoing_chair.code, roles=("portal_admin",)) for _ in range(2)]
    chair = committee["NCU"]
    meeting = convened_meeting(chair)
    year = current_chair_term().year + 1
    with pytest.raises(RuleViolation, match="not a member library"):
        resolutions.add_agenda_item(chair, meeting.id, kind="rotation_order",
                                    rotation=f"{year} NOPE")
    item = resolutions.add_agenda_item(chair, meeting.id, kind="rotation_order",
                                       rotation=f"{year} JXAU\n{year + 1} ECJTU")
    check_in_all(meeting, committee, ["NCU"])
    vote_all(meeting, item, committee, yes=["NCU"])
    resolutions.close_item(chair, item.id)
    assert db.session.get(ChairTerm, year).library.code == "JXAU"
    assert current_chair_library() == outgoing_chair  # planned, not in office yet

    handover = chair_library.start_handover(admins[0])
    assert handover.to_library.code == "JXAU"
    with pytest.raises(RuleViolation, match="already in progress"):
        chair_library.start_handover(admins[1])
    with pytest.raises(RuleViolation, match="Only the director"):
        chair_library.accept_handover(committee["ECJTU"], handover.id)
    chair_library.accept_handover(committee["JXAU"], handover.id)
    assert current_chair_library().code == "JXAU"
    active = db.session.execute(select(RoleGrant).where(
        RoleGrant.role == "portal_admin", RoleGrant.revoked_at.is_(None))).scalars().all()
    assert [g.user_id for g in active] == [committee["JXAU"].id]
    for admin in admins:
        db.session.expire(admin, ["grants"])
        assert not admin.is_portal_admin
    with pytest.raises(RuleViolation, match="already accepted"):
        chair_library.accept_handover(committee["JXAU"], handover.id)


def test_no_handover_without_an_approved_next_term(committee):
    admin = make_portal_admin()
    with pytest.raises(RuleViolation, match="rotation order first"):
        chair_library.start_handover(admin)


def test_handover_checklist_counts_open_work(committee):
    apply(code="PXU", email="x@pxu.cn")
    convened_meeting(committee["NCU"])
    checklist = chair_library.handover_checklist()
    assert checklist["applications"] == 1 and checklist["meetings"] == 1
    assert checklist["report_published"] is False


def test_closing_the_meeting_needs_every_item_closed_and_sends_minutes(committee):
    chair = committee["NCU"]
    meeting = convened_meeting(chair)
    item = resolutions.add_agenda_item(chair, meeting.id, kind="budget", title="Budget 2027",
                                       amount="120000")
    with pytest.raises(RuleViolation, match="Close every agenda item"):
        meetings.close_meeting(chair, meeting.id)
    with pytest.raises(RuleViolation, match="presiding member"):
        resolutions.close_item(committee["JXUFE"], item.id)
    check_in_all(meeting, committee, ["NCU"])
    meetings.cast_vote(chair, item.id, "yes")
    resolutions.close_item(chair, item.id)
    meetings.close_meeting(chair, meeting.id, minutes_note="Budget adopted.")
    assert len(emails("governance.minutes")) == 15
    assert db.session.get(AgendaItem, item.id).amount == 120000


def test_every_step_is_audited(committee):
    from jala.audit import AuditEntry

    chair = committee["NCU"]
    meeting = convened_meeting(chair)
    item = resolutions.add_agenda_item(chair, meeting.id, kind="resolution", title="Motion")
    meetings.check_in(chair, meeting.id, "in_person")
    meetings.cast_vote(chair, item.id, "yes")
    resolutions.close_item(chair, item.id)
    actions = db.session.execute(select(AuditEntry.action, AuditEntry.actor_role).where(
        AuditEntry.actor_id == chair.id)).all()
    assert {a for a, _r in actions} >= {"meeting.convene", "agenda.add", "meeting.check_in",
                                       "vote.cast", "agenda.close"}
    assert {r for _a, r in actions} == {"committee_member"}


def test_unused(committee):
    assert MembershipApplication and date


def test_check_in_and_decisions_wait_until_an_hour_before_the_start(committee):
    chair = committee["NCU"]
    meeting = meetings.convene_meeting(chair, title="Later", place="NCU",
                                       starts_at=clock.now() + timedelta(days=3))
    item = resolutions.add_agenda_item(chair, meeting.id, kind="revocation",
                                       target_library_code="JCU")
    with pytest.raises(RuleViolation, match="an hour before"):
        meetings.check_in(chair, meeting.id, "in_person")
    with pytest.raises(RuleViolation, match="not in session"):
        resolutions.close_item(chair, item.id)
    clock.advance(timedelta(days=3) - timedelta(minutes=59))
    meetings.check_in(chair, meeting.id, "in_person")
    meetings.cast_vote(chair, item.id, "yes")
    assert resolutions.close_item(chair, item.id).passed is True


def test_a_returned_application_stays_returned_and_the_library_applies_again(committee):
    admin = make_portal_admin()
    first = apply(code="RTN", email="a@rtn.edu.cn")
    applications.review_application(admin, first.id, complete=False, note="The seal is missing.")
    with pytest.raises(RuleViolation, match="already been reviewed"):
        applications.review_application(admin, first.id, complete=True)
    second = apply(code="RTN", email="a@rtn.edu.cn")
    assert applications.review_application(admin, second.id, complete=True).status == "complete"


def test_the_rotation_order_names_libraries_as_people_do(ctx):
    from jala.governance.chair_library import library_named, parse_rotation

    ncu = library_named("NCU")
    assert ncu.code == "NCU"
    assert library_named("南昌大学") == library_named("南昌大学图书馆") == ncu
    assert library_named("Nanchang University") == library_named("nanchang university library")
    assert library_named("南昌") is None and library_named("大学") is None
    terms = parse_rotation(f"{_next_term_year()} 江西农业大学\n{_next_term_year() + 1} ECJTU")
    assert [library_id for _, library_id in terms] == [library_named("JXAU").id,
                                                       library_named("ECJTU").id]
    with pytest.raises(RuleViolation, match="不是成员馆|is not a member library"):
        parse_rotation(f"{_next_term_year()} 北京大学")


def _next_term_year():
    from jala import clock as _clock
    from jala.governance.chair_library import current_chair_term

    term = current_chair_term()
    return (term.year if term else _clock.local_today().year) + 1


def test_no_handover_to_a_library_that_has_given_notice_or_left(committee):
    admin = make_portal_admin()
    year = current_chair_term().year + 1
    leaving = get_library("JXAU")
    db.session.add(ChairTerm(year=year, library_id=leaving.id))
    leaving.left_on = clock.local_today() + timedelta(days=30)  # notice given
    db.session.flush()
    with pytest.raises(RuleViolation, match="left the alliance or given notice"):
        chair_library.start_handover(admin)
    leaving.left_on = clock.local_today()  # gone
    with pytest.raises(RuleViolation, match="left the alliance or given notice"):
        chair_library.start_handover(admin)
    assert chair_library.open_handover() is None
