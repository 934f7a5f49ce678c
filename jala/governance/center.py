"""The management center (管理中心): who runs it, its working groups, the annual plan and report.

The management center is run by the chair library; its admins are the portal admins, who are
staff of the current chair library. Staff of member libraries read everything that is
published; only the chair library's portal admins change anything. Its money (cost shares,
expenses, the expense report) is in ``funding``.

A published plan or report is final: committee members were emailed that exact text, so it is
never edited afterwards (a correction goes into the next document, or into the minutes).
"""
from datetime import UTC

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import selectinload

from jala import clock
from jala.accounts.models import ROLE_PORTAL_ADMIN, User
from jala.accounts.services import find_user_by_email
from jala.audit import record_audit
from jala.errors import NotAllowed, NotFound, RuleViolation
from jala.extensions import db
from jala.governance.committee import committee_members
from jala.governance.models import WORKING_GROUPS, AnnualDocument, WorkingGroupMember
from jala.mail import notify
from jala.membership import current_chair_library, serves_member_library
from jala.permissions import require_portal_admin
from jala.urls import external_url

FIRST_YEAR = 2019  # the alliance was founded on 2019-10-23
DOCUMENT_KINDS = ("plan", "report")
DOCUMENT_MAX = 50_000


# --- who may see and change ---------------------------------------------------------------------

def can_see_center(user):
    """Portal admins and staff of member libraries (committee members included) read it all."""
    if user is None or not user.is_authenticated:
        return False
    if user.is_portal_admin:
        return True
    return serves_member_library(user)


def require_center_reader(actor):
    """Raise unless ``actor`` may read the management center's pages."""
    if not can_see_center(actor):
        raise NotAllowed(_("The management center's pages are for staff of member libraries."))


def is_center_admin(user):
    """Whether ``user`` is a portal admin at the current chair library."""
    if user is None or not user.is_authenticated or not user.is_portal_admin:
        return False
    chair = current_chair_library()
    return chair is not None and user.has_role(ROLE_PORTAL_ADMIN, chair.id)


def require_center_admin(actor):
    """Return the chair library, or raise unless ``actor`` is one of its portal admins."""
    require_portal_admin(actor)
    chair = current_chair_library()
    if chair is None or not actor.has_role(ROLE_PORTAL_ADMIN, chair.id):
        # a grant left over from an earlier chair library does not count
        raise NotAllowed(_("Only the chair library's portal admins can do this."))
    return chair


def year_range():
    """The years the management center keeps records for: 2019 to next year."""
    return FIRST_YEAR, clock.local_today().year + 1


def check_year(year):
    """Return ``year`` if the management center keeps records for it, else refuse."""
    first, last = year_range()
    if not isinstance(year, int) or not first <= year <= last:
        raise RuleViolation(_("Choose a year from %(first)d to %(last)d.", first=first,
                              last=last))
    return year


# --- working groups -----------------------------------------------------------------------------

def group_name(group):
    """The working group's name in the language in use."""
    return {
        "resources": _("Resource development"),
        "reader_services": _("Reader services"),
        "it": _("Information technology"),
        "reference": _("Reference and consultation"),
    }.get(group, group)


def working_groups(actor):
    """``[(group, [WorkingGroupMember])]`` in the charter's order, leads first."""
    require_center_reader(actor)
    members = db.session.execute(
        select(WorkingGroupMember).join(User, User.id == WorkingGroupMember.user_id)
        .options(selectinload(WorkingGroupMember.user).selectinload(User.home_library))
        .order_by(WorkingGroupMember.is_lead.desc(), User.display_name, WorkingGroupMember.id)
    ).scalars().all()
    return [(group, [m for m in members if m.group == group]) for group in WORKING_GROUPS]


def group_members(actor, group):
    """The members of one working group, leads first."""
    return dict(working_groups(actor)).get(_check_group(group), [])


def _check_group(group):
    if group not in WORKING_GROUPS:
        raise RuleViolation(_("Choose a working group."))
    return group


def _lock_member(member_id):
    member = db.session.execute(
        select(WorkingGroupMember).where(WorkingGroupMember.id == member_id).with_for_update()
    ).scalar_one_or_none()
    if member is None:
        raise NotFound(_("No such working group member."))
    return member


def _make_lead(member):
    """``member`` leads its group; the group's previous lead steps down."""
    # lock the whole group so that two admins naming a lead at once leave one lead
    others = db.session.execute(
        select(WorkingGroupMember).where(WorkingGroupMember.group == member.group)
        .order_by(WorkingGroupMember.id).with_for_update()
    ).scalars().all()
    for other in others:
        other.is_lead = other.id == member.id


def add_group_member(actor, group, email, *, lead=False):
    """Put a staff member of a member library into a working group."""
    chair = require_center_admin(actor)
    _check_group(group)
    person = find_user_by_email(email)
    if person is None:
        raise RuleViolation(_("No account has the address %(email)s.", email=(email or "")[:254]))
    if not serves_member_library(person):
        raise RuleViolation(_("Working group members must be staff of a member library."))
    member_id = db.session.execute(
        insert(WorkingGroupMember)
        .values(group=group, user_id=person.id, is_lead=False, added_at=clock.now())
        .on_conflict_do_nothing(index_elements=["group", "user_id"])
        .returning(WorkingGroupMember.id)
    ).scalar_one_or_none()
    if member_id is None:
        raise RuleViolation(_("%(name)s is already in this working group.",
                              name=person.display_name))
    member = _lock_member(member_id)
    if lead:
        _make_lead(member)
    db.session.flush()
    record_audit(actor, "center.group_add", "working_group_member", member.id,
                 library_id=chair.id, details={"group": group, "user_id": person.id,
                                               "lead": bool(lead)})
    return member


