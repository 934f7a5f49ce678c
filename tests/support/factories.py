"""Factories for test data (flushed into the test's transaction)."""
import itertools

import pyotp

from jala import clock
from jala.accounts import services as accounts
from jala.accounts.passwords import hash_password
from jala.accounts.roles import grant_role
from jala.extensions import db
from jala.membership import get_library

PASSWORD = "correct horse battery"
_serial = itertools.count(1)


def make_user(*, library="JXUFE", verified=True, roles=(), totp=False, email=None,
              name=None, password=PASSWORD, confirmed=True):
    """A user of ``library`` (None: a public user) holding ``roles`` there."""
    n = next(_serial)
    user = accounts.User(
        email=email or f"user{n}-{library or 'public'}@example.edu.cn".lower(),
        password_hash=hash_password(password),
        display_name=name or f"Test User {n}",
        home_library_id=get_library(library).id if library else None,
        card_number=f"CARD{n:05d}" if library else None,
        verified_at=clock.now() if (verified and library) else None,
        email_confirmed_at=clock.now() if confirmed else None,
    )
    db.session.add(user)
    db.session.flush()
    for role in roles:
        grant_role(None, user.id, role, library)
    if totp or roles:
        user.totp_secret = pyotp.random_base32()
        user.totp_enabled_at = clock.now()
    db.session.flush()
    return user


def current_code(user, offset_steps=0):
    """The authenticator code the user's app shows now (or ``offset_steps`` later)."""
    totp = pyotp.TOTP(user.totp_secret)
    return totp.at(clock.now().timestamp() + 30 * offset_steps)
