"""Committee meetings: convening them, the agenda, check-in, votes and the minutes.

A vote passes iff ``yes ≥ 1`` and ``3·yes ≥ 2·attending`` (attending = libraries checked in
when the vote closes; abstentions attend). What an item of each kind needs and does is in
``resolutions``. The database backs the rules that must hold under concurrency (see the
governance migration's triggers); every step here also locks the rows it decides on, and
writes the audit entry.
"""
import re
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError

from jala import clock
from jala.audit import record_audit
from jala.errors import NotAllowed, NotFound, RuleViolation
from jala.extensions import db
from jala.governance.committee import (
    committee_seat,
    current_chair,
    email_committee,
    office_of,
    require_seat,
)
from jala.governance.models import (
    AgendaItem,
    Attendance,
    Meeting,
    MeetingSignature,
    Vote,
    Withdrawal,
)
from jala.membership import member_library_ids, serves_member_library
from jala.urls import external_url

JOINT_SIGNATURES = 3
CHECK_IN_OPENS = timedelta(hours=1)


def passes(yes, attending):
    """The two-thirds rule: at least one yes, and yes ≥ 2/3 of the libraries attending."""
    return yes >= 1 and 3 * yes >= 2 * attending


# --- convening ----------------------------------------------------------------------------------

def _meeting_details(title, starts_at, place, online_url):
    title = (title or "").strip()[:200]
    if not title:
        raise RuleViolation(_("Give the meeting a title."))
    if starts_at is None or starts_at <= clock.now():
        raise RuleViolation(_("The meeting must start in the future."))
    place = (place or "").strip()[:200] or None
    online_url = (online_url or "").strip()[:500] or None
    if online_url and not re.match(r"^https?://[^\s/]+", online_url):
        raise RuleViolation(_("The online link must start with https://."))
    if not place and not online_url:
        raise RuleViolation(_("Give a place or an online link."))
    return title, starts_at, place, online_url


def convene_meeting(actor, *, title, starts_at, place=None, online_url=None):
    """The committee chair or a vice-chair convenes a meeting; members are notified."""
    require_seat(actor)
    office = office_of(actor)
    if office is None:
        raise NotAllowed(_("Only the committee chair or a vice-chair convenes a meeting; other "
                           "members request one jointly (3 signatures)."))
    title, starts_at, place, online_url = _meeting_details(title, starts_at, place, online_url)
    meeting = Meeting(title=title, starts_at=starts_at, place=place, online_url=online_url,
                      status="requested", convened_via=office, requested_by_id=actor.id,
                      created_at=clock.now())
    db.session.add(meeting)
    db.session.flush()
    _convene(meeting, presiding=actor)
    record_audit(actor, "meeting.convene", "meeting", meeting.id,
                 details={"via": office, "title": title})
    return meeting


def request_meeting(actor, *, title, starts_at, place=None, online_url=None):
    """A committee member starts a joint request; the third signature convenes the meeting."""
    library = require_seat(actor)
    title, starts_at, place, online_url = _meeting_details(title, starts_at, place, online_url)
    meeting = Meeting(title=title, starts_at=starts_at, place=place, online_url=online_url,
                      status="requested", convened_via="joint", requested_by_id=actor.id,
                      created_at=clock.now())
    db.session.add(meeting)
    db.session.flush()
    db.session.add(MeetingSignature(meeting_id=meeting.id, library_id=library.id,
                                    user_id=actor.id, signed_at=clock.now()))
    record_audit(actor, "meeting.request", "meeting", meeting.id, library_id=library.id,
                 details={"title": title})
    db.session.flush()
    return meeting


def lock_meeting(meeting_id):
    """The meeting, locked for this transaction, or NotFound."""
    meeting = db.session.execute(
        select(Meeting).where(Meeting.id == meeting_id).with_for_update()).scalar_one_or_none()
    if meeting is None:
        raise NotFound(_("No such meeting."))
    return meeting


