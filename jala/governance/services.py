"""Governance rules from the charter: applications, withdrawals, meetings, votes, handovers.

A vote passes iff ``yes ≥ 1`` and ``3·yes ≥ 2·attending`` (attending = libraries checked in
when the vote closes; abstentions attend). The database backs the rules that must hold under
concurrency (see the governance migration's triggers); every step here also locks the rows it
decides on, and writes the audit entry.
"""
import re
import secrets
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError, IntegrityError

from jala import clock
from jala.accounts.models import (
    ROLE_COMMITTEE_MEMBER,
    ROLE_LIBRARY_ADMIN,
    ROLE_PORTAL_ADMIN,
    ChairTerm,
    Library,
    RoleGrant,
    User,
)
from jala.accounts.passwords import hash_password
from jala.accounts.roles import grant_role
from jala.accounts.services import find_user_by_email, new_password_link, normalise_email
from jala.audit import record_audit
from jala.errors import NotAllowed, NotFound, RuleViolation
from jala.extensions import db
from jala.files import store_upload
from jala.governance.models import (
    ITEM_KINDS,
    AgendaItem,
    AnnualDocument,
    Attendance,
    CommitteeOffice,
    Handover,
    Meeting,
    MeetingSignature,
    MembershipApplication,
    MembershipEvent,
    Vote,
    Withdrawal,
)
from jala.jobs import queue_email
from jala.mail import user_locale
from jala.membership import (
    current_chair_term,
    find_library,
    get_library,
    is_member,
    member_library_ids,
    serves_member_library,
)
from jala.urls import external_url


def require_center_admin(actor):
    """Raise unless ``actor`` is a portal admin of the chair library (the management center)."""
    from jala.governance.center import require_center_admin as check

    return check(actor)


LETTER_LIMIT = 20 * 1024 * 1024
CODE_RE = re.compile(r"^[A-Z][A-Z0-9]{1,15}$")
JOINT_SIGNATURES = 3
CHECK_IN_OPENS = timedelta(hours=1)
OPEN_APPLICATION = ("submitted", "complete", "on_agenda")


def passes(yes, attending):
    """The two-thirds rule: at least one yes, and yes ≥ 2/3 of the libraries attending."""
    return yes >= 1 and 3 * yes >= 2 * attending


# --- the committee ------------------------------------------------------------------------------

def committee_seat(user):
    """The member library whose committee seat ``user`` holds today, or None."""
    if user is None or not user.is_authenticated:
        return None
    today = clock.local_today()
    for grant in user.grants:
        if grant.role == ROLE_COMMITTEE_MEMBER and is_member(grant.library, today):
            return grant.library
    return None


def require_seat(user):
    """The user's committee library, or refuse."""
    library = committee_seat(user)
    if library is None:
        raise NotAllowed(_("Only committee members (the directors of member libraries) can do "
                           "this."))
    return library


def office_of(user):
    """'chair', 'vice_chair' or None: the committee office ``user`` holds now."""
    offices = db.session.execute(
        select(CommitteeOffice.office).where(CommitteeOffice.user_id == user.id,
                                             CommitteeOffice.ended_at.is_(None))
    ).scalars().all()
    return "chair" if "chair" in offices else (offices[0] if offices else None)


def current_offices():
    """Holders of the committee chair and vice-chairs now."""
    return db.session.execute(
        select(CommitteeOffice).where(CommitteeOffice.ended_at.is_(None))
        .order_by(CommitteeOffice.office, CommitteeOffice.started_at)
    ).scalars().all()


def committee_members():
    """``[(user, library)]`` holding a committee seat at a member library today."""
    today = clock.local_today()
    rows = db.session.execute(
        select(User, Library).join(RoleGrant, RoleGrant.user_id == User.id)
        .join(Library, Library.id == RoleGrant.library_id)
        .where(RoleGrant.role == ROLE_COMMITTEE_MEMBER, RoleGrant.revoked_at.is_(None),
               User.disabled_at.is_(None))
        .order_by(Library.joined_on, Library.id)
    ).all()
    return [(user, library) for user, library in rows if is_member(library, today)]


