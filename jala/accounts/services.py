"""Account rules: registration, passwords, second factor, sessions, roles and the audit log."""
import gzip
import hashlib
import re
import secrets
import unicodedata
from datetime import timedelta
from functools import cache
from importlib import resources

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_request_context, request
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from jala import clock
from jala.accounts.models import (
    ROLE_COMMITTEE_MEMBER,
    ROLE_LIBRARIAN,
    ROLE_LIBRARY_ADMIN,
    ROLE_PORTAL_ADMIN,
    STAFF_ROLES,
    AuditEntry,
    AuthSession,
    ChairTerm,
    EmailToken,
    Library,
    RoleGrant,
    User,
)
from jala.errors import NotAllowed, NotFound, RuleViolation
from jala.extensions import db
from jala.jobs import queue_email
from jala.settings import get_setting
from jala.web import external_url

# a deliberately plain address: no quoting, comments, commas or encoded words, so that the
# address we store is exactly the one the mail goes to
EMAIL_RE = re.compile(r"^[A-Za-z0-9._%+-]{1,64}@"
                      r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}$")
CARD_RE = re.compile(r"^[A-Za-z0-9-]{3,40}$")
PASSWORD_MIN, PASSWORD_MAX = 8, 128
SESSION_TOUCH_EVERY = timedelta(minutes=1)
ROLE_ORDER = (ROLE_PORTAL_ADMIN, ROLE_COMMITTEE_MEMBER, ROLE_LIBRARY_ADMIN, ROLE_LIBRARIAN)


# --- passwords ---------------------------------------------------------------------------

def _hasher():
    if current_app.config.get("PASSWORD_HASH_FAST"):
        return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    return PasswordHasher()


def hash_password(password):
    """Hash a password with argon2id."""
    return _hasher().hash(password)


def password_matches(password_hash, password):
    """Whether ``password`` matches ``password_hash``."""
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _common_passwords():
    data = resources.files("jala.accounts").joinpath("common-passwords.txt.gz").read_bytes()
    return frozenset(gzip.decompress(data).decode().split())


def check_password_policy(password, email=""):
    """Refuse short, overlong, common or e-mail-derived passwords."""
    if len(password) < PASSWORD_MIN:
        raise RuleViolation(_("The password needs at least %(n)d characters.", n=PASSWORD_MIN))
    if len(password) > PASSWORD_MAX:
        raise RuleViolation(_("The password may have at most %(n)d characters.", n=PASSWORD_MAX))
    lowered = password.lower()
    local_part = email.split("@")[0].lower()
    if lowered in _common_passwords() or (len(local_part) >= 4 and local_part in lowered):
        raise RuleViolation(_("This password is too common or too easy to guess."))


# --- look-ups ----------------------------------------------------------------------------

def normalise_email(email):
    """Trim and lower-case an address, or refuse it."""
    email = (email or "").strip().lower()
    if len(email) > 254 or not EMAIL_RE.match(email) or ".." in email:
        raise RuleViolation(_("Enter a valid email address."))
    return email


def user_locale(user):
    """The language to write to a user in.

    Their choice; else, when they are the one asking now, the language of the page they use;
    else Chinese (never the language of the librarian who acts on their request).
    """
    from flask_babel import get_locale
    from flask_login import current_user

    if user.locale:
        return user.locale
    if has_request_context() and getattr(current_user, "id", None) == user.id:
        return str(get_locale() or "zh_Hans")
    return "zh_Hans"


def find_user_by_email(email):
    """Return the user with this address (any case), or None."""
    return db.session.execute(
        select(User).where(func.lower(User.email) == (email or "").strip().lower())
    ).scalar_one_or_none()


def find_library(code):
    """Return the library with this code (any case), or None."""
    if not code:
        return None
    return db.session.execute(
        select(Library).where(Library.code == code.strip().upper())
    ).scalar_one_or_none()


def get_library(code):
    """Return the library with this code or raise NotFound."""
    library = find_library(code)
    if library is None:
        raise NotFound(_("No member library has the code %(code)s.", code=code))
    return library


def member_libraries(include_former=False):
    """Libraries in join order (founders first)."""
    query = select(Library).order_by(Library.joined_on.nulls_last(), Library.id)
    if not include_former:
        query = query.where(Library.left_on.is_(None))
    return db.session.execute(query).scalars().all()


def current_chair_term():
    """The chair library's term now: the latest that took office (at its handover)."""
    return db.session.execute(
        select(ChairTerm).where(ChairTerm.took_office_at.is_not(None))
        .order_by(ChairTerm.year.desc()).limit(1)
    ).scalar_one_or_none()