def remove_group_member(actor, member_id):
    """Take a person out of a working group."""
    chair = require_center_admin(actor)
    member = _lock_member(member_id)
    details = {"group": member.group, "user_id": member.user_id, "lead": member.is_lead}
    db.session.delete(member)
    db.session.flush()
    record_audit(actor, "center.group_remove", "working_group_member", member_id,
                 library_id=chair.id, details=details)
    return member


def set_group_lead(actor, member_id, lead=True):
    """Make a member the lead of their group (replacing the lead), or no longer the lead."""
    chair = require_center_admin(actor)
    member = _lock_member(member_id)
    if lead:
        _make_lead(member)
    else:
        member.is_lead = False
    db.session.flush()
    record_audit(actor, "center.group_lead", "working_group_member", member.id,
                 library_id=chair.id, details={"group": member.group, "user_id": member.user_id,
                                               "lead": bool(lead)})
    return member


# --- the annual work plan and annual report -------------------------------------------------

def document_title(kind, year):
    """"Annual work plan 2025" or "Annual report 2025", in the language in use."""
    if kind == "plan":
        return _("Annual work plan %(year)d", year=year)
    return _("Annual report %(year)d", year=year)


def _check_kind(kind):
    if kind not in DOCUMENT_KINDS:
        raise RuleViolation(_("Choose the work plan or the report."))
    return kind


def _lock_document(year, kind):
    return db.session.execute(
        select(AnnualDocument).where(AnnualDocument.year == year, AnnualDocument.kind == kind)
        .with_for_update()
    ).scalar_one_or_none()


def version_of(document):
    """A stamp of the text's last change, so that one admin does not overwrite another's."""
    return document.updated_at.astimezone(UTC).isoformat() if document is not None else ""


def _saved_meanwhile():
    return RuleViolation(_("Someone else saved this text after you opened it. Copy your "
                           "changes, reload the page and make them again."), status=409)


def get_document(actor, year, kind):
    """The plan or report of a year, or None (none yet, or a draft ``actor`` may not see)."""
    require_center_reader(actor)
    check_year(year)
    _check_kind(kind)
    document = db.session.execute(
        select(AnnualDocument).where(AnnualDocument.year == year, AnnualDocument.kind == kind)
    ).scalar_one_or_none()
    if document is None or (document.published_at is None and not is_center_admin(actor)):
        return None
    return document


def list_documents(actor):
    """Plans and reports, newest year first; drafts only for the management center."""
    require_center_reader(actor)
    query = select(AnnualDocument).order_by(AnnualDocument.year.desc(), AnnualDocument.kind)
    if not is_center_admin(actor):
        query = query.where(AnnualDocument.published_at.is_not(None))
    return db.session.execute(query).scalars().all()


def save_document(actor, year, kind, body, *, based_on=None):
    """Write or rewrite the draft plan or report of a year.

    ``based_on`` is the version the writer started from (``version_of``); if someone saved
    since, the text is refused rather than silently overwriting theirs.
    """
    chair = require_center_admin(actor)
    check_year(year)
    _check_kind(kind)
    body = (body or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if not body:
        raise RuleViolation(_("Write the text first."))
    if len(body) > DOCUMENT_MAX:
        raise RuleViolation(_("The text may have at most %(n)d characters (it has %(has)d).",
                              n=DOCUMENT_MAX, has=len(body)))
    document = _lock_document(year, kind)
    if document is not None and document.published_at is not None:
        raise RuleViolation(_("%(title)s is published and can no longer be changed.",
                              title=document_title(kind, year)), status=409)
    if document is not None and based_on is not None and based_on != version_of(document):
        raise _saved_meanwhile()
    now = clock.now()
    created = document is None
    if created:
        document_id = db.session.execute(
            insert(AnnualDocument)
            .values(year=year, kind=kind, library_id=chair.id, body=body,
                    updated_by_id=actor.id, updated_at=now)
            .on_conflict_do_nothing(index_elements=["year", "kind"])
            .returning(AnnualDocument.id)
        ).scalar_one_or_none()
        if document_id is None:  # another admin created it a moment ago
            raise _saved_meanwhile()
        document = _lock_document(year, kind)
    else:
        document.body = body
        document.library_id = chair.id
        document.updated_by_id = actor.id
        document.updated_at = now
    db.session.flush()
    record_audit(actor, "center.document_save", "annual_document", document.id,
                 library_id=chair.id, details={"year": year, "kind": kind, "chars": len(body),
                                               "created": created})
    return document


def publish_document(actor, year, kind):
    """Publish the plan or report to the members and email every committee member."""
    chair = require_center_admin(actor)
    check_year(year)
    _check_kind(kind)
    document = _lock_document(year, kind)
    if document is None:
        raise RuleViolation(_("Write the text first."))
    if document.published_at is not None:
        raise RuleViolation(_("%(title)s is already published.",
                              title=document_title(kind, year)), status=409)
    document.published_at = clock.now()
    db.session.flush()
    link = external_url("governance.center_document", year=year, kind=kind)
    recipients = committee_members()
    for person, library in recipients:
        notify(person, "center_document_published", kind="center.document_published",
               related=("annual_document", document.id), library_id=library.id,
               chair=chair, year=year, document_kind=kind, link=link,
               document_title=document_title)
    record_audit(actor, "center.document_publish", "annual_document", document.id,
                 library_id=chair.id, details={"year": year, "kind": kind,
                                               "emailed": len(recipients)})
    return document