def _email_committee(kind, subject, body, related):
    for user, _library in committee_members():
        with force_locale(user_locale(user)):
            queue_email(user.email, subject(), body(), kind=kind, related=related)


# --- membership -------------------------------------------------------------------------------

def submit_application(*, name_zh, code, city, contact_name, contact_email, letter,
                       name_en=None, website=None, contact_phone=None):
    """A library applies to join: details, contact and the signed, sealed letter as a PDF."""
    name_zh = (name_zh or "").strip()[:100]
    if not name_zh or not (city or "").strip() or not (contact_name or "").strip():
        raise RuleViolation(_("Give the library's name, its city and a contact person."))
    code = (code or "").strip().upper()
    if not CODE_RE.match(code):
        raise RuleViolation(_("The code is 2 to 16 capital letters or digits, starting with a "
                              "letter (for example JXNU)."))
    if find_library(code) is not None:
        raise RuleViolation(_("A library with the code %(code)s is already in the alliance.",
                              code=code))
    pending = db.session.execute(
        select(MembershipApplication.id).where(
            MembershipApplication.code == code,
            MembershipApplication.status.in_(OPEN_APPLICATION))
    ).first()
    if pending:
        raise RuleViolation(_("An application for %(code)s is already being handled.",
                              code=code))
    email = normalise_email(contact_email)
    if letter is None or not getattr(letter, "filename", ""):
        raise RuleViolation(_("Attach the application letter (PDF) signed by the library's "
                              "head, with the official seal."))
    stored = store_upload(letter.stream, letter.filename, allowed_kinds=("pdf",),
                          max_bytes=LETTER_LIMIT)
    application = MembershipApplication(
        name_zh=name_zh, name_en=(name_en or "").strip()[:200] or None, code=code,
        city=city.strip()[:50], website=(website or "").strip()[:200] or None,
        contact_name=contact_name.strip()[:100], contact_email=email,
        contact_phone=(contact_phone or "").strip()[:40] or None, letter_file_id=stored.id,
        status="submitted", created_at=clock.now())
    db.session.add(application)
    db.session.flush()
    db.session.add(MembershipEvent(application_id=application.id, kind="applied",
                                   on=clock.local_today(), detail=name_zh))
    queue_email(email, _("Your application to join the Jiangxi Academic Library Alliance"),
                _("Dear %(name)s,\n\nWe have received the application of %(library)s. The "
                  "management center will check that it is complete and put it on the agenda "
                  "of a committee meeting; we will write to you with the decision.\n\n"
                  "Jiangxi Academic Library Alliance", name=application.contact_name,
                  library=name_zh),
                kind="governance.application", related=("application", application.id))
    record_audit(None, "application.submit", "application", application.id,
                 details={"code": code, "name": name_zh})
    return application


def applications(actor, open_only=False):
    """Applications for the management center (portal admins), newest first."""
    require_center_admin(actor)
    query = select(MembershipApplication).order_by(MembershipApplication.id.desc())
    if open_only:
        query = query.where(MembershipApplication.status.in_(OPEN_APPLICATION))
    return db.session.execute(query).scalars().all()


def get_application(actor, application_id):
    """One application (portal admins and committee members may read it)."""
    if not (actor.is_portal_admin or committee_seat(actor)):
        raise NotAllowed(_("Only the management center and the committee see applications."))
    application = db.session.get(MembershipApplication, application_id)
    if application is None:
        raise NotFound(_("No such application."))
    return application


def review_application(actor, application_id, complete, note=None):
    """The management center finds an application complete, or returns it with a reason."""
    require_center_admin(actor)
    application = db.session.execute(
        select(MembershipApplication).where(MembershipApplication.id == application_id)
        .with_for_update()).scalar_one_or_none()
    if application is None:
        raise NotFound(_("No such application."))
    if application.status != "submitted":
        # a returned application stays returned: the library applies again with a new one
        raise RuleViolation(_("This application has already been reviewed."), status=409)
    note = (note or "").strip()[:2000]
    if not complete and not note:
        raise RuleViolation(_("Say what is missing, so the applicant can complete it."))
    application.status = "complete" if complete else "returned"
    application.reviewed_by_id = actor.id
    application.reviewed_at = clock.now()
    application.review_note = note or None
    if not complete:
        queue_email(application.contact_email,
                    _("Your application to the alliance is incomplete"),
                    _("Dear %(name)s,\n\nThe management center found the application of "
                      "%(library)s incomplete:\n\n%(note)s\n\nPlease send a complete "
                      "application.\n\nJiangxi Academic Library Alliance",
                      name=application.contact_name, library=application.name_zh, note=note),
                    kind="governance.application", related=("application", application.id))
    record_audit(actor, "application.review", "application", application.id,
                 details={"complete": bool(complete), "note": note})
    return application


