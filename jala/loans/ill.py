"""Interlibrary loan (馆际互借): a reader borrows a copy of another member library.

Every step after the request is one row of ``TRANSITIONS``: the request's status and the
action give the new status and the party that may act — staff of the lending library, staff
of the reader's home library, or the reader. ``step()`` is the only function that changes a
request's status: it locks the row, checks the party, then the table, then the step's own
rule, and writes the timeline event (and the audit entry and email where they matter).
"""
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select

from jala import clock
from jala.audit import record_audit
from jala.catalog.models import Holding
from jala.errors import NotAllowed, NotFound, RuleViolation
from jala.extensions import db
from jala.loans.models import ILL_OPEN, IllEvent, IllRequest
from jala.loans.services import (
    check_can_borrow,
    check_library_lends,
    email_reader,
    first_reminder_at,
    insert_unique,
    is_overdue,
    lock_lender,
    lock_reader,
)
from jala.membership import library_name
from jala.permissions import can_staff_library, require_staff_of
from jala.settings import get_setting
from jala.urls import external_url

LENDER, HOME, READER = "lender", "home", "reader"

# (status, action) → (new status, who may do it); anything not here is refused
TRANSITIONS = {
    ("requested", "approve"): ("approved", LENDER),
    ("requested", "refuse"): ("refused", LENDER),
    ("requested", "cancel"): ("cancelled", READER),
    ("approved", "ship"): ("shipped", LENDER),
    # the lender cannot send it after all (the copy is lost or damaged): with a reason
    ("approved", "refuse"): ("refused", LENDER),
    ("shipped", "receive"): ("received", HOME),
    ("received", "lend"): ("on_loan", HOME),
    # the reader never collected it: it goes back to the lender
    ("received", "return"): ("returned", HOME),
    ("on_loan", "renew"): ("on_loan", READER),
    ("on_loan", "return"): ("returned", HOME),
    ("returned", "receive_back"): ("back_at_lender", LENDER),
    ("back_at_lender", "close"): ("closed", LENDER),
}
ACTIONS = tuple(dict.fromkeys(action for _status, action in TRANSITIONS))
ACTION_PARTY = {action: party for (_status, action), (_new, party) in TRANSITIONS.items()}
# where the next step is the lending library's, and where it is the home library's
LENDER_TURN = tuple(status for (status, _a), (_n, party) in TRANSITIONS.items()
                    if party == LENDER)
HOME_TURN = tuple(status for (status, _a), (_n, party) in TRANSITIONS.items() if party == HOME)
QUEUE_VIEWS = ("todo", "lending", "borrowing", "done")


# --- asking ------------------------------------------------------------------------------------

def open_count(**where):
    """Open requests matching ``where`` (``reader_id=`` or ``lending_library_id=``)."""
    query = select(func.count()).select_from(IllRequest).where(IllRequest.status.in_(ILL_OPEN))
    for column, value in where.items():
        query = query.where(getattr(IllRequest, column) == value)
    return db.session.execute(query).scalar_one()


def request_loan(reader, holding_id, note=None):
    """The reader asks for a copy of another member library, to pick up at home."""
    check_can_borrow(reader)
    holding = db.session.get(Holding, holding_id)
    if holding is None:
        raise NotFound(_("No such copy."))
    if holding.library_id == reader.home_library_id:
        raise RuleViolation(_("This copy is at your own library: place a hold on it instead."))
    check_library_lends(holding.library)
    lock_reader(reader.id)
    taken = db.session.execute(
        select(IllRequest.reader_id).where(IllRequest.holding_id == holding.id,
                                           IllRequest.status.in_(ILL_OPEN))
    ).scalar_one_or_none()
    if taken is not None:
        raise RuleViolation(_already_requested(taken == reader.id), status=409)
    per_reader = get_setting("loans.ill_open_per_reader")
    if open_count(reader_id=reader.id) >= per_reader:
        raise RuleViolation(_("You have %(n)d interlibrary loans open, the limit. You can ask "
                              "for more once one is returned.", n=per_reader))
    per_library = get_setting("loans.ill_open_per_library")
    lock_lender(holding.library_id)
    if open_count(lending_library_id=holding.library_id) >= per_library:
        raise RuleViolation(_("%(library)s cannot take more interlibrary loans at the moment. "
                              "Try another library's copy, or ask again later.",
                              library=library_name(holding.library)))
    now = clock.now()
    req = IllRequest(reader_id=reader.id, record_id=holding.record_id, holding_id=holding.id,
                     lending_library_id=holding.library_id,
                     home_library_id=reader.home_library_id, status="requested",
                     note=(note or "").strip()[:1000] or None, created_at=now, updated_at=now)
    insert_unique(req, "uq_ill_requests_one_open_per_copy", _already_requested(False))
    db.session.add(IllEvent(request_id=req.id, at=now, from_status=None, to_status="requested",
                            actor_id=reader.id, library_id=reader.home_library_id,
                            note=req.note))
    return req


