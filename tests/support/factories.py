"""Factories for test data (flushed into the test's transaction): users, records and their
copies, settings."""
import itertools

import pyotp
from sqlalchemy import select

from jala import clock
from jala.accounts import services as accounts
from jala.accounts.passwords import hash_password
from jala.accounts.roles import grant_role
from jala.catalog.models import Holding, SourceRecord
from jala.extensions import db
from jala.membership import current_chair_library, get_library
from jala.settings import Setting
from tests.support.catalog import import_lines

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


def make_portal_admin():
    """A portal admin at the chair library."""
    return make_user(library=current_chair_library().code, roles=("portal_admin",))


def library_id(code):
    """The id of the library with ``code``."""
    return get_library(code).id


def add_record(source_id, holders, **fields):
    """Import one record held by ``holders`` (library codes); returns the union record."""
    raw = {"source_id": source_id, "title": fields.pop("title", f"Record {source_id}"),
           "type": fields.pop("type", "book"),
           "holdings": [{"library": code, "status": "available"} for code in holders], **fields}
    import_lines([raw], library=holders[0])
    source = db.session.query(SourceRecord).filter_by(source_id=source_id).one()
    return source.record


def copy_at(record, code):
    """The record's holding at the library with ``code``."""
    return next(h for h in db.session.execute(
        select(Holding).where(Holding.record_id == record.id)).scalars()
        if h.library.code == code)


def set_setting(key, value):
    """Change a setting inside the test's transaction (no admin, no audit)."""
    row = db.session.get(Setting, key)
    if row is None:
        db.session.add(Setting(key=key, value=value))
    else:
        row.value = value
    db.session.flush()
