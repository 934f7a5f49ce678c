"""Seats and the waiting list: the event row is the lock every sign-up decision takes.

Signing up, cancelling, an organiser's change of capacity and cancelling the event all start
with ``lock_event`` (``SELECT … FOR UPDATE`` on the event), so two readers taking the last seat
are decided one after the other: exactly one gets it, the other joins the waiting list.
"""
from flask_babel import gettext as _
from sqlalchemy import func, select

from jala import clock
from jala.community.events.eligibility import still_eligible
from jala.community.events.models import Event, EventRegistration
from jala.community.events.visibility import can_see
from jala.errors import NotFound
from jala.extensions import db
from jala.mail import notify
from jala.urls import external_url


def get_event(event_id, viewer):
    """The event, if ``viewer`` (None: anyone) may see it (``visibility``), or NotFound."""
    event = db.session.get(Event, event_id)
    if event is None or not can_see(viewer, event):
        raise NotFound(_("No such event."))
    return event


def lock_event(event_id):
    """The event, locked for this transaction (``FOR UPDATE``), or NotFound."""
    event = db.session.execute(
        select(Event).where(Event.id == event_id).with_for_update()).scalar_one_or_none()
    if event is None:
        raise NotFound(_("No such event."))
    return event


def signed_up(event, statuses=("confirmed", "waiting")):
    """The event's registrations with those statuses, in waiting-list order."""
    return db.session.execute(
        select(EventRegistration).where(EventRegistration.event_id == event.id,
                                        EventRegistration.status.in_(statuses))
        .order_by(EventRegistration.queued_at, EventRegistration.id)).scalars().all()


def confirmed_count(event):
    """How many seats are taken."""
    return db.session.execute(
        select(func.count()).select_from(EventRegistration).where(
            EventRegistration.event_id == event.id,
            EventRegistration.status == "confirmed")).scalar_one()


def waiting_place(registration):
    """The registration's place on the waiting list (1 = next), or None with a seat."""
    if registration.status != "waiting":
        return None
    ahead = db.session.execute(
        select(func.count()).select_from(EventRegistration).where(
            EventRegistration.event_id == registration.event_id,
            EventRegistration.status == "waiting",
            (EventRegistration.queued_at < registration.queued_at)
            | ((EventRegistration.queued_at == registration.queued_at)
               & (EventRegistration.id < registration.id)))).scalar_one()
    return ahead + 1


def promote_waiting(event):
    """Give free seats to the waiting list in order, emailing each reader moved up.

    The caller holds the event's lock. Nobody moves up once the event has begun or was
    cancelled. A reader no longer active or no longer in the event's audience (their card,
    their library's membership) is passed over and stays waiting; the next one moves up.
    Returns the registrations moved up.
    """
    now = clock.now()
    if event.status != "scheduled" or event.starts_at <= now:
        return []
    free = event.capacity - confirmed_count(event)
    if free <= 0:
        return []
    moved = []
    for registration in signed_up(event, ("waiting",)):
        if len(moved) >= free:
            break
        if not still_eligible(registration.user, event):
            continue
        moved.append(registration)
        registration.status = "confirmed"
        registration.confirmed_at = now
        notify(registration.user, "event_moved_up", kind="event.moved_up",
               related=("event", event.id), library_id=event.library_id, event=event,
               registration=registration,
               link=external_url("community.event_ticket", registration_id=registration.id))
    db.session.flush()
    return moved
