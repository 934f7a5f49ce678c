"""A delivery request's lifecycle: which step may follow which, who takes it, what it leaves.

Every step on a request is one row of ``TRANSITIONS``: the request's status and the action
give the new status and the party that may act — the reader who asked, staff of the library
the request is at now, or the timer (``timers.py``). ``take()`` locks the request
(``FOR UPDATE``, so a librarian's click, a second tab and the timer cannot both act), checks
the party, then the table; the timer locks its due rows itself, skipping the ones someone
holds. Each step writes a timeline event (``add_event``); the reader's emails go through the
outbox in the same transaction (``email_reader``).
"""
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from jala import clock
from jala.delivery.models import DeliveryEvent, DeliveryRequest
from jala.errors import NotAllowed, NotFound, RuleViolation
from jala.extensions import db
from jala.mail import notify
from jala.membership import is_member
from jala.permissions import can_staff_library
from jala.settings import get_setting

READER, LIBRARY, TIMER = "reader", "library", "timer"
# a request passed on waits at the next library of its rota, or ends unfilled (routing.py)
NEXT_LIBRARY = "next library"

# (status, action) → (new status, who may do it); anything not here is refused
TRANSITIONS = {
    ("pending", "cancel"): ("cancelled", READER),
    ("pending", "accept"): ("accepted", LIBRARY),
    ("pending", "pass"): (NEXT_LIBRARY, LIBRARY),
    ("accepted", "pass"): (NEXT_LIBRARY, LIBRARY),
    ("pending", "refuse"): ("refused", LIBRARY),
    ("accepted", "refuse"): ("refused", LIBRARY),
    # a pending request is accepted on the way (its timeline shows both steps)
    ("pending", "fulfil"): ("fulfilled", LIBRARY),
    ("accepted", "fulfil"): ("fulfilled", LIBRARY),
    # nobody accepted it in time
    ("pending", "time_out"): (NEXT_LIBRARY, TIMER),
    # accepted but not sent in time: the library's staff are reminded, once
    ("accepted", "remind"): ("accepted", TIMER),
}
ACTION_PARTY = {action: party for (_status, action), (_new, party) in TRANSITIONS.items()}


def _lock(request_id):
    """The request, locked for this transaction (``FOR UPDATE``), or NotFound."""
    req = db.session.execute(
        select(DeliveryRequest).where(DeliveryRequest.id == request_id).with_for_update()
    ).scalar_one_or_none()
    if req is None:
        raise NotFound(_("No such request."))
    return req


def take(actor, request_id, action):
    """Lock the request for ``action`` by ``actor``: ``(request, new status)``, or a refusal."""
    req = _lock(request_id)
    if ACTION_PARTY[action] == READER:
        if req.reader_id != actor.id:
            raise NotFound(_("No such request."))
    else:
        _check_library_staff(actor, req)
    target = TRANSITIONS.get((req.status, action))
    if target is None:
        raise RuleViolation(_not_now(req, action), status=409)
    return req, target[0]


def _check_library_staff(staff, req):
    if req.library_id is None or not can_staff_library(staff, req.library_id):
        # not at this librarian's library (any more): the same answer as a missing request
        raise NotFound(_("Request %(id)d is not in your library's queue.", id=req.id))
    if not is_member(req.library):
        raise NotAllowed(_("Your library has left the alliance: it takes no more delivery "
                           "requests."))


def _not_now(req, action):
    if action == "cancel":
        return _("This request can no longer be cancelled: a library has already accepted "
                 "it, or it is finished.")
    return _("Request %(id)d is already %(status)s.", id=req.id,
             status=status_label(req.status))


def finish(req, status, *, actor=None, detail=None):
    """End the request in ``status`` (its timer stops) and write the matching event."""
    req.status = status
    req.finished_at = clock.now()
    req.respond_by = None
    add_event(req, status, actor=actor, detail=detail)


def response_time():
    """How long a library has to accept a request, and then to send it."""
    return timedelta(hours=get_setting("delivery.response_hours"))


def add_event(req, kind, *, actor=None, library_id=None, detail=None):
    """Write one step of the request's timeline (at its current library unless told)."""
    event = DeliveryEvent(request=req, at=clock.now(), kind=kind,
                          library_id=library_id if library_id is not None else req.library_id,
                          actor_id=actor.id if actor else None, detail=detail)
    db.session.add(event)
    return event


def email_reader(req, name, *, kind, **context):
    """Email ``templates/email/<name>.txt`` about ``req`` to its reader, in their language."""
    # to the address the reader gave with the request, which may since have changed
    notify(req.reader, name, kind=kind, address=req.email, related=("delivery_request", req.id),
           library_id=req.library_id, req=req, **context)


def status_label(status):
    """The status in the user's language."""
    return {
        "pending": _("waiting for a library"),
        "accepted": _("accepted"),
        "fulfilled": _("sent"),
        "unfilled": _("unfilled"),
        "refused": _("declined"),
        "cancelled": _("cancelled"),
    }.get(status, status)