def current_chair_library(year=None):
    """The chair library (轮值主任馆) now, or the one that held office in ``year``."""
    if year is None:
        term = current_chair_term()
    else:
        term = db.session.execute(
            select(ChairTerm).where(ChairTerm.year <= year, ChairTerm.took_office_at.is_not(None))
            .order_by(ChairTerm.year.desc()).limit(1)
        ).scalar_one_or_none()
    return term.library if term else None


# --- the audit log -----------------------------------------------------------------------

def main_role(user):
    """The most powerful role a user holds, for the audit log."""
    if user is None:
        return "system"
    for role in ROLE_ORDER:
        if user.has_role(role):
            return role
    return "public" if user.is_public_user else "reader"


def record_audit(actor, action, object_type=None, object_id=None, *, library_id=None,
                 details=None):
    """Append one entry to the audit log."""
    entry = AuditEntry(
        at=clock.now(),
        actor_id=actor.id if actor else None,
        actor_role=main_role(actor),
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        library_id=library_id,
        details=details or {},
        ip=request.remote_addr if has_request_context() else None,
    )
    db.session.add(entry)
    return entry


def search_audit(*, action=None, actor_email=None, library_code=None, since=None, until=None,
                 limit=100, before_id=None):
    """Audit entries, newest first, filtered; ``before_id`` pages backwards."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if action:
        query = query.where(AuditEntry.action.startswith(action.strip()))
    if actor_email:
        query = query.join(User, AuditEntry.actor_id == User.id).where(
            func.lower(User.email).contains(actor_email.strip().lower())
        )
    if library_code:
        library = find_library(library_code)
        query = query.where(AuditEntry.library_id == (library.id if library else -1))
    if since:
        query = query.where(AuditEntry.at >= since)
    if until:
        query = query.where(AuditEntry.at < until)
    if before_id:
        query = query.where(AuditEntry.id < before_id)
    return db.session.execute(query).scalars().all()


# --- registration and email tokens -------------------------------------------------------

def _new_email_token(user, purpose, valid_for):
    token = secrets.token_urlsafe(32)
    db.session.add(
        EmailToken(
            token_hash=hashlib.sha256(token.encode()).hexdigest(),
            purpose=purpose,
            user_id=user.id,
            expires_at=clock.now() + valid_for,
        )
    )
    return token


def new_password_link(user, valid_for):
    """A single-use link for ``user`` to choose a password (invitations)."""
    token = _new_email_token(user, "reset", valid_for)
    return external_url("accounts.reset_password", token=token)


def _use_email_token(token, purpose):
    digest = hashlib.sha256((token or "").encode()).hexdigest()
    row = db.session.execute(
        select(EmailToken)
        .where(EmailToken.token_hash == digest, EmailToken.purpose == purpose)
        .with_for_update()
    ).scalar_one_or_none()
    if row is None:
        raise RuleViolation(_("This link is not valid."), status=404)
    if row.used_at is not None:
        raise RuleViolation(_("This link has already been used."), status=410)
    if row.expires_at <= clock.now():
        raise RuleViolation(_("This link has expired. Ask for a new one."), status=410)
    row.used_at = clock.now()
    return row.user


def register_user(*, email, password, display_name, library_code=None, card_number=None):
    """Create a reader account (with home library and card) or a public user account."""
    email = normalise_email(email)
    display_name = (display_name or "").strip()
    if not 1 <= len(display_name) <= 100:
        raise RuleViolation(_("Enter your name (at most 100 characters)."))
    check_password_policy(password, email)
    library = None
    if library_code:
        library = find_library(library_code)
        if library is None or not library.is_member_on(clock.local_today()):
            raise RuleViolation(_("Choose one of the member libraries."))
        card_number = (card_number or "").strip()
        if not CARD_RE.match(card_number):
            raise RuleViolation(_("Enter your library card number (3-40 letters or digits)."))
        taken = db.session.execute(
            select(User.id).where(User.home_library_id == library.id,
                                  User.card_number == card_number)
        ).first()
        if taken:
            raise RuleViolation(_("This card number is already registered at this library."))
    else:
        card_number = None
    if find_user_by_email(email):
        raise RuleViolation(_("An account with this email address already exists."))
    user = User(
        email=email,
        password_hash=hash_password(password),
        display_name=display_name,
        home_library_id=library.id if library else None,
        card_number=card_number,
    )
    db.session.add(user)
    db.session.flush()
    token = _new_email_token(user, "confirm", timedelta(days=3))
    link = external_url("accounts.confirm_email", token=token)
    with force_locale(user_locale(user)):
        queue_email(
            user.email,
            _("Confirm your JALA Portal email address"),
            _("Welcome to the JALA Portal. Confirm your email address by opening this link "
              "(valid for 3 days):\n\n%(link)s\n", link=link),
            kind="account.confirm",
            related=("user", user.id),
        )
    record_audit(user, "user.register", "user", user.id, library_id=user.home_library_id)
    return user


def confirm_email(token):
    """Mark the address of the token's user as confirmed."""
    user = _use_email_token(token, "confirm")
    if user.email_confirmed_at is None:
        user.email_confirmed_at = clock.now()
    return user


