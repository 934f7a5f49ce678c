"""The day-before reminder (a sweep task): each reader with a seat is emailed once.

Sending it sets ``reminded_at`` in the same transaction as its outbox email, so however often
the sweeper runs (and however many sweepers), a reminder goes out once. A new start time
clears ``reminded_at`` (``services.update_event``), so the new time is reminded too.
"""
from datetime import timedelta

from sqlalchemy import select

from jala import clock
from jala.community.events.models import Event, EventRegistration
from jala.extensions import db
from jala.jobs import sweep_task
from jala.mail import notify
from jala.urls import external_url

REMIND_BEFORE = timedelta(hours=24)
BATCH = 200


@sweep_task
def remind_event_participants():
    """Email the readers holding a seat at an event that starts within a day."""
    now = clock.now()
    rows = db.session.execute(
        select(EventRegistration).join(Event).where(
            Event.status == "scheduled", Event.starts_at > now,
            Event.starts_at <= now + REMIND_BEFORE,
            EventRegistration.status == "confirmed",
            EventRegistration.reminded_at.is_(None))
        .order_by(Event.starts_at, EventRegistration.id).limit(BATCH)
        .with_for_update(of=EventRegistration, skip_locked=True)).scalars().all()
    for registration in rows:
        event = registration.event
        notify(registration.user, "event_reminder", kind="event.reminder",
               related=("event", event.id), library_id=event.library_id, event=event,
               registration=registration,
               link=external_url("community.event_ticket", registration_id=registration.id))
        registration.reminded_at = now
    db.session.flush()
    return len(rows)
