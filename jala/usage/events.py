"""Recording usage where it happens.

``record_usage(kind, …)`` adds one row in the caller's transaction; ``session_key()`` names the
visit without naming the person.
"""
import hashlib
import hmac

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app, has_request_context, request
from flask_login import current_user

from jala import clock
from jala.extensions import db
from jala.usage.models import UsageEvent


def session_key(user=None):
    """A key for this visit, never a person's id; the same visit gives the same key.

    A keyed hash of the signed-in session, else of IP and browser that day (Beijing time),
    under a key of its own (``session_key_secret``): SECRET_KEY alone does not link a key back
    to the session. The roll-up's sweep clears keys once their month is past (COUNTER needs
    them only within the month).
    """
    if not has_request_context():
        return None
    user = user if user is not None else current_user
    session_id = getattr(user, "auth_session_id", None) if getattr(
        user, "is_authenticated", False) else None
    if session_id:
        material = f"s:{session_id}"
    else:
        day = clock.local_today().isoformat()
        material = f"v:{request.remote_addr}|{request.headers.get('User-Agent', '')}|{day}"
    return hmac.new(session_key_secret(), material.encode(), hashlib.sha256).hexdigest()[:32]


SESSION_KEY_PURPOSE = b"jala-usage-session-key"


def session_key_secret():
    """The usage session keys' own secret: HKDF-SHA256 of SECRET_KEY for this purpose only."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=SESSION_KEY_PURPOSE).derive(current_app.config["SECRET_KEY"].encode())


def reader_library_id(user=None):
    """The home library of the reader making this request (None for visitors)."""
    if user is None:
        if not has_request_context():
            return None
        user = current_user
    if not getattr(user, "is_authenticated", False):
        return None
    return getattr(user, "home_library_id", None)


def record_usage(kind, *, record_id=None, library_id=None, session_key=None, platform=None):
    """Add one usage event in the caller's transaction (no flush, no commit)."""
    db.session.add(UsageEvent(at=clock.now(), kind=kind, record_id=record_id,
                              library_id=library_id, session_key=session_key,
                              platform=platform))


def record_request_usage(kind, *, record_id=None, user=None):
    """``record_usage`` for the current request: the reader's library and the visit's key."""
    record_usage(kind, record_id=record_id, library_id=reader_library_id(user),
                 session_key=session_key(user))
