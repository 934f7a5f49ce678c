"""A purchase suggestion's lifecycle: which decision may follow which, and who takes it.

Every decision is one row of ``TRANSITIONS``: the suggestion's status and the action give the
new status and the party that may act (staff of the library the reader suggested it to).
``step()`` is the only function that changes a suggestion's status: it locks the row, checks
the party, then the table, then the action's own rule; it writes the audit entry and emails
the reader (``templates/email/procurement_<what>.txt``) in the same transaction.
"""
import re

from flask_babel import gettext as _
from sqlalchemy import select

from jala import clock
from jala.audit import record_audit
from jala.catalog.models import Record
from jala.errors import NotAllowed, NotFound, RuleViolation
from jala.extensions import db
from jala.mail import notify
from jala.permissions import can_staff_library
from jala.procurement.models import PurchaseSuggestion
from jala.urls import external_url

LIBRARY = "library"

# (status, action) → (new status, who may do it); anything not here is refused
TRANSITIONS = {
    ("suggested", "order"): ("ordered", LIBRARY),
    ("suggested", "decline"): ("declined", LIBRARY),
    # the order fell through (out of print, over budget): the reader is told why
    ("ordered", "decline"): ("declined", LIBRARY),
    ("ordered", "receive"): ("available", LIBRARY),
    # the library had it on order already, or got it another way (a gift, an e-book)
    ("suggested", "receive"): ("available", LIBRARY),
}
ACTIONS = tuple(dict.fromkeys(action for _status, action in TRANSITIONS))
ACTION_PARTY = {action: party for (_status, action), (_new, party) in TRANSITIONS.items()}
# the reader is told of these steps: action → templates/email/procurement_<what>.txt
EMAILS = {"order": "ordered", "decline": "declined", "receive": "available"}
REASON_MAX = 1000
RECORD_ID_RE = re.compile(r"(?:/records/)?(\d{1,18})/?$")


def parties_of(user, suggestion):
    """The parties ``user`` is in for this suggestion (staff of its library, or none)."""
    return {LIBRARY} if can_staff_library(user, suggestion.library_id) else set()


def _lock(suggestion_id):
    suggestion = db.session.execute(
        select(PurchaseSuggestion).where(PurchaseSuggestion.id == suggestion_id)
        .with_for_update()
    ).scalar_one_or_none()
    if suggestion is None:
        raise NotFound(_("No such purchase suggestion."))
    return suggestion


def step(staff, suggestion_id, action, *, reason=None, record_id=None):
    """Take ``action`` on a suggestion if the table allows it from its status, for ``staff``."""
    if action not in ACTION_PARTY:
        raise NotFound(_("No such step."))
    suggestion = _lock(suggestion_id)
    parties = parties_of(staff, suggestion)
    if not parties:
        # another library's suggestion: the same answer as a missing one
        raise NotFound(_("No such purchase suggestion."))
    if ACTION_PARTY[action] not in parties:
        raise NotAllowed(_("Only staff of the reader's library can do this."))
    target = TRANSITIONS.get((suggestion.status, action))
    if target is None:
        raise RuleViolation(_("Suggestion %(id)d is %(status)s: “%(action)s” is not possible "
                              "now.", id=suggestion.id, status=status_label(suggestion.status),
                              action=action_label(action)), status=409)
    before = suggestion.status
    details = _STEP_RULES[action](suggestion, reason=reason, record_id=record_id)
    suggestion.status = target[0]
    record_audit(staff, f"procurement.{action}", "purchase_suggestion", suggestion.id,
                 library_id=suggestion.library_id,
                 details={"from": before, "to": suggestion.status, **details})
    _email_reader(suggestion, EMAILS[action])
    db.session.flush()
    return suggestion


def _order(suggestion, **_given):
    suggestion.ordered_at = clock.now()
    return {}


def _decline(suggestion, *, reason, **_given):
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation(_("Suggestion %(id)d: give a reason (the reader is told).",
                              id=suggestion.id))
    suggestion.reason = reason[:REASON_MAX]
    suggestion.closed_at = clock.now()
    return {"reason": suggestion.reason}


def _receive(suggestion, *, record_id, **_given):
    record = find_record(record_id)
    if record is not None:
        suggestion.record_id = record.id
    suggestion.closed_at = clock.now()
    return {"record_id": suggestion.record_id} if record is not None else {}


_STEP_RULES = {"order": _order, "decline": _decline, "receive": _receive}


def find_record(value):
    """The record a librarian names by its id or its page's address; None when blank."""
    value = str(value or "").strip()
    if not value:
        return None
    match = RECORD_ID_RE.search(value)
    record = db.session.get(Record, int(match.group(1))) if match else None
    if record is None:
        raise RuleViolation(_("No record in the union catalogue has the id %(id)s.",
                              id=value[:40]))
    return record


def _email_reader(suggestion, what):
    notify(suggestion.reader, f"procurement_{what}", kind=f"procurement.{what}",
           related=("purchase_suggestion", suggestion.id), library_id=suggestion.library_id,
           suggestion=suggestion, link=external_url("procurement.my_suggestions"),
           record_link=external_url("catalog.record", record_id=suggestion.record_id)
           if suggestion.record_id else None)


# --- convenience names for each step -------------------------------------------------------

def order(staff, suggestion_id):
    """The library orders the title; the reader is told."""
    return step(staff, suggestion_id, "order")


def decline(staff, suggestion_id, reason):
    """The library will not buy it (the reader is told why)."""
    return step(staff, suggestion_id, "decline", reason=reason)


def receive(staff, suggestion_id, record_id=None):
    """The title is on the shelf (its catalogue record if given); the reader is told."""
    return step(staff, suggestion_id, "receive", record_id=record_id)


# --- words ---------------------------------------------------------------------------------

def available_actions(user, suggestion):
    """The actions ``user`` may take on ``suggestion`` now (the page's buttons)."""
    parties = parties_of(user, suggestion)
    return [action for (status, action), (_new, party) in TRANSITIONS.items()
            if status == suggestion.status and party in parties]


def status_label(status):
    """Where a suggestion stands, in the user's language."""
    return {
        "suggested": _("waiting for the library"),
        "ordered": _("ordered"),
        "declined": _("declined"),
        "available": _("available"),
    }.get(status, status)


def action_label(action):
    """A step's name, in the user's language."""
    return {"order": _("Mark ordered"), "decline": _("Decline"),
            "receive": _("Mark available")}.get(action, action)
