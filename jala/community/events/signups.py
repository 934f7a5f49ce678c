"""Signing up for an event from the phone, the waiting list, and cancelling a sign-up.

Who may sign up: a signed-in, active user with a confirmed email address (reminders go
there) whom the event's audience takes in — readers of every member library (verified, their
library still a member), staff only, or the readers (and staff) of one library — while the
event's sign-up is open and it has not begun. A full event puts the reader on the waiting
list and says their place. Cancelling a seat gives it to the first reader waiting, who is
emailed (``seats.promote_waiting``). A reader sees and cancels only their own sign-ups: to
anyone else another reader's sign-up does not exist (404).
"""
import secrets

from flask_babel import gettext as _
from sqlalchemy import select

from jala import clock
from jala.community.events.eligibility import check_audience
from jala.community.events.models import Event, EventRegistration
from jala.community.events.seats import (
    confirmed_count,
    lock_event,
    promote_waiting,
)
from jala.errors import NotAllowed, NotFound, RuleViolation
from jala.extensions import db

TICKET_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read out at the door
TICKET_LENGTH = 8


def check_can_sign_up(user, event):
    """Raise unless ``user`` may sign up for ``event`` now (the reason is for the page)."""
    if user is None or not getattr(user, "is_authenticated", False):
        raise NotAllowed(_("Log in to sign up."))
    if not user.is_active:
        raise NotAllowed(_("This account is disabled."))
    now = clock.now()
    if event.status == "cancelled":
        raise RuleViolation(_("This event has been cancelled."), status=409)
    if event.starts_at <= now:
        raise RuleViolation(_("This event has already begun."), status=409)
    if now < event.signup_opens_at:
        raise RuleViolation(_("Sign-up has not opened yet."), status=409)
    if now >= event.signup_closes_at:
        raise RuleViolation(_("Sign-up has closed."), status=409)
    if user.email_confirmed_at is None:
        raise RuleViolation(_("Confirm your email address first: the reminder is sent there."))
    check_audience(user, event)


def registration_of(user, event):
    """The user's registration for ``event`` (any status), or None."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return db.session.execute(
        select(EventRegistration).where(EventRegistration.event_id == event.id,
                                        EventRegistration.user_id == user.id)
    ).scalar_one_or_none()


def _new_ticket_code():
    return "".join(secrets.choice(TICKET_ALPHABET) for _i in range(TICKET_LENGTH))


def sign_up(user, event_id):
    """Take a seat, or a place on the waiting list when the event is full.

    The event row is locked first, so of two readers taking the last seat exactly one gets it.
    Signing up again while signed up changes nothing.
    """
    event = lock_event(event_id)
    check_can_sign_up(user, event)
    registration = registration_of(user, event)
    if registration is not None and registration.status != "cancelled":
        return registration
    now = clock.now()
    status = "confirmed" if confirmed_count(event) < event.capacity else "waiting"
    if registration is None:
        registration = EventRegistration(event_id=event.id, user_id=user.id,
                                         ticket_code=_new_ticket_code(), created_at=now)
        db.session.add(registration)
    registration.status = status
    registration.queued_at = now
    registration.confirmed_at = now if status == "confirmed" else None
    registration.cancelled_at = None  # reminded_at stays: a reader reminded is not reminded again
    registration.checked_in_at = registration.checked_in_by_id = None
    db.session.flush()
    return registration


def get_registration(user, registration_id):
    """The user's own registration; anyone else's does not exist for them (404)."""
    registration = db.session.get(EventRegistration, registration_id)
    if registration is None or user is None or registration.user_id != user.id:
        raise NotFound(_("No such sign-up."))
    return registration


def cancel_registration(user, registration_id):
    """The reader gives up their seat (or waiting place); the first reader waiting moves up."""
    registration = get_registration(user, registration_id)
    event = lock_event(registration.event_id)
    registration = db.session.execute(
        select(EventRegistration).where(EventRegistration.id == registration.id)
        .with_for_update()).scalar_one()
    if registration.status == "cancelled":
        return registration
    if event.starts_at <= clock.now():
        raise RuleViolation(_("This event has already begun."), status=409)
    had_seat = registration.status == "confirmed"
    registration.status = "cancelled"
    registration.cancelled_at = clock.now()
    registration.confirmed_at = None
    db.session.flush()
    if had_seat:
        promote_waiting(event)
    return registration


def my_registrations(user, *, upcoming=True):
    """The user's sign-ups (seats and waiting places), soonest event first."""
    query = (select(EventRegistration).join(Event)
             .where(EventRegistration.user_id == user.id,
                    EventRegistration.status.in_(("confirmed", "waiting"))))
    if upcoming:
        query = query.where(Event.ends_at > clock.now())
    return db.session.execute(query.order_by(Event.starts_at, Event.id)).scalars().all()


def registrations_by_event(user, events):
    """``{event_id: registration}`` of the user's live sign-ups among ``events``."""
    if user is None or not getattr(user, "is_authenticated", False) or not events:
        return {}
    rows = db.session.execute(
        select(EventRegistration).where(
            EventRegistration.user_id == user.id,
            EventRegistration.event_id.in_([e.id for e in events]),
            EventRegistration.status.in_(("confirmed", "waiting")))).scalars()
    return {row.event_id: row for row in rows}