def withdraw(actor, library_code, effective_on, notice):
    """A member withdraws by written notice (no vote); it is reported to the next meeting."""
    library = get_library(library_code)
    if not (actor.has_role(ROLE_LIBRARY_ADMIN, library.id)
            or actor.has_role(ROLE_COMMITTEE_MEMBER, library.id)):
        raise NotAllowed(_("Only the library's director or its admins can give notice."))
    today = clock.local_today()
    if not is_member(library, today) or library.left_on is not None:
        raise RuleViolation(_("%(code)s has already given notice or left.", code=library.code))
    if effective_on is None or effective_on < today:
        raise RuleViolation(_("The notice takes effect today or on a later date."))
    if notice is None or not getattr(notice, "filename", ""):
        raise RuleViolation(_("Attach the written notice (PDF)."))
    stored = store_upload(notice.stream, notice.filename, allowed_kinds=("pdf",),
                          max_bytes=LETTER_LIMIT)
    row = Withdrawal(library_id=library.id, notice_file_id=stored.id, effective_on=effective_on,
                     submitted_by_id=actor.id, created_at=clock.now())
    db.session.add(row)
    library.left_on = effective_on
    db.session.add(MembershipEvent(library_id=library.id, kind="withdrew", on=effective_on))
    db.session.flush()
    meeting = db.session.execute(
        select(Meeting).where(Meeting.status == "convened", Meeting.starts_at >= clock.now())
        .order_by(Meeting.starts_at).limit(1)).scalar_one_or_none()
    if meeting is not None:
        _report_withdrawals(meeting)
    record_audit(actor, "membership.withdraw", "library", library.code, library_id=library.id,
                 details={"effective_on": effective_on.isoformat()})
    return row


def _report_withdrawals(meeting):
    """Put withdrawal notices not yet reported on the meeting's agenda as information items."""
    rows = db.session.execute(
        select(Withdrawal).where(Withdrawal.reported_item_id.is_(None)).order_by(Withdrawal.id)
    ).scalars().all()
    for row in rows:
        item = _new_item(meeting, "information",
                         _("Withdrawal notice of %(library)s, effective %(date)s",
                           library=row.library.name_zh, date=row.effective_on.isoformat()),
                         target_library_id=row.library_id)
        row.reported_item_id = item.id


def library_history(library):
    """The library's membership events, oldest first."""
    return db.session.execute(
        select(MembershipEvent).where(MembershipEvent.library_id == library.id)
        .order_by(MembershipEvent.on, MembershipEvent.id)).scalars().all()


# --- meetings -----------------------------------------------------------------------------------

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


def _lock_meeting(meeting_id):
    meeting = db.session.execute(
        select(Meeting).where(Meeting.id == meeting_id).with_for_update()).scalar_one_or_none()
    if meeting is None:
        raise NotFound(_("No such meeting."))
    return meeting


def cosign_meeting(actor, meeting_id):
    """Sign a joint request; the third library's signature convenes the meeting."""
    library = require_seat(actor)
    meeting = _lock_meeting(meeting_id)  # signatures are counted under this lock
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
        chair = db.session.execute(
            select(CommitteeOffice).where(CommitteeOffice.office == "chair",
                                          CommitteeOffice.ended_at.is_(None))
        ).scalar_one_or_none()
        _convene(meeting, presiding=chair.user if chair else meeting.requested_by)
        record_audit(actor, "meeting.convene", "meeting", meeting.id,
                     details={"via": "joint", "signatures": len(meeting.signatures)})
    return meeting


