"""The audit log: one append-only line for every admin action, vote and role change.

The database refuses updates and deletes of ``audit_log`` (a trigger in the first migration),
so an entry, once committed, stays as written.
"""
from flask import has_request_context, request
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import JSONB

from jala import clock
from jala.accounts.models import (
    ROLE_COMMITTEE_MEMBER,
    ROLE_LIBRARIAN,
    ROLE_LIBRARY_ADMIN,
    ROLE_PORTAL_ADMIN,
    Library,
    User,
)
from jala.extensions import db
from jala.membership import find_library

ROLE_ORDER = (ROLE_PORTAL_ADMIN, ROLE_COMMITTEE_MEMBER, ROLE_LIBRARY_ADMIN, ROLE_LIBRARIAN)


class AuditEntry(db.Model):
    """One line of the append-only audit log (the database refuses updates and deletes)."""

    __tablename__ = "audit_log"

    id = db.Column(db.BigInteger, primary_key=True)
    at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)
    actor_id = db.Column(db.Integer, db.ForeignKey("users.id"))
    actor_role = db.Column(db.String(32))
    action = db.Column(db.String(64), nullable=False, index=True)
    object_type = db.Column(db.String(32))
    object_id = db.Column(db.String(64))
    library_id = db.Column(db.Integer, db.ForeignKey("libraries.id"))
    details = db.Column(JSONB, nullable=False, default=dict)
    ip = db.Column(db.String(64))

    actor = db.relationship(User)
    library = db.relationship(Library)


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
    """Append one entry to the audit log (in the caller's transaction)."""
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
