"""Signing in: the second factor (TOTP) and server-side sessions that logout and idleness end."""
import re
import secrets
import unicodedata
from datetime import timedelta

import pyotp
from flask_babel import gettext as _
from sqlalchemy import update

from jala import clock
from jala.accounts.models import AuthSession
from jala.audit import record_audit
from jala.errors import RuleViolation
from jala.extensions import db
from jala.settings import get_setting
from jala.usage.events import record_request_usage

SESSION_TOUCH_EVERY = timedelta(minutes=1)


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
    record_request_usage("sign_in", user=user)
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