def _convene(meeting, presiding):
    meeting.status = "convened"
    meeting.convened_at = clock.now()
    meeting.presiding_id = presiding.id
    db.session.flush()
    _report_withdrawals(meeting)
    link = external_url("governance.meeting", meeting_id=meeting.id)
    when = meeting.starts_at.astimezone(clock.SHANGHAI).strftime("%Y-%m-%d %H:%M")
    where = " · ".join(p for p in (meeting.place, meeting.online_url) if p)
    _email_committee(
        "governance.notice",
        lambda: _("Committee meeting: %(title)s", title=meeting.title),
        lambda: _("The committee of the Jiangxi Academic Library Alliance meets on %(when)s "
                  "(Beijing time) at %(where)s.\n\nAgenda and check-in:\n%(link)s",
                  when=when, where=where, link=link),
        ("meeting", meeting.id))


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


def check_in_open(meeting):
    """Check-in (and so voting) opens an hour before the meeting starts."""
    return clock.now() >= meeting.starts_at - CHECK_IN_OPENS


def can_edit_agenda(user, meeting):
    """The presiding member, the committee chair or the management center prepares agendas."""
    return meeting.status != "closed" and (can_preside(user, meeting) or user.is_portal_admin)


def _new_item(meeting, kind, title, **fields):
    position = db.session.execute(
        select(func.coalesce(func.max(AgendaItem.position), 0))
        .where(AgendaItem.meeting_id == meeting.id)).scalar_one() + 1
    item = AgendaItem(meeting_id=meeting.id, position=position, kind=kind, title=title[:300],
                      status="open", **fields)
    db.session.add(item)
    db.session.flush()
    db.session.expire(meeting, ["items"])
    return item


def parse_rotation(text):
    """``"2027 NCU"`` lines → ``[[2027, library_id], ...]`` for years after the current term."""
    term = current_chair_term()
    first_year = (term.year if term else clock.local_today().year) + 1
    terms, seen = [], set()
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.replace(",", " ").replace("，", " ").split()
        if len(parts) != 2 or not parts[0].isdecimal():
            raise RuleViolation(_("Rotation line %(n)d: write a year and a library code, for "
                                  "example 2027 NCU.", n=number))
        year, library = int(parts[0]), find_library(parts[1])
        if library is None or not is_member(library):
            raise RuleViolation(_("Rotation line %(n)d: %(code)s is not a member library.",
                                  n=number, code=parts[1]))
        if year < first_year or year > first_year + 30 or year in seen:
            raise RuleViolation(_("Rotation line %(n)d: years must be %(year)d or later, each "
                                  "only once.", n=number, year=first_year))
        seen.add(year)
        terms.append([year, library.id])
    if not terms:
        raise RuleViolation(_("Give the rotation order: one line per year, like 2027 NCU."))
    return sorted(terms)