def cosign_meeting(actor, meeting_id):
    """Sign a joint request; the third library's signature convenes the meeting."""
    library = require_seat(actor)
    meeting = lock_meeting(meeting_id)  # signatures are counted under this lock
    if meeting.status != "requested":
        raise RuleViolation(_("This meeting is already convened."), status=409)
    if any(s.library_id == library.id for s in meeting.signatures):
        raise RuleViolation(_("Your library has already signed this request."), status=409)
    db.session.add(MeetingSignature(meeting_id=meeting.id, library_id=library.id,
                                    user_id=actor.id, signed_at=clock.now()))
    db.session.flush()
    db.session.expire(meeting, ["signatures"])
    record_audit(actor, "meeting.cosign", "meeting", meeting.id, library_id=library.id)
    members = member_library_ids()
    if len({s.library_id for s in meeting.signatures} & members) >= JOINT_SIGNATURES:
        chair = current_chair()
        _convene(meeting, presiding=chair.user if chair else meeting.requested_by)
        record_audit(actor, "meeting.convene", "meeting", meeting.id,
                     details={"via": "joint", "signatures": len(meeting.signatures)})
    return meeting


def _convene(meeting, presiding):
    meeting.status = "convened"
    meeting.convened_at = clock.now()
    meeting.presiding_id = presiding.id
    db.session.flush()
    report_withdrawals(meeting)
    email_committee(
        "governance_meeting_notice", kind="governance.notice", related=("meeting", meeting.id),
        meeting=meeting, link=external_url("governance.meeting", meeting_id=meeting.id),
        when=meeting.starts_at.astimezone(clock.SHANGHAI).strftime("%Y-%m-%d %H:%M"),
        where=" · ".join(p for p in (meeting.place, meeting.online_url) if p))


# --- who sees and runs a meeting ----------------------------------------------------------------

def get_meeting(actor, meeting_id):
    """A meeting, for committee members, the management center and staff of members."""
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None or not can_see_meetings(actor):
        raise NotFound(_("No such meeting."))
    return meeting


def can_see_meetings(user):
    """Committee members, portal admins and staff of member libraries see meetings."""
    if user.is_portal_admin or committee_seat(user):
        return True
    return serves_member_library(user)


def meetings_for(actor):
    """Meetings, newest first."""
    if not can_see_meetings(actor):
        raise NotAllowed(_("Meetings are for the committee and the staff of member libraries."))
    return db.session.execute(select(Meeting).order_by(Meeting.starts_at.desc()).limit(100)
                              ).scalars().all()


def can_preside(user, meeting):
    """The presiding member, or the committee chair, runs the votes (while holding a seat)."""
    if committee_seat(user) is None:
        return False
    return meeting.presiding_id == user.id or office_of(user) == "chair"


def check_in_opens_at(meeting):
    """When check-in (and so voting) opens: an hour before the meeting starts."""
    return meeting.starts_at - CHECK_IN_OPENS


def check_in_open(meeting):
    """Whether members may check in now: the meeting is convened and check-in has opened."""
    return meeting.status == "convened" and clock.now() >= check_in_opens_at(meeting)


def can_edit_agenda(user, meeting):
    """The presiding member, the committee chair or the management center prepares agendas."""
    return meeting.status != "closed" and (can_preside(user, meeting) or user.is_portal_admin)


# --- the agenda ---------------------------------------------------------------------------------

def new_item(meeting, kind, title, **fields):
    """Append an item to the meeting's agenda (its kind's needs are checked by the caller)."""
    position = db.session.execute(
        select(func.coalesce(func.max(AgendaItem.position), 0))
        .where(AgendaItem.meeting_id == meeting.id)).scalar_one() + 1
    item = AgendaItem(meeting_id=meeting.id, position=position, kind=kind, title=title[:300],
                      status="open", **fields)
    db.session.add(item)
    db.session.flush()
    db.session.expire(meeting, ["items"])
    return item


def report_withdrawals(meeting):
    """Put withdrawal notices not yet reported on the meeting's agenda as information items."""
    rows = db.session.execute(
        select(Withdrawal).where(Withdrawal.reported_item_id.is_(None)).order_by(Withdrawal.id)
    ).scalars().all()
    for row in rows:
        item = new_item(meeting, "information",
                        _("Withdrawal notice of %(library)s, effective %(date)s",
                          library=row.library.name_zh, date=row.effective_on.isoformat()),
                        target_library_id=row.library_id)
        row.reported_item_id = item.id


# --- check-in and votes -------------------------------------------------------------------------

