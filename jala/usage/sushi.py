"""SUSHI credentials: the requestor ID and API key a library's usage tool harvests with.

A library admin creates a credential on /libraries/<CODE>/sushi; the API key is shown once and
kept only as a SHA-256 hash (it is a random 256-bit secret, so a fast hash is enough). The
requestor ID is public-ish (it names the credential); both are needed, with the customer ID
(the library's code), on every SUSHI path except /status.
"""
import hashlib
import hmac
import secrets

from flask_babel import gettext as _
from sqlalchemy import select

from jala import clock
from jala.accounts.models import Library
from jala.audit import record_audit
from jala.errors import NotAllowed, NotFound, RuleViolation
from jala.extensions import db
from jala.membership import get_library, is_member
from jala.permissions import can_manage_library

MAX_CREDENTIALS = 5  # live credentials per library (one per usage tool is plenty)


class SushiCredential(db.Model):
    """One harvester's credential for one library (revoked ones are kept for the audit trail)."""

    __tablename__ = "sushi_credentials"

    id = db.Column(db.Integer, primary_key=True)
    library_id = db.Column(db.Integer, db.ForeignKey("libraries.id", ondelete="CASCADE"),
                           nullable=False, index=True)
    requestor_id = db.Column(db.Text, nullable=False, unique=True)
    key_hash = db.Column(db.Text, nullable=False)
    label = db.Column(db.Text, nullable=False)
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)
    created_by_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"))
    revoked_at = db.Column(db.DateTime(timezone=True))
    last_used_at = db.Column(db.DateTime(timezone=True))


def hash_key(api_key):
    """The stored form of an API key."""
    return hashlib.sha256((api_key or "").encode()).hexdigest()


def _managed_library(actor, code):
    library = get_library(code)
    if actor is None or not can_manage_library(actor, library.id):
        raise NotAllowed(_("Only this library's admins can manage its SUSHI credentials."))
    return library


def credentials_of(actor, code):
    """``(library, its live credentials, newest first)`` for the library's admins."""
    library = _managed_library(actor, code)
    rows = db.session.execute(
        select(SushiCredential).where(SushiCredential.library_id == library.id,
                                      SushiCredential.revoked_at.is_(None))
        .order_by(SushiCredential.created_at.desc(), SushiCredential.id.desc())).scalars().all()
    return library, rows


def create_credential(actor, code, label):
    """Make a credential; returns ``(credential, api_key)`` — the key is never shown again."""
    library, live = credentials_of(actor, code)
    if not is_member(library):
        raise RuleViolation(_("This library has left the alliance: it has no COUNTER reports "
                              "to harvest."))
    label = " ".join((label or "").split())[:100]
    if not label:
        raise RuleViolation(_("Name the usage tool that will use this key."))
    if len(live) >= MAX_CREDENTIALS:
        raise RuleViolation(_("A library has at most %(n)d SUSHI keys: revoke one first.",
                              n=MAX_CREDENTIALS))
    api_key = secrets.token_urlsafe(32)
    credential = SushiCredential(
        library_id=library.id, requestor_id=f"{library.code.lower()}-{secrets.token_hex(8)}",
        key_hash=hash_key(api_key), label=label, created_at=clock.now(),
        created_by_id=actor.id)
    db.session.add(credential)
    db.session.flush()
    record_audit(actor, "sushi.credential_created", "sushi_credential", credential.id,
                 library_id=library.id, details={"label": label})
    return credential, api_key


def revoke_credential(actor, code, credential_id):
    """Revoke one of the library's credentials (harvests with it stop at once)."""
    library = _managed_library(actor, code)
    credential = db.session.get(SushiCredential, credential_id)
    if credential is None or credential.library_id != library.id:
        raise NotFound(_("No such SUSHI key."))
    if credential.revoked_at is None:
        credential.revoked_at = clock.now()
        db.session.flush()
        record_audit(actor, "sushi.credential_revoked", "sushi_credential", credential.id,
                     library_id=library.id)
    return credential


def authenticate(requestor_id, api_key):
    """The live credential these match, or None.

    A wrong key, an unknown requestor and a library that has left the alliance alike.
    """
    if not requestor_id or not api_key:
        return None
    credential = db.session.execute(
        select(SushiCredential).where(SushiCredential.requestor_id == requestor_id,
                                      SushiCredential.revoked_at.is_(None))).scalar_one_or_none()
    if credential is None or not hmac.compare_digest(credential.key_hash, hash_key(api_key)):
        return None
    if not is_member(db.session.get(Library, credential.library_id)):
        return None
    return credential