def add_agenda_item(actor, meeting_id, *, kind, title=None, body=None, application_id=None,
                    target_library_code=None, target_user_id=None, rotation=None,
                    amount=None):
    """Put an item on a meeting's agenda (checked for what its kind needs)."""
    meeting = _lock_meeting(meeting_id)
    if not can_edit_agenda(actor, meeting):
        raise NotAllowed(_("Only the presiding member, the committee chair or the management "
                           "center prepares the agenda."))
    if kind not in ITEM_KINDS:
        raise RuleViolation(_("Choose the kind of item."))
    title = (title or "").strip()
    fields = {"body": (body or "").strip()[:20000] or None}
    if kind == "application":
        application = db.session.execute(
            select(MembershipApplication).where(MembershipApplication.id == application_id)
            .with_for_update()).scalar_one_or_none() if application_id else None
        if application is None or application.status != "complete":
            raise RuleViolation(_("Choose an application the management center found "
                                  "complete."))
        application.status = "on_agenda"
        fields["application_id"] = application.id
        title = title or _("Admit %(library)s", library=application.name_zh)
    elif kind == "revocation":
        library = find_library(target_library_code)
        if library is None or not is_member(library):
            raise RuleViolation(_("Choose a member library."))
        fields["target_library_id"] = library.id
        title = title or _("Revoke the membership of %(library)s", library=library.name_zh)
    elif kind in ("elect_chair", "elect_vice_chair", "remove_chair", "remove_vice_chair"):
        target = db.session.get(User, target_user_id) if target_user_id else None
        if target is None or committee_seat(target) is None:
            raise RuleViolation(_("Choose a committee member."))
        office = "chair" if kind.endswith("_chair") and "vice" not in kind else "vice_chair"
        holds = db.session.execute(select(CommitteeOffice.id).where(
            CommitteeOffice.user_id == target.id, CommitteeOffice.office == office,
            CommitteeOffice.ended_at.is_(None))).first() is not None
        if kind.startswith("remove") and not holds:
            raise RuleViolation(_("%(name)s does not hold that office.", name=target.display_name))
        if kind.startswith("elect") and holds:
            raise RuleViolation(_("%(name)s already holds that office.", name=target.display_name))
        fields["target_user_id"] = target.id
        fields["target_library_id"] = committee_seat(target).id
        title = title or {
            "elect_chair": _("Elect %(name)s committee chair", name=target.display_name),
            "elect_vice_chair": _("Elect %(name)s vice-chair", name=target.display_name),
            "remove_chair": _("Remove %(name)s as committee chair", name=target.display_name),
            "remove_vice_chair": _("Remove %(name)s as vice-chair", name=target.display_name),
        }[kind]
    elif kind == "rotation_order":
        fields["payload"] = {"terms": parse_rotation(rotation)}
        title = title or _("Rotation order of the chair library")
    elif kind in ("budget", "expense"):
        if amount not in (None, ""):
            try:
                value = Decimal(str(amount)).quantize(Decimal("0.01"))
            except InvalidOperation as exc:
                raise RuleViolation(_("The amount must be a number of yuan.")) from exc
            if not value.is_finite() or value < 0 or value > Decimal("1e11"):
                raise RuleViolation(_("The amount must be a number of yuan."))
            fields["amount"] = value
    if not title:
        raise RuleViolation(_("Give the item a title."))
    item = _new_item(meeting, kind, title, **fields)
    record_audit(actor, "agenda.add", "agenda_item", item.id,
                 details={"meeting_id": meeting.id, "kind": kind, "title": item.title})
    return item


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
    if item is None or item.kind == "information":
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


def close_item(actor, item_id):
    """The presiding member closes the vote; the tally is computed now, once and for all."""
    item = db.session.execute(
        select(AgendaItem).where(AgendaItem.id == item_id).with_for_update()
    ).scalar_one_or_none()  # waits for votes in flight (they hold the row FOR SHARE)
    if item is None:
        raise NotFound(_("No such agenda item."))
    meeting = item.meeting
    if not can_preside(actor, meeting):
        raise NotAllowed(_("Only the presiding member or the committee chair closes a vote."))
    if meeting.status != "convened" or not check_in_open(meeting):
        raise RuleViolation(_("The meeting is not in session."), status=409)
    if item.status != "open":
        raise RuleViolation(_("This item is already closed."), status=409)
    now = clock.now()
    if item.kind != "information":
        # a library that left (or was revoked) during the meeting no longer decides
        members = member_library_ids()
        counts = dict(db.session.execute(
            select(Vote.choice, func.count()).where(Vote.item_id == item.id,
                                                    Vote.library_id.in_(members))
            .group_by(Vote.choice)).all())
        attending = db.session.execute(
            select(func.count()).select_from(Attendance)
            .where(Attendance.meeting_id == meeting.id,
                   Attendance.library_id.in_(members))).scalar_one()
        item.yes = counts.get("yes", 0)
        item.no = counts.get("no", 0)
        item.abstain = counts.get("abstain", 0)
        item.attending = attending
        item.passed = passes(item.yes, attending)
        _apply_result(actor, item)
    item.status = "closed"
    item.closed_at = now
    item.closed_by_id = actor.id
    db.session.flush()
    record_audit(actor, "agenda.close", "agenda_item", item.id, details={
        "meeting_id": meeting.id, "kind": item.kind, "yes": item.yes, "no": item.no,
        "abstain": item.abstain, "attending": item.attending, "passed": item.passed})
    return item