def request_password_reset(email):
    """Email a single-use reset link if the address has an account; silent otherwise."""
    user = find_user_by_email(email)
    if user is None or not user.is_active:
        return None
    hours = get_setting("accounts.reset_link_hours")
    token = _new_email_token(user, "reset", timedelta(hours=hours))
    link = external_url("accounts.reset_password", token=token)
    with force_locale(user_locale(user)):
        queue_email(
            user.email,
            _("Reset your JALA Portal password"),
            _("Someone asked to reset the password of your JALA Portal account. If it was you, "
              "open this link within %(hours)d hours; it works once:\n\n%(link)s\n\n"
              "If it was not you, ignore this email.", hours=hours, link=link),
            kind="account.reset",
            related=("user", user.id),
        )
    record_audit(None, "user.reset_requested", "user", user.id)
    return user


def reset_password(token, new_password):
    """Set a new password from a reset link; every open session of the user ends."""
    user = _use_email_token(token, "reset")
    check_password_policy(new_password, user.email)
    user.password_hash = hash_password(new_password)
    if user.email_confirmed_at is None:
        user.email_confirmed_at = clock.now()  # the reset link proved the address
    end_all_sessions(user)
    record_audit(user, "user.password_reset", "user", user.id)
    return user


def change_password(user, current_password, new_password):
    """Change a password after checking the current one; other sessions and links end."""
    if not password_matches(user.password_hash, current_password):
        raise RuleViolation(_("The current password is wrong."))
    check_password_policy(new_password, user.email)
    user.password_hash = hash_password(new_password)
    end_all_sessions(user, keep=user.auth_session_id)
    db.session.execute(
        update(EmailToken)
        .where(EmailToken.user_id == user.id, EmailToken.purpose == "reset",
               EmailToken.used_at.is_(None))
        .values(used_at=clock.now())
    )
    record_audit(user, "user.password_change", "user", user.id)


# --- login, second factor, sessions ------------------------------------------------------

_DUMMY_HASH = None


def authenticate(email, password):
    """Return the user for a correct email and password, else raise one generic error."""
    global _DUMMY_HASH
    user = find_user_by_email(email)
    if user is None:
        _DUMMY_HASH = _DUMMY_HASH or hash_password("not-a-password-at-all")
        password_matches(_DUMMY_HASH, password or "")  # same work either way
        raise RuleViolation(_("Wrong email address or password."), status=401)
    if not password_matches(user.password_hash, password or ""):
        record_audit(user, "user.login_failed", "user", user.id)
        raise RuleViolation(_("Wrong email address or password."), status=401)
    if not user.is_active:
        raise RuleViolation(_("This account is disabled."), status=403)
    return user


def totp_required(user):
    """Staff must use a second factor; readers may."""
    return user.is_staff or user.totp_enabled_at is not None


def new_totp_secret():
    """A fresh base32 secret for an authenticator app."""
    return pyotp.random_base32()


def totp_uri(user, secret):
    """The otpauth:// URI an authenticator app scans."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name="JALA Portal")


def _matching_step(secret, code, last_step):
    # NFKC: phone keyboards in Chinese mode type full-width digits (１２３４５６)
    code = re.sub(r"\s", "", unicodedata.normalize("NFKC", code or ""))
    if not secret or not re.fullmatch(r"[0-9]{6}", code):
        return None
    totp = pyotp.TOTP(secret)
    current = int(clock.now().timestamp()) // totp.interval
    for step in (current - 1, current, current + 1):
        if last_step is not None and step <= last_step:
            continue  # a code is good once
        if secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def check_totp(user, code):
    """Accept a current, unused code of the user's authenticator, or raise."""
    db.session.flush()
    db.session.refresh(user, with_for_update=True)  # two requests cannot share one code
    step = _matching_step(user.totp_secret, code, user.totp_last_step)
    if step is None:
        record_audit(user, "user.totp_failed", "user", user.id)
        raise RuleViolation(_("The code is wrong or has expired."), status=401)
    user.totp_last_step = step
    db.session.flush()