def check_in(actor, meeting_id, mode):
    """A committee member checks their library in (in person or online)."""
    library = require_seat(actor)
    if mode not in ("in_person", "online"):
        raise RuleViolation(_("Choose in person or online."))
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None:
        raise NotFound(_("No such meeting."))
    if meeting.status != "convened":
        raise RuleViolation(_("Check-in is open only while the meeting is convened."), status=409)
    if not check_in_open(meeting):
        raise RuleViolation(_("Check-in opens an hour before the meeting starts."), status=409)
    statement = insert(Attendance).values(meeting_id=meeting.id, library_id=library.id,
                                          user_id=actor.id, mode=mode, checked_in_at=clock.now())
    inserted = db.session.execute(statement.on_conflict_do_nothing(
        index_elements=["meeting_id", "library_id"]).returning(Attendance.id)).first()
    if inserted:
        record_audit(actor, "meeting.check_in", "meeting", meeting.id, library_id=library.id,
                     details={"mode": mode})
    db.session.expire(meeting, ["attendance"])
    return meeting


def cast_vote(actor, item_id, choice):
    """The library's vote on an item: once per library, changeable until the vote closes."""
    library = require_seat(actor)
    if choice not in ("yes", "no", "abstain"):
        raise RuleViolation(_("Vote for, against or abstain."))
    item = db.session.get(AgendaItem, item_id)
    if item is None or not item.takes_vote:
        raise NotFound(_("No such vote."))
    if item.status != "open":
        raise RuleViolation(_("The vote on this item is closed."), status=409)
    if not any(a.library_id == library.id for a in item.meeting.attendance):
        db.session.expire(item.meeting, ["attendance"])
        if not any(a.library_id == library.id for a in item.meeting.attendance):
            raise RuleViolation(_("Check in to the meeting before voting."), status=409)
    statement = insert(Vote).values(item_id=item.id, library_id=library.id, user_id=actor.id,
                                    choice=choice, cast_at=clock.now())
    statement = statement.on_conflict_do_update(
        index_elements=["item_id", "library_id"],
        set_={"choice": statement.excluded.choice, "user_id": statement.excluded.user_id,
              "cast_at": statement.excluded.cast_at})
    savepoint = db.session.begin_nested()
    try:
        db.session.execute(statement)
        savepoint.commit()
    except DBAPIError as exc:
        savepoint.rollback()
        if "vote refused" in str(exc.orig):
            # the item closed (or the meeting changed) between our check and the vote
            raise RuleViolation(_("The vote on this item is closed."), status=409) from exc
        raise
    db.session.expire(item, ["votes"])
    record_audit(actor, "vote.cast", "agenda_item", item.id, library_id=library.id,
                 details={"choice": choice})
    return item


def vote_of(item, library):
    """The library's current vote on the item, or None."""
    for vote in item.votes:
        if vote.library_id == library.id:
            return vote.choice
    return None


def count_votes(item):
    """Set the item's tally from the votes and check-ins of libraries that are members now."""
    # a library that left (or was revoked) during the meeting no longer decides
    members = member_library_ids()
    counts = dict(db.session.execute(
        select(Vote.choice, func.count()).where(Vote.item_id == item.id,
                                                Vote.library_id.in_(members))
        .group_by(Vote.choice)).all())
    attending = db.session.execute(
        select(func.count()).select_from(Attendance)
        .where(Attendance.meeting_id == item.meeting_id,
               Attendance.library_id.in_(members))).scalar_one()
    item.yes = counts.get("yes", 0)
    item.no = counts.get("no", 0)
    item.abstain = counts.get("abstain", 0)
    item.attending = attending
    item.passed = passes(item.yes, attending)


def tally_text(item):
    """"3 for, 1 against, 0 abstaining, 4 attending", in the language in use."""
    return _("%(yes)d for, %(no)d against, %(abstain)d abstaining, %(attending)d attending",
             yes=item.yes, no=item.no, abstain=item.abstain, attending=item.attending)


# --- the end of a meeting -----------------------------------------------------------------------

def close_meeting(actor, meeting_id, minutes_note=None):
    """Close the meeting once every item is closed; the minutes go to the members."""
    meeting = lock_meeting(meeting_id)
    if not can_preside(actor, meeting):
        raise NotAllowed(_("Only the presiding member or the committee chair closes the "
                           "meeting."))
    if meeting.status != "convened":
        raise RuleViolation(_("The meeting is not in session."), status=409)
    if any(item.status == "open" for item in meeting.items):
        raise RuleViolation(_("Close every agenda item first."), status=409)
    meeting.status = "closed"
    meeting.closed_at = clock.now()
    meeting.minutes_note = (minutes_note or "").strip()[:20000] or None
    email_committee("governance_minutes", kind="governance.minutes",
                    related=("meeting", meeting.id), meeting=meeting,
                    link=external_url("governance.minutes", meeting_id=meeting.id))
    record_audit(actor, "meeting.close", "meeting", meeting.id)
    return meeting