def _tally_text(item):
    return _("%(yes)d for, %(no)d against, %(abstain)d abstaining, %(attending)d attending",
             yes=item.yes, no=item.no, abstain=item.abstain, attending=item.attending)


def _apply_result(actor, item):
    """What a resolution does once the committee decides it."""
    today = clock.local_today()
    if item.kind == "application":
        _decide_application(actor, item)
    elif item.kind == "revocation" and item.passed:
        library = item.target_library
        if library.left_on is None or library.left_on > today:
            library.left_on = today
        db.session.add(MembershipEvent(library_id=library.id, kind="revoked", on=today,
                                       detail=item.title))
        record_audit(actor, "membership.revoke", "library", library.code, library_id=library.id,
                     details={"item_id": item.id})
    elif item.kind in ("elect_chair", "elect_vice_chair") and item.passed:
        office = "chair" if item.kind == "elect_chair" else "vice_chair"
        if office == "chair":
            for holder in db.session.execute(select(CommitteeOffice).where(
                    CommitteeOffice.office == "chair", CommitteeOffice.ended_at.is_(None))
                    .with_for_update()).scalars():
                holder.ended_at = clock.now()
                holder.ended_by_item_id = item.id
            db.session.flush()
        holds = db.session.execute(select(CommitteeOffice.id).where(
            CommitteeOffice.office == office, CommitteeOffice.user_id == item.target_user_id,
            CommitteeOffice.ended_at.is_(None))).first()
        if holds is None:  # elected twice in one meeting: the first election stands
            db.session.add(CommitteeOffice(office=office, user_id=item.target_user_id,
                                           library_id=item.target_library_id,
                                           started_at=clock.now(), elected_by_item_id=item.id))
        record_audit(actor, "office.elect", "user", item.target_user_id,
                     library_id=item.target_library_id, details={"office": office,
                                                                 "item_id": item.id})
    elif item.kind in ("remove_chair", "remove_vice_chair") and item.passed:
        office = "chair" if item.kind == "remove_chair" else "vice_chair"
        for holder in db.session.execute(select(CommitteeOffice).where(
                CommitteeOffice.office == office, CommitteeOffice.user_id == item.target_user_id,
                CommitteeOffice.ended_at.is_(None))).scalars():
            holder.ended_at = clock.now()
            holder.ended_by_item_id = item.id
        record_audit(actor, "office.remove", "user", item.target_user_id,
                     details={"office": office, "item_id": item.id})
    elif item.kind == "expense" and item.passed:
        from jala.governance.center import approve_expenses

        approve_expenses(actor, item)
    elif item.kind == "rotation_order" and item.passed:
        for year, library_id in item.payload["terms"]:
            term = db.session.get(ChairTerm, year)
            if term is None:
                db.session.add(ChairTerm(year=year, library_id=library_id,
                                         approved_by_item_id=item.id))
            elif term.took_office_at is None:
                term.library_id = library_id
                term.approved_by_item_id = item.id
        record_audit(actor, "rotation.approve", "agenda_item", item.id,
                     details={"terms": item.payload["terms"]})


def _decide_application(actor, item):
    application = item.application
    application.decided_at = clock.now()
    if not item.passed:
        application.status = "rejected"
        db.session.add(MembershipEvent(application_id=application.id, kind="rejected",
                                       on=clock.local_today(), detail=_tally_text(item)))
        queue_email(application.contact_email,
                    _("The committee's decision on your application"),
                    _("Dear %(name)s,\n\nThe committee of the Jiangxi Academic Library Alliance "
                      "did not admit %(library)s at its meeting of %(date)s: admission needs "
                      "the votes of at least two thirds of the members attending (%(tally)s)."
                      "\n\nJiangxi Academic Library Alliance",
                      name=application.contact_name, library=application.name_zh,
                      date=item.meeting.starts_at.astimezone(clock.SHANGHAI).date().isoformat(),
                      tally=_tally_text(item)),
                    kind="governance.application", related=("application", application.id))
        return
    if find_library(application.code) is not None:
        raise RuleViolation(_("The code %(code)s is taken; change the application's code "
                              "before closing this vote.", code=application.code))
    library = Library(code=application.code, name_zh=application.name_zh,
                      name_en=application.name_en or application.name_zh, city=application.city,
                      city_en=application.city, joined_on=clock.local_today(),
                      join_date_exact=True, founding=False, website=application.website)
    db.session.add(library)
    db.session.flush()
    application.status = "admitted"
    application.library_id = library.id
    db.session.execute(db.update(MembershipEvent).where(
        MembershipEvent.application_id == application.id).values(library_id=library.id))
    db.session.add(MembershipEvent(library_id=library.id, application_id=application.id,
                                   kind="admitted", on=clock.local_today(),
                                   detail=_tally_text(item)))
    record_audit(actor, "membership.admit", "library", library.code, library_id=library.id,
                 details={"application_id": application.id, "item_id": item.id})
    _invite_library_admin(application, library)