def _already_requested(by_you):
    if by_you:
        return _("You have already requested this copy.")
    return _("This copy is already requested by another reader. Try another library's copy, "
             "or ask again once it is back.")


# --- the steps ---------------------------------------------------------------------------------

def _lock(request_id):
    req = db.session.execute(
        select(IllRequest).where(IllRequest.id == request_id).with_for_update()
    ).scalar_one_or_none()
    if req is None:
        raise NotFound(_("No such interlibrary loan."))
    return req


def parties_of(user, req):
    """The parties ``user`` is in for this request: any of reader, lender, home."""
    parties = set()
    if req.reader_id == user.id:
        parties.add(READER)
    if can_staff_library(user, req.lending_library_id):
        parties.add(LENDER)
    if can_staff_library(user, req.home_library_id):
        parties.add(HOME)
    return parties


def _check_party(req, action, parties):
    party = ACTION_PARTY[action]
    if party in parties:
        return party
    label = action_label(action)
    if party == LENDER:
        raise NotAllowed(_("“%(action)s”: only staff of the lending library, %(library)s, can "
                           "do this step.", action=label,
                           library=library_name(req.lending_library)))
    if party == HOME:
        raise NotAllowed(_("“%(action)s”: only staff of the reader's home library, "
                           "%(library)s, can do this step.", action=label,
                           library=library_name(req.home_library)))
    raise NotAllowed(_("“%(action)s”: only the reader who asked can do this step.",
                       action=label))


def step(actor, request_id, action, note=None):
    """Take ``action`` on a request if the table allows it from its status, for this actor."""
    if action not in ACTION_PARTY:
        raise NotFound(_("No such step."))
    req = _lock(request_id)
    parties = parties_of(actor, req)
    if not parties:
        raise NotFound(_("No such interlibrary loan."))
    party = _check_party(req, action, parties)
    target = TRANSITIONS.get((req.status, action))
    if target is None:
        raise RuleViolation(_("Request %(id)d is %(status)s: “%(action)s” is not possible now.",
                              id=req.id, status=ill_status_label(req.status),
                              action=action_label(action)), status=409)
    note = (note or "").strip()[:1000] or None
    before = req.status
    _STEP_RULES[action](req, note)  # raises before anything changes, or updates the row
    now = clock.now()
    req.status = target[0]
    req.updated_at = now
    library_id = {LENDER: req.lending_library_id, HOME: req.home_library_id}.get(
        party, req.home_library_id)
    db.session.add(IllEvent(request_id=req.id, at=now, from_status=before, to_status=req.status,
                            actor_id=actor.id, library_id=library_id, note=note))
    if party != READER:
        record_audit(actor, f"ill.{action}", "ill_request", req.id, library_id=library_id,
                     details={"from": before, "to": req.status})
    if action in _STEP_EMAILS:
        email_reader_of(req, _STEP_EMAILS[action])
    db.session.flush()
    db.session.refresh(req, ["events"])
    return req


def _nothing(req, note):
    return None


def _refuse(req, note):
    if not note:
        raise RuleViolation(_("Give a reason: the reader is told."))
    req.reason = note


def _approve(req, note):
    check_library_lends(req.lending_library)
    check_can_borrow(req.reader, staff_view=True)


def _lend(req, note):
    check_can_borrow(req.reader, staff_view=True)
    req.due_on = clock.local_today() + timedelta(days=get_setting("loans.ill_loan_days"))
    req.remind_at = first_reminder_at(req.due_on)
    req.overdue_notices = 0


def _renew(req, note):
    check_can_borrow(req.reader)
    if is_overdue(req.due_on):
        raise RuleViolation(_("This loan is overdue, so it cannot be renewed. Please return "
                              "it to %(library)s.", library=library_name(req.home_library)))
    most = get_setting("loans.max_renewals")
    if req.renewals >= most:
        raise RuleViolation(_("This loan has been renewed %(n)d times, the most allowed.",
                              n=req.renewals))
    req.renewals += 1
    req.due_on = req.due_on + timedelta(days=get_setting("loans.renewal_days"))
    req.remind_at = first_reminder_at(req.due_on)


def _return(req, note):
    req.remind_at = None


_STEP_RULES = {"approve": _approve, "refuse": _refuse, "cancel": _nothing, "ship": _nothing,
               "receive": _nothing, "lend": _lend, "renew": _renew, "return": _return,
               "receive_back": _nothing, "close": _nothing}


# --- emails to the reader -----------------------------------------------------------------------

# the steps the reader is told of: action → the email (templates/email/loans_<email>.txt)
_STEP_EMAILS = {"approve": "ill_approved", "refuse": "ill_refused", "receive": "ill_received",
                "lend": "ill_lent"}


