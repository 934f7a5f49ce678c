"""Joining and leaving the alliance: membership applications, admission, withdrawal, revocation.

A library applies with a signed, sealed letter; the management center checks that the
application is complete; the committee admits it by a vote on an ``application`` agenda item
(``admit_library`` / ``reject_application`` are what that vote does). A member withdraws by
written notice, without a vote; the committee revokes a membership by a ``revocation`` item.
"""
import re
import secrets
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from jala import clock
from jala.accounts.models import ROLE_COMMITTEE_MEMBER, ROLE_LIBRARY_ADMIN, Library, User
from jala.accounts.passwords import hash_password
from jala.accounts.roles import grant_role
from jala.accounts.services import find_user_by_email, new_password_link, normalise_email
from jala.audit import record_audit
from jala.errors import NotAllowed, NotFound, RuleViolation
from jala.extensions import db
from jala.files import store_upload
from jala.governance.center import require_center_admin
from jala.governance.committee import committee_seat
from jala.governance.meetings import report_withdrawals, tally_text
from jala.governance.models import (
    OPEN_APPLICATION,
    Meeting,
    MembershipApplication,
    MembershipEvent,
    Withdrawal,
)
from jala.mail import notify
from jala.membership import find_library, get_library, is_member, library_name

LETTER_LIMIT = 20 * 1024 * 1024
CODE_RE = re.compile(r"^[A-Z][A-Z0-9]{1,15}$")


# --- applying -----------------------------------------------------------------------------------

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
    _email_applicant(application, "governance_application_received")
    record_audit(None, "application.submit", "application", application.id,
                 details={"code": code, "name": name_zh})
    return application


def _email_applicant(application, name, **context):
    notify(application.contact_email, name, kind="governance.application",
           related=("application", application.id), application=application, **context)


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
        _email_applicant(application, "governance_application_returned")
    record_audit(actor, "application.review", "application", application.id,
                 details={"complete": bool(complete), "note": note})
    return application


# --- the committee's decision -------------------------------------------------------------------

def reject_application(actor, item):
    """The committee did not admit the applicant of the ``application`` item."""
    application = item.application
    application.decided_at = clock.now()
    application.status = "rejected"
    db.session.add(MembershipEvent(application_id=application.id, kind="rejected",
                                   on=clock.local_today(), detail=tally_text(item)))
    _email_applicant(
        application, "governance_application_rejected", tally=tally_text(item),
        date=item.meeting.starts_at.astimezone(clock.SHANGHAI).date().isoformat())


def admit_library(actor, item):
    """The committee admitted the applicant: the library is a member from today."""
    application = item.application
    application.decided_at = clock.now()
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
                                   detail=tally_text(item)))
    record_audit(actor, "membership.admit", "library", library.code, library_id=library.id,
                 details={"application_id": application.id, "item_id": item.id})
    _invite_library_admin(application, library)


def _invite_library_admin(application, library):
    """Give the applicant's contact a library-admin account and a link to set its password."""
    user = find_user_by_email(application.contact_email)
    link = None
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
    # without a link: an account exists already, and a portal admin gives it the role
    notify(application.contact_email, "governance_welcome", kind="governance.welcome",
           related=("library", library.id), library_id=library.id,
           application=application, library=library, link=link)


# --- leaving ------------------------------------------------------------------------------------

def withdraw(actor, library_code, effective_on, notice):
    """A member withdraws by written notice (no vote); it is reported to the next meeting."""
    library = get_library(library_code)
    if not (actor.has_role(ROLE_LIBRARY_ADMIN, library.id)
            or actor.has_role(ROLE_COMMITTEE_MEMBER, library.id)):
        raise NotAllowed(_("Only the library's director or its admins can give notice."))
    today = clock.local_today()
    if not is_member(library, today) or library.left_on is not None:
        raise RuleViolation(_("%(library)s has already given notice or left.",
                              library=library_name(library)))
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
        report_withdrawals(meeting)
    record_audit(actor, "membership.withdraw", "library", library.code, library_id=library.id,
                 details={"effective_on": effective_on.isoformat()})
    return row


def revoke_membership(actor, item):
    """The committee revoked the membership of the ``revocation`` item's library, from today."""
    today = clock.local_today()
    library = item.target_library
    if library.left_on is None or library.left_on > today:
        library.left_on = today
    db.session.add(MembershipEvent(library_id=library.id, kind="revoked", on=today,
                                   detail=item.title))
    record_audit(actor, "membership.revoke", "library", library.code, library_id=library.id,
                 details={"item_id": item.id})


def library_history(library):
    """The library's membership events, oldest first."""
    return db.session.execute(
        select(MembershipEvent).where(MembershipEvent.library_id == library.id)
        .order_by(MembershipEvent.on, MembershipEvent.id)).scalars().all()