def _invite_library_admin(application, library):
    """Give the applicant's contact a library-admin account and a link to set its password."""
    user = find_user_by_email(application.contact_email)
    if user is None:
        user = User(email=application.contact_email, display_name=application.contact_name,
                    password_hash=hash_password(secrets.token_urlsafe(24)),
                    home_library_id=library.id, card_number=f"{library.code}-ADMIN",
                    email_confirmed_at=clock.now(), verified_at=clock.now(),
                    created_at=clock.now())
        db.session.add(user)
        db.session.flush()
        grant_role(None, user.id, ROLE_LIBRARY_ADMIN, library.code)
        link = new_password_link(user, timedelta(days=14))
        text = _("Set your password within 14 days with this link, then set up the second "
                 "factor at your first login:\n%(link)s", link=link)
    else:
        text = _("Log in with your existing account; a portal admin will give you the library "
                 "admin role.")
    queue_email(application.contact_email,
                _("Welcome to the Jiangxi Academic Library Alliance"),
                _("Dear %(name)s,\n\nThe committee has admitted %(library)s as a member "
                  "library. You are its first library admin on the JALA Portal.\n\n%(next)s"
                  "\n\nJiangxi Academic Library Alliance", name=application.contact_name,
                  library=library.name_zh, next=text),
                kind="governance.welcome", related=("library", library.id),
                library_id=library.id)


def close_meeting(actor, meeting_id, minutes_note=None):
    """Close the meeting once every item is closed; the minutes go to the members."""
    meeting = _lock_meeting(meeting_id)
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
    link = external_url("governance.minutes", meeting_id=meeting.id)
    _email_committee("governance.minutes",
                     lambda: _("Minutes: %(title)s", title=meeting.title),
                     lambda: _("The minutes of the committee meeting, with every item's tally, "
                               "are published:\n%(link)s", link=link),
                     ("meeting", meeting.id))
    record_audit(actor, "meeting.close", "meeting", meeting.id)
    return meeting


# --- the chair library's handover -------------------------------------------------------------

def next_chair_term():
    """The approved term after the current one, or None."""
    current = current_chair_term()
    query = select(ChairTerm).where(ChairTerm.took_office_at.is_(None)).order_by(ChairTerm.year)
    if current is not None:
        query = query.where(ChairTerm.year > current.year)
    return db.session.execute(query.limit(1)).scalar_one_or_none()


def chair_terms():
    """Every term, past, current and planned, by year."""
    return db.session.execute(select(ChairTerm).order_by(ChairTerm.year)).scalars().all()


def open_handover():
    """The handover in progress, or None."""
    return db.session.execute(select(Handover).where(Handover.status == "open")
                              ).scalar_one_or_none()