def email_reader_of(req, what, **context):
    """Email the request's reader the loans notice ``what`` (a step, a reminder, a notice)."""
    email_reader(req.reader, what, related=("ill_request", req.id),
                 library_id=req.home_library_id, req=req,
                 link=external_url("loans.ill_detail", request_id=req.id), **context)


# --- convenience names for each step -------------------------------------------------------

def approve(staff, request_id, note=None):
    """The lending library agrees to lend the copy."""
    return step(staff, request_id, "approve", note)


def refuse(staff, request_id, reason):
    """The lending library cannot lend it (the reader is told why)."""
    return step(staff, request_id, "refuse", reason)


def cancel(reader, request_id):
    """The reader withdraws a request the lending library has not answered yet."""
    return step(reader, request_id, "cancel")


def ship(staff, request_id, note=None):
    """The lending library sends the copy to the home library."""
    return step(staff, request_id, "ship", note)


def receive(staff, request_id, note=None):
    """The home library has the copy; the reader is told to pick it up."""
    return step(staff, request_id, "receive", note)


def lend(staff, request_id, note=None):
    """The home library hands the copy to the reader; the due date starts."""
    return step(staff, request_id, "lend", note)


def renew(reader, request_id):
    """The reader extends the loan (within the renewals allowed, before it is overdue)."""
    return step(reader, request_id, "renew")


def mark_returned(staff, request_id, note=None):
    """The reader brought it back to the home library, which sends it back."""
    return step(staff, request_id, "return", note)


def receive_back(staff, request_id, note=None):
    """The copy is back at the lending library."""
    return step(staff, request_id, "receive_back", note)


def close(staff, request_id, note=None):
    """The lending library has checked the copy in: the loan is over."""
    return step(staff, request_id, "close", note)


# --- lists --------------------------------------------------------------------------------------

def available_actions(req, user, library_id=None):
    """The actions ``user`` may take on the request now (at ``library_id`` only, if given)."""
    parties = parties_of(user, req)
    if library_id is not None:
        parties = {p for p in parties if (p == LENDER and req.lending_library_id == library_id)
                   or (p == HOME and req.home_library_id == library_id)}
    return [action for (status, action), (_new, party) in TRANSITIONS.items()
            if status == req.status and party in parties]


def get_for(user, request_id):
    """A request its reader or staff of either library may see; others get 'not found'."""
    req = db.session.get(IllRequest, request_id)
    if req is None or not parties_of(user, req):
        raise NotFound(_("No such interlibrary loan."))
    return req


def reader_requests(reader, limit=100):
    """The reader's interlibrary loans, newest first."""
    return db.session.execute(
        select(IllRequest).where(IllRequest.reader_id == reader.id)
        .order_by(IllRequest.id.desc()).limit(limit)
    ).scalars().all()


def library_queue(staff, library, view="todo", limit=200):
    """Requests at ``library``: its turn (``todo``), ``lending``, ``borrowing`` or ``done``."""
    require_staff_of(staff, library.id)
    lender = IllRequest.lending_library_id == library.id
    home = IllRequest.home_library_id == library.id
    query = select(IllRequest)
    if view == "lending":
        query = query.where(lender, IllRequest.status.in_(ILL_OPEN))
    elif view == "borrowing":
        query = query.where(home, IllRequest.status.in_(ILL_OPEN))
    elif view == "done":
        query = query.where(db.or_(lender, home), IllRequest.status.not_in(ILL_OPEN))
    else:
        query = query.where(db.or_(db.and_(lender, IllRequest.status.in_(LENDER_TURN)),
                                   db.and_(home, IllRequest.status.in_(HOME_TURN))))
    order = IllRequest.updated_at.desc() if view == "done" else IllRequest.updated_at.asc()
    return db.session.execute(query.order_by(order, IllRequest.id).limit(limit)).scalars().all()


# --- words ----------------------------------------------------------------------------------------

def ill_status_label(status):
    """A request status in the user's language."""
    return {
        "requested": _("requested"),
        "approved": _("approved"),
        "refused": _("refused"),
        "shipped": _("on its way"),
        "received": _("ready to pick up"),
        "on_loan": _("on loan"),
        "returned": _("returned, on its way back"),
        "back_at_lender": _("back at the lending library"),
        "closed": _("closed"),
        "cancelled": _("cancelled"),
    }.get(status, status)


def action_label(action):
    """A step's button text in the user's language."""
    return {
        "approve": _("Approve"),
        "refuse": _("Refuse"),
        "cancel": _("Cancel"),
        "ship": _("Shipped"),
        "receive": _("Received"),
        "lend": _("Lent to the reader"),
        "renew": _("Renew"),
        "return": _("Returned by the reader"),
        "receive_back": _("Back with us"),
        "close": _("Close"),
    }.get(action, action)
