"""Account rules: registration, email confirmation, password resets, reader verification."""
import hashlib
import re
import secrets
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from jala import clock
from jala.accounts.models import ROLE_LIBRARIAN, ROLE_LIBRARY_ADMIN, EmailToken, User
from jala.accounts.passwords import check_password_policy, hash_password, password_matches
from jala.accounts.sessions import end_all_sessions
from jala.audit import record_audit
from jala.errors import NotAllowed, NotFound, RuleViolation
from jala.extensions import db
from jala.mail import notify
from jala.membership import find_library, is_member
from jala.permissions import can_staff_library
from jala.settings import get_setting
from jala.urls import external_url

# a deliberately plain address: no quoting, comments, commas or encoded words, so that the
# address we store is exactly the one the mail goes to
EMAIL_RE = re.compile(r"^[A-Za-z0-9._%+-]{1,64}@"
                      r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}$")
CARD_RE = re.compile(r"^[A-Za-z0-9-]{3,40}$")


def normalise_email(email):
    """Trim and lower-case an address, or refuse it."""
    email = (email or "").strip().lower()
    if len(email) > 254 or not EMAIL_RE.match(email) or ".." in email:
        raise RuleViolation(_("Enter a valid email address."))
    return email


def find_user_by_email(email):
    """Return the user with this address (any case), or None."""
    return db.session.execute(
        select(User).where(func.lower(User.email) == (email or "").strip().lower())
    ).scalar_one_or_none()


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
    """Create a reader account (with home library and card) or a public user account.

    An address or card number already registered creates nothing and tells the address by
    email instead; the caller answers alike (None is returned), so the form reveals nothing.
    """
    email = normalise_email(email)
    display_name = (display_name or "").strip()
    if not 1 <= len(display_name) <= 100:
        raise RuleViolation(_("Enter your name (at most 100 characters)."))
    check_password_policy(password, email)
    library = None
    if library_code:
        library = find_library(library_code)
        if library is None or not is_member(library):
            raise RuleViolation(_("Choose one of the member libraries."))
        card_number = (card_number or "").strip()
        if not CARD_RE.match(card_number):
            raise RuleViolation(_("Enter your library card number (3-40 letters or digits)."))
    else:
        card_number = None
    password_hash = hash_password(password)  # the same work whether or not anything is taken
    if _tell_owner_if_taken(email, library, card_number):
        return None
    user = User(
        email=email,
        password_hash=password_hash,
        display_name=display_name,
        home_library_id=library.id if library else None,
        card_number=card_number,
    )
    db.session.add(user)
    db.session.flush()
    token = _new_email_token(user, "confirm", timedelta(days=3))
    notify(user, "account_confirm", kind="account.confirm", related=("user", user.id),
           link=external_url("accounts.confirm_email", token=token))
    record_audit(user, "user.register", "user", user.id, library_id=user.home_library_id)
    return user


def _tell_owner_if_taken(email, library, card_number):
    """Email ``email`` if it or the card already has an account; whether one had."""
    links = {"login": external_url("accounts.login"),
             "forgot": external_url("accounts.forgot_password")}
    owner = find_user_by_email(email)
    if owner is not None:
        notify(owner, "account_exists", kind="account.exists", related=("user", owner.id),
               card_taken=False, **links)
        return True
    if library is None:
        return False
    card_owner_id = db.session.execute(
        select(User.id).where(User.home_library_id == library.id,
                              User.card_number == card_number)
    ).scalar_one_or_none()
    if card_owner_id is None:
        return False
    notify(email, "account_exists", kind="account.exists", related=("user", card_owner_id),
           card_taken=True, card_number=card_number, library=library, **links)
    return True


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
    notify(user, "account_reset", kind="account.reset", related=("user", user.id),
           hours=hours, link=external_url("accounts.reset_password", token=token))
    record_audit(None, "user.reset_requested", "user", user.id)
    return user


def reset_password(token, new_password):
    """Set a new password from a reset link; every open session and other reset link ends."""
    user = _use_email_token(token, "reset")
    check_password_policy(new_password, user.email)
    user.password_hash = hash_password(new_password)
    if user.email_confirmed_at is None:
        user.email_confirmed_at = clock.now()  # the reset link proved the address
    end_all_sessions(user)
    _end_reset_links(user)
    record_audit(user, "user.password_reset", "user", user.id)
    return user


def change_password(user, current_password, new_password):
    """Change a password after checking the current one; other sessions and links end."""
    if not password_matches(user.password_hash, current_password):
        raise RuleViolation(_("The current password is wrong."))
    check_password_policy(new_password, user.email)
    user.password_hash = hash_password(new_password)
    end_all_sessions(user, keep=user.auth_session_id)
    _end_reset_links(user)
    record_audit(user, "user.password_change", "user", user.id)


def _end_reset_links(user):
    """Every reset link still open for ``user`` stops working (a new password was set)."""
    db.session.execute(
        update(EmailToken)
        .where(EmailToken.user_id == user.id, EmailToken.purpose == "reset",
               EmailToken.used_at.is_(None))
        .values(used_at=clock.now())
    )


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


