"""Staff roles: granting and revoking them, and the accounts a library's admins manage."""
from flask_babel import gettext as _
from sqlalchemy import select

from jala import clock
from jala.accounts.models import (
    ROLE_COMMITTEE_MEMBER,
    ROLE_PORTAL_ADMIN,
    STAFF_ROLES,
    RoleGrant,
    User,
)
from jala.accounts.passwords import hash_password
from jala.accounts.services import normalise_email
from jala.accounts.sessions import end_all_sessions
from jala.audit import record_audit
from jala.errors import NotAllowed, NotFound, RuleViolation
from jala.extensions import db
from jala.membership import current_chair_library, get_library, is_member, library_name
from jala.permissions import can_manage_library, require_portal_admin


def _check_grant_allowed(actor, role, library, target):
    if role not in STAFF_ROLES:
        raise RuleViolation(_("Unknown role."))
    if role in (ROLE_PORTAL_ADMIN, ROLE_COMMITTEE_MEMBER):
        if actor is not None:
            require_portal_admin(actor)
    elif actor is not None and not can_manage_library(actor, library.id):
        raise NotAllowed(_("You can manage roles only at your own library."))
    if not is_member(library):
        raise RuleViolation(_("%(library)s is no longer a member library.",
                              library=library_name(library)))
    if target.home_library_id != library.id:
        raise RuleViolation(_("Staff roles go to people whose home library is that library."))
    if role == ROLE_PORTAL_ADMIN:
        chair = current_chair_library()
        if chair is None or chair.id != library.id:
            raise RuleViolation(_("Portal admins come from the chair library."))


def grant_role(actor, target_id, role, library_code):
    """Give ``role`` at a library to a user; ``actor`` None means the system (CLI, seed)."""
    target = db.session.get(User, target_id)
    if target is None:
        raise NotFound(_("No such user."))
    library = get_library(library_code)
    _check_grant_allowed(actor, role, library, target)
    if target.has_role(role, library.id):
        return None
    if role == ROLE_COMMITTEE_MEMBER:
        holder = db.session.execute(
            select(RoleGrant).where(RoleGrant.role == role, RoleGrant.library_id == library.id,
                                    RoleGrant.revoked_at.is_(None))
        ).scalar_one_or_none()
        if holder is not None:
            raise RuleViolation(
                _("%(library)s already has a committee member; revoke that role first.",
                  library=library_name(library))
            )
    grant = RoleGrant(user_id=target.id, role=role, library_id=library.id,
                      granted_by_id=actor.id if actor else None)
    db.session.add(grant)
    db.session.flush()
    # a staff role needs a second factor: sessions opened without one end now
    if target.totp_enabled_at is None:
        end_all_sessions(target)
    db.session.expire(target, ["grants"])
    record_audit(actor, "role.grant", "user", target.id, library_id=library.id,
                 details={"role": role, "grant_id": grant.id})
    return grant


def revoke_role(actor, grant_id):
    """End a role grant; the last portal admin cannot be removed."""
    grant = db.session.get(RoleGrant, grant_id)
    if grant is None or grant.revoked_at is not None:
        raise NotFound(_("No such role."))
    if grant.role in (ROLE_PORTAL_ADMIN, ROLE_COMMITTEE_MEMBER):
        require_portal_admin(actor)
    elif not can_manage_library(actor, grant.library_id):
        raise NotAllowed(_("You can manage roles only at your own library."))
    if grant.role == ROLE_PORTAL_ADMIN:
        # lock every active portal-admin grant so two revocations cannot both pass
        active = db.session.execute(
            select(RoleGrant.id).where(
                RoleGrant.role == ROLE_PORTAL_ADMIN, RoleGrant.revoked_at.is_(None)
            ).with_for_update()
        ).scalars().all()
        others = len([i for i in active if i != grant.id])
        if others == 0:
            raise RuleViolation(_("The portal must keep at least one portal admin."))
    grant.revoked_at = clock.now()
    grant.revoked_by_id = actor.id
    db.session.flush()
    db.session.expire(grant.user, ["grants"])
    record_audit(actor, "role.revoke", "user", grant.user_id, library_id=grant.library_id,
                 details={"role": grant.role, "grant_id": grant.id})
    return grant


def library_people(actor, library_code):
    """Users of a library with their roles, for its admins."""
    library = get_library(library_code)
    if not can_manage_library(actor, library.id):
        raise NotAllowed(_("Only this library's admins can see its accounts."))
    users = db.session.execute(
        select(User).where(User.home_library_id == library.id).order_by(User.display_name)
    ).scalars().all()
    return library, users


def create_user_with_role(*, email, password, display_name, library_code, role, card_number,
                          actor=None):
    """Create a verified staff account (CLI and demo data)."""
    library = get_library(library_code)
    user = User(
        email=normalise_email(email),
        password_hash=hash_password(password),
        display_name=display_name,
        home_library_id=library.id,
        card_number=card_number,
        email_confirmed_at=clock.now(),
        verified_at=clock.now(),
    )
    db.session.add(user)
    db.session.flush()
    if role:
        grant_role(actor, user.id, role, library.code)
    return user


