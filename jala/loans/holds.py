"""Holds: a reader asks their home library to put a copy aside for them.

The home library's staff mark it ready (the reader is emailed and has a few days to collect
it; then the sweeper lets it expire), collected, or cancel it; the reader may cancel too.
"""
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select

from jala import clock
from jala.audit import record_audit
from jala.catalog.models import Holding
from jala.errors import NotFound, RuleViolation
from jala.extensions import db
from jala.jobs import sweep_task
from jala.loans.models import Hold
from jala.loans.services import check_can_borrow, email_reader, insert_unique, lock_reader
from jala.permissions import can_staff_library, require_staff_of
from jala.settings import get_setting
from jala.urls import external_url

LIVE = ("placed", "ready")


def live_holds_count(reader_id):
    """How many holds the reader has placed or waiting for them."""
    return db.session.execute(
        select(func.count()).select_from(Hold).where(Hold.reader_id == reader_id,
                                                     Hold.status.in_(LIVE))
    ).scalar_one()


def place_hold(reader, holding_id):
    """The reader places a hold on a copy at their home library."""
    check_can_borrow(reader)
    holding = db.session.get(Holding, holding_id)
    if holding is None:
        raise NotFound(_("No such copy."))
    if holding.library_id != reader.home_library_id:
        raise RuleViolation(_("This copy is at another library: request it by interlibrary "
                              "loan instead, to pick it up at your library."))
    lock_reader(reader.id)
    limit = get_setting("loans.holds_per_reader")
    if live_holds_count(reader.id) >= limit:
        raise RuleViolation(_("You have %(n)d holds, the limit. Collect or cancel one first.",
                              n=limit))
    hold = Hold(reader_id=reader.id, record_id=holding.record_id, holding_id=holding.id,
                library_id=holding.library_id, status="placed", created_at=clock.now())
    return insert_unique(hold, "uq_holds_one_live_per_reader_record",
                         _("You already have a hold on this title."))


def _lock(hold_id):
    hold = db.session.execute(
        select(Hold).where(Hold.id == hold_id).with_for_update()).scalar_one_or_none()
    if hold is None:
        raise NotFound(_("No such hold."))
    return hold


def _lock_for_staff(staff, hold_id, statuses):
    hold = _lock(hold_id)
    if not can_staff_library(staff, hold.library_id):
        raise NotFound(_("Hold %(id)d is not at your library.", id=hold_id))
    if hold.status not in statuses:
        raise RuleViolation(_("Hold %(id)d is already %(status)s.", id=hold.id,
                              status=hold_status_label(hold.status)), status=409)
    return hold


def _email(hold, what, **context):
    email_reader(hold.reader, what, related=("hold", hold.id), library_id=hold.library_id,
                 hold=hold, **context)


def mark_ready(staff, hold_id):
    """Staff put the copy aside: the reader is emailed and has a few days to collect it."""
    hold = _lock_for_staff(staff, hold_id, ("placed",))
    now = clock.now()
    hold.status = "ready"
    hold.ready_at = now
    hold.expires_at = now + timedelta(days=get_setting("loans.hold_pickup_days"))
    record_audit(staff, "hold.ready", "hold", hold.id, library_id=hold.library_id)
    until = hold.expires_at.astimezone(clock.SHANGHAI).strftime("%Y-%m-%d %H:%M")
    _email(hold, "hold_ready", until=until, link=external_url("loans.my_loans"))
    return hold


def mark_collected(staff, hold_id):
    """The reader collected the copy (lent in the library's own system)."""
    hold = _lock_for_staff(staff, hold_id, LIVE)
    hold.status = "collected"
    hold.closed_at = clock.now()
    hold.expires_at = None
    record_audit(staff, "hold.collected", "hold", hold.id, library_id=hold.library_id)
    return hold


def cancel_hold(user, hold_id):
    """The reader withdraws their hold, or the library's staff cancel it."""
    hold = _lock(hold_id)
    is_staff = can_staff_library(user, hold.library_id)
    if hold.reader_id != user.id and not is_staff:
        raise NotFound(_("No such hold."))
    if hold.status not in LIVE:
        raise RuleViolation(_("Hold %(id)d is already %(status)s.", id=hold.id,
                              status=hold_status_label(hold.status)), status=409)
    hold.status = "cancelled"
    hold.closed_at = clock.now()
    hold.expires_at = None
    if hold.reader_id != user.id:
        record_audit(user, "hold.cancel", "hold", hold.id, library_id=hold.library_id)
        _email(hold, "hold_cancelled")
    return hold


def reader_holds(reader, limit=100):
    """The reader's holds: live ones first, then the latest finished ones."""
    return db.session.execute(
        select(Hold).where(Hold.reader_id == reader.id)
        .order_by(Hold.status.in_(LIVE).desc(), Hold.id.desc()).limit(limit)
    ).scalars().all()


def library_holds(staff, library, view="live", limit=200):
    """Holds at the library: ``live`` (placed and ready, oldest first) or ``done``."""
    require_staff_of(staff, library.id)
    query = select(Hold).where(Hold.library_id == library.id)
    if view == "done":
        query = query.where(Hold.status.not_in(LIVE)).order_by(Hold.closed_at.desc())
    else:
        query = query.where(Hold.status.in_(LIVE)).order_by(Hold.created_at, Hold.id)
    return db.session.execute(query.limit(limit)).scalars().all()


def get_hold_for(user, hold_id):
    """A hold its reader or its library's staff may see."""
    hold = db.session.get(Hold, hold_id)
    if hold is None or (hold.reader_id != user.id and not can_staff_library(user,
                                                                           hold.library_id)):
        raise NotFound(_("No such hold."))
    return hold


@sweep_task
def expire_ready_holds():
    """Ready holds nobody collected in time expire; the reader is told."""
    now = clock.now()
    rows = db.session.execute(
        select(Hold).where(Hold.status == "ready", Hold.expires_at <= now)
        .order_by(Hold.expires_at).limit(200).with_for_update(skip_locked=True)
    ).scalars().all()
    for hold in rows:
        hold.status = "expired"
        hold.closed_at = now
        hold.expires_at = None
        _email(hold, "hold_expired")
    return len(rows)


def hold_status_label(status):
    """A hold status in the user's language."""
    return {
        "placed": _("placed"),
        "ready": _("ready to collect"),
        "collected": _("collected"),
        "cancelled": _("cancelled"),
        "expired": _("expired"),
    }.get(status, status)