def start_handover(actor, note=None):
    """The outgoing chair library starts handing the management center to the next one."""
    require_center_admin(actor)
    current = current_chair_term()
    nxt = next_chair_term()
    if nxt is None:
        raise RuleViolation(_("No next chair library is approved yet: the committee approves "
                              "the rotation order first."))
    if nxt.library_id == current.library_id:
        raise RuleViolation(_("The next term is the same library's; there is nothing to hand "
                              "over."))
    handover = Handover(year=nxt.year, from_library_id=current.library_id,
                        to_library_id=nxt.library_id, status="open", started_by_id=actor.id,
                        started_at=clock.now(), note=(note or "").strip()[:2000] or None)
    savepoint = db.session.begin_nested()
    try:
        db.session.add(handover)
        db.session.flush()
        savepoint.commit()
    except IntegrityError as exc:
        savepoint.rollback()
        raise RuleViolation(_("A handover is already in progress."), status=409) from exc
    record_audit(actor, "handover.start", "handover", handover.id,
                 library_id=current.library_id,
                 details={"year": nxt.year, "to": nxt.library.code})
    for user, library in committee_members():
        if library.id == nxt.library_id:
            with force_locale(user_locale(user)):
                queue_email(user.email, _("Your library takes over the management center"),
                            _("%(library)s hands the alliance's management center over to your "
                              "library for %(year)d. Review the checklist and accept the "
                              "handover:\n%(link)s", library=current.library.name_zh,
                              year=nxt.year, link=external_url("governance.handover")),
                            kind="governance.handover", related=("handover", handover.id))
    return handover


def accept_handover(actor, handover_id):
    """The incoming library's director accepts: the portal-admin roles move in this step."""
    handover = db.session.execute(
        select(Handover).where(Handover.id == handover_id).with_for_update()
    ).scalar_one_or_none()
    if handover is None:
        raise NotFound(_("No such handover."))
    if handover.status != "open":
        raise RuleViolation(_("This handover was already accepted or cancelled."), status=409)
    if not actor.has_role(ROLE_COMMITTEE_MEMBER, handover.to_library_id):
        raise NotAllowed(_("Only the director (committee member) of %(code)s accepts the "
                           "handover.", code=handover.to_library.code))
    now = clock.now()
    outgoing = db.session.execute(
        select(RoleGrant).where(RoleGrant.role == ROLE_PORTAL_ADMIN,
                                RoleGrant.revoked_at.is_(None)).with_for_update()
    ).scalars().all()
    term = db.session.get(ChairTerm, handover.year, with_for_update=True, populate_existing=True)
    term.took_office_at = now
    db.session.flush()
    for grant in outgoing:
        grant.revoked_at = now
        grant.revoked_by_id = actor.id
        record_audit(actor, "role.revoke", "user", grant.user_id, library_id=grant.library_id,
                     details={"role": ROLE_PORTAL_ADMIN, "grant_id": grant.id,
                              "by": "handover"})
        db.session.expire(grant.user, ["grants"])
    db.session.flush()
    grant_role(None, actor.id, ROLE_PORTAL_ADMIN, handover.to_library.code)
    handover.status = "accepted"
    handover.accepted_by_id = actor.id
    handover.accepted_at = now
    record_audit(actor, "handover.accept", "handover", handover.id,
                 library_id=handover.to_library_id,
                 details={"year": handover.year, "from": handover.from_library.code,
                          "to": handover.to_library.code,
                          "revoked": [g.user_id for g in outgoing]})
    return handover


def cancel_handover(actor, handover_id):
    """The outgoing chair library withdraws a handover not yet accepted."""
    require_center_admin(actor)
    handover = db.session.execute(
        select(Handover).where(Handover.id == handover_id).with_for_update()
    ).scalar_one_or_none()
    if handover is None or handover.status != "open":
        raise RuleViolation(_("No handover is in progress."), status=409)
    handover.status = "cancelled"
    record_audit(actor, "handover.cancel", "handover", handover.id)
    return handover


def handover_checklist():
    """Open work the incoming chair library takes over."""
    term = current_chair_term()
    year = term.year if term else clock.local_today().year
    report = db.session.execute(select(AnnualDocument).where(
        AnnualDocument.year == year, AnnualDocument.kind == "report")).scalar_one_or_none()
    return {
        "applications": db.session.execute(select(func.count()).select_from(
            MembershipApplication).where(MembershipApplication.status.in_(OPEN_APPLICATION))
        ).scalar_one(),
        "meetings": db.session.execute(select(func.count()).select_from(Meeting).where(
            Meeting.status.in_(("requested", "convened")))).scalar_one(),
        "withdrawals": db.session.execute(select(func.count()).select_from(Withdrawal).where(
            Withdrawal.reported_item_id.is_(None))).scalar_one(),
        "report_year": year,
        "report_published": bool(report and report.published_at),
    }
