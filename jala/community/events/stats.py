"""Event figures: attendance for the statistics, and the organiser's table (and CSV).

An attendance is a check-in at the door. ``events_attended_count(library_id, year)`` counts
the attendances at the events ``library_id`` organised (None: the management centre) that
started in ``year`` (Beijing time), cancelled events aside.
"""
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from jala import clock
from jala.community.events.models import Event, EventRegistration
from jala.community.events.services import (
    event_state,
    kind_name,
    organised_events,
    organiser_name,
    state_name,
)
from jala.extensions import db

COLUMNS = ("date", "title", "kind", "organiser", "status", "capacity", "signed_up",
           "waiting", "attended")
# the CSV's header, in words in the UI language (kind and status are words already)
HEADERS = {
    "date": _l("Date and time"), "title": _l("Event"), "kind": _l("Kind of event"),
    "organiser": _l("Organiser"), "status": _l("Event status"), "capacity": _l("Seats"),
    "signed_up": _l("Signed up"), "waiting": _l("Waiting list"), "attended": _l("Attended"),
}


def events_attended_count(library_id, year):
    """Check-ins at the events ``library_id`` organised that started in ``year``."""
    since = clock.start_of_day(date(year, 1, 1))
    until = clock.start_of_day(date(year + 1, 1, 1))
    organiser = (Event.library_id.is_(None) if library_id is None
                 else Event.library_id == library_id)
    return db.session.execute(
        select(func.count()).select_from(EventRegistration).join(Event).where(
            organiser, Event.status == "scheduled", Event.starts_at >= since,
            Event.starts_at < until, EventRegistration.checked_in_at.is_not(None))
    ).scalar_one()


def organiser_rows(user, library_id):
    """One row per event ``user`` organises for ``library_id``: sign-ups, waiting, attended."""
    events = organised_events(user, library_id)
    counts = {}
    if events:
        counts = {row[0]: row[1:] for row in db.session.execute(
            select(EventRegistration.event_id,
                   func.count().filter(EventRegistration.status == "confirmed"),
                   func.count().filter(EventRegistration.status == "waiting"),
                   func.count().filter(EventRegistration.checked_in_at.is_not(None)))
            .where(EventRegistration.event_id.in_([e.id for e in events]))
            .group_by(EventRegistration.event_id)).all()}
    rows = []
    for event in events:
        signed, waiting, attended = counts.get(event.id, (0, 0, 0))
        rows.append({
            "event": event,
            "date": event.starts_at.astimezone(clock.SHANGHAI).strftime("%Y-%m-%d %H:%M"),
            "title": event.title, "kind": kind_name(event.kind),
            "organiser": organiser_name(event), "status": state_name(event),
            "state": event_state(event),
            "capacity": event.capacity, "signed_up": signed, "waiting": waiting,
            "attended": attended})
    return rows


def csv_table(rows):
    """``(rows, columns)`` for ``jala.stats.csv_download``: the header in words."""
    columns = [str(HEADERS[key]) for key in COLUMNS]
    return ([{str(HEADERS[key]): row[key] for key in COLUMNS} for row in rows], columns)