def enable_totp(user, secret, code):
    """Turn on the second factor after the user proved the app shows the right codes."""
    step = _matching_step(secret, code, None)
    if step is None:
        raise RuleViolation(_("The code is wrong or has expired. Try the next one."))
    user.totp_secret = secret
    user.totp_enabled_at = clock.now()
    user.totp_last_step = step
    record_audit(user, "user.totp_enabled", "user", user.id)


def disable_totp(user, code):
    """Turn off the second factor (readers only: staff must keep it)."""
    if user.is_staff:
        raise RuleViolation(_("Staff accounts must keep the second factor."))
    check_totp(user, code)
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    record_audit(user, "user.totp_disabled", "user", user.id)


def start_session(user, ip=None, user_agent=None):
    """Open a new server-side session for a user who has passed every factor."""
    row = AuthSession(
        id=secrets.token_urlsafe(32),
        user_id=user.id,
        ip=ip,
        user_agent=(user_agent or "")[:300],
    )
    db.session.add(row)
    record_audit(user, "user.login", "user", user.id)
    user.auth_session_id = row.id
    return row


def load_session_user(session_id):
    """The user of a live session, or None if it ended or sat idle too long."""
    row = db.session.get(AuthSession, session_id) if session_id else None
    if row is None or row.ended_at is not None:
        return None
    now = clock.now()
    idle = timedelta(minutes=get_setting("accounts.idle_timeout_minutes"))
    if row.last_seen_at + idle < now:
        row.ended_at = now
        return None
    if now - row.last_seen_at >= SESSION_TOUCH_EVERY:
        row.last_seen_at = now
    if not row.user.is_active:
        return None
    row.user.auth_session_id = row.id
    return row.user


def end_session(session_id):
    """End one session (logout)."""
    db.session.execute(
        update(AuthSession)
        .where(AuthSession.id == session_id, AuthSession.ended_at.is_(None))
        .values(ended_at=clock.now())
    )


def end_all_sessions(user, keep=None):
    """End every session of a user (but ``keep``): password changes, new roles."""
    query = update(AuthSession).where(AuthSession.user_id == user.id,
                                      AuthSession.ended_at.is_(None))
    if keep:
        query = query.where(AuthSession.id != keep)
    db.session.execute(query.values(ended_at=clock.now()))


# --- reader verification -----------------------------------------------------------------

def can_staff_library(user, library_id):
    """Whether ``user`` works for ``library_id`` (librarian or library admin there)."""
    return library_id in user.libraries_with_role(ROLE_LIBRARIAN, ROLE_LIBRARY_ADMIN)


def readers_awaiting_verification(staff):
    """Unverified readers of the libraries ``staff`` works for, oldest first."""
    library_ids = staff.libraries_with_role(ROLE_LIBRARIAN, ROLE_LIBRARY_ADMIN)
    if not library_ids:
        raise NotAllowed(_("Only librarians verify readers."))
    return db.session.execute(
        select(User)
        .where(User.home_library_id.in_(library_ids), User.verified_at.is_(None))
        .order_by(User.created_at)
    ).scalars().all()


def verify_reader(reader_id, staff):
    """Confirm a reader's card number: only staff of the reader's home library may."""
    reader = db.session.get(User, reader_id)
    if reader is None or reader.home_library_id is None:
        raise NotFound(_("No such reader."))
    if not can_staff_library(staff, reader.home_library_id):
        raise NotAllowed(_("Only staff of the reader's home library can verify this reader."))
    if reader.verified_at is None:
        reader.verified_at = clock.now()
        reader.verified_by_id = staff.id
        record_audit(staff, "reader.verify", "user", reader.id, library_id=reader.home_library_id,
                     details={"card_number": reader.card_number})
    return reader


# --- roles -------------------------------------------------------------------------------

def require_portal_admin(actor):
    """Raise unless ``actor`` is a portal admin."""
    if actor is None or not actor.is_portal_admin:
        raise NotAllowed(_("Only portal admins may do this."))


def can_manage_library(actor, library_id):
    """Portal admins manage every library; a library admin manages their own."""
    return actor.is_portal_admin or actor.has_role(ROLE_LIBRARY_ADMIN, library_id)


def _check_grant_allowed(actor, role, library, target):
    if role not in STAFF_ROLES:
        raise RuleViolation(_("Unknown role."))
    if role in (ROLE_PORTAL_ADMIN, ROLE_COMMITTEE_MEMBER):
        if actor is not None:
            require_portal_admin(actor)
    elif actor is not None and not can_manage_library(actor, library.id):
        raise NotAllowed(_("You can manage roles only at your own library."))
    if not library.is_member_on(clock.local_today()):
        raise RuleViolation(_("%(code)s is no longer a member library.", code=library.code))
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
                _("%(code)s already has a committee member; revoke that role first.",
                  code=library.code)
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
