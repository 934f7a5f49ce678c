"""The committee (委员会): its seats, its offices and its members.

Each member library's director holds the library's seat (the ``committee_member`` role at a
library that is a member today). The committee elects its chair (委员会主任) and vice-chairs
(副主任) by resolution; what an election or a removal does is here, what it needs is in
``resolutions``.
"""
from flask_babel import gettext as _
from sqlalchemy import select

from jala import clock
from jala.accounts.models import ROLE_COMMITTEE_MEMBER, Library, RoleGrant, User
from jala.audit import record_audit
from jala.errors import NotAllowed
from jala.extensions import db
from jala.governance.models import CommitteeOffice
from jala.mail import notify
from jala.membership import is_member

# --- seats and members --------------------------------------------------------------------------

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


def email_committee(name, *, kind, related, **context):
    """Send the email ``templates/email/<name>.txt`` to every committee member."""
    for user, _library in committee_members():
        notify(user, name, kind=kind, related=related, **context)


# --- offices ------------------------------------------------------------------------------------

def office_of(user):
    """'chair', 'vice_chair' or None: the committee office ``user`` holds now."""
    offices = db.session.execute(
        select(CommitteeOffice.office).where(CommitteeOffice.user_id == user.id,
                                             CommitteeOffice.ended_at.is_(None))
    ).scalars().all()
    return "chair" if "chair" in offices else (offices[0] if offices else None)


def holds_office(user_id, office):
    """Whether the user holds ``office`` ('chair' or 'vice_chair') now."""
    return db.session.execute(select(CommitteeOffice.id).where(
        CommitteeOffice.user_id == user_id, CommitteeOffice.office == office,
        CommitteeOffice.ended_at.is_(None))).first() is not None


def current_offices():
    """Holders of the committee chair and vice-chairs now."""
    return db.session.execute(
        select(CommitteeOffice).where(CommitteeOffice.ended_at.is_(None))
        .order_by(CommitteeOffice.office, CommitteeOffice.started_at)
    ).scalars().all()


def current_chair():
    """The committee chair's office now, or None."""
    return db.session.execute(
        select(CommitteeOffice).where(CommitteeOffice.office == "chair",
                                      CommitteeOffice.ended_at.is_(None))
    ).scalar_one_or_none()


def _end_offices(item, *where, lock=False):
    """End the offices matching ``where``, by the resolution ``item``."""
    query = select(CommitteeOffice).where(*where, CommitteeOffice.ended_at.is_(None))
    for holder in db.session.execute(query.with_for_update() if lock else query).scalars():
        holder.ended_at = clock.now()
        holder.ended_by_item_id = item.id


def elect_to_office(actor, item, office):
    """The committee elected the item's member to ``office`` (a new chair replaces the old)."""
    if office == "chair":
        _end_offices(item, CommitteeOffice.office == "chair", lock=True)
        db.session.flush()
    if not holds_office(item.target_user_id, office):  # elected twice: the first one stands
        db.session.add(CommitteeOffice(office=office, user_id=item.target_user_id,
                                       library_id=item.target_library_id,
                                       started_at=clock.now(), elected_by_item_id=item.id))
    record_audit(actor, "office.elect", "user", item.target_user_id,
                 library_id=item.target_library_id, details={"office": office,
                                                             "item_id": item.id})


def remove_from_office(actor, item, office):
    """The committee removed the item's member from ``office``."""
    _end_offices(item, CommitteeOffice.office == office,
                 CommitteeOffice.user_id == item.target_user_id)
    record_audit(actor, "office.remove", "user", item.target_user_id,
                 details={"office": office, "item_id": item.id})
