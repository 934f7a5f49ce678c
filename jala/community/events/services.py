"""Events (活动): who organises them, creating, editing and cancelling, finding them.

An event is organised by a member library (its librarians and library admins create, edit and
cancel it) or by the alliance's management centre (``library_id`` None: the chair library's
portal admins). Every organiser's step is audited. A cancelled event stays on the list, marked,
and everyone signed up (seat or waiting list) is emailed.

A reading club (读书会) is a series of dated sessions created at once (``repeat`` and
``sessions``); each session is an event of its own with its own sign-ups.

Sign-ups, the waiting list and reminders are in ``signups.py`` and ``reminders.py``; check-in
at the door in ``checkin.py``; calendars in ``calendars.py``; figures in ``stats.py``.
"""
from datetime import timedelta
from urllib.parse import urlsplit

from flask_babel import format_date, format_time
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from jala import clock
from jala.accounts.models import Library
from jala.audit import record_audit
from jala.checks import typed_text
from jala.community.events.models import (
    AUDIENCES,
    EVENT_KINDS,
    Event,
    EventRegistration,
    EventSeries,
)
from jala.community.events.organisers import can_organise, require_organiser
from jala.community.events.seats import (
    confirmed_count,
    lock_event,
    promote_waiting,
    signed_up,
)
from jala.community.events.visibility import visible_to
from jala.errors import NotAllowed, RuleViolation
from jala.extensions import db
from jala.mail import notify
from jala.membership import find_library, is_member, library_name, library_or_centre_name
from jala.urls import external_url

TITLE_MAX = 200
DESCRIPTION_MAX = 20_000
PLACE_MAX = 200
URL_MAX = 500
CAPACITY_MAX = 5000
SESSIONS_MAX = 26
REPEATS = {"weekly": 7, "fortnightly": 14, "monthly": None}
CENTRE = "center"  # the organiser filter's word for the centre (as news: ?library=center)
OLD_CENTRE = "centre"  # the word of older links, still understood


def organiser_code(code):
    """An organiser filter value as the portal writes it (old ``centre`` links: ``center``)."""
    return CENTRE if code == OLD_CENTRE else code

KIND_NAMES = {
    "lecture": _l("Lecture"), "training": _l("Training"), "seminar": _l("Seminar"),
    "reading_month": _l("Reading month"), "exchange": _l("Librarian exchange"),
    "reading_club": _l("Reading club"),
}
STATE_NAMES = {
    "upcoming": _l("Upcoming"), "on": _l("On now"), "over": _l("Over"),
    "cancelled": _l("Cancelled"),
}
AUDIENCE_NAMES = {
    "members": _l("Readers of every member library"), "staff": _l("Library staff only"),
    "library": _l("Readers of one library"),
}


# --- checking what organisers write ---------------------------------------------------------



def _checked(fields, library_id, now):
    """The event's fields, checked and tidied (raises a RuleViolation for the form)."""
    out = dict(fields)
    out["title"] = typed_text(fields.get("title"), TITLE_MAX, missing=_("Give the event a title."))
    if fields.get("kind") not in EVENT_KINDS:
        raise RuleViolation(_("Choose what kind of event it is."))
    out["description"] = typed_text(fields.get("description"), DESCRIPTION_MAX)
    out["place"] = typed_text(fields.get("place"), PLACE_MAX) or None
    url = typed_text(fields.get("online_url"), URL_MAX) or None
    if url and (urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc):
        raise RuleViolation(_("The online link must be a web address starting with https://."))
    out["online_url"] = url
    if not out["place"] and not url:
        raise RuleViolation(_("Say where the event takes place, or give its online link."))
    starts, ends = fields.get("starts_at"), fields.get("ends_at")
    if starts is None or ends is None:
        raise RuleViolation(_("Give the start and end time."))
    if ends <= starts:
        raise RuleViolation(_("The event must end after it starts."))
    if ends - starts > timedelta(days=31):
        raise RuleViolation(_("An event lasts at most a month; a series has one event a "
                              "session."))
    capacity = fields.get("capacity")
    if not isinstance(capacity, int) or not 1 <= capacity <= CAPACITY_MAX:
        raise RuleViolation(_("The number of seats must be from 1 to %(n)d.", n=CAPACITY_MAX))
    audience = fields.get("audience")
    if audience not in AUDIENCES:
        raise RuleViolation(_("Choose who may sign up."))
    if audience == "library":
        target = fields.get("audience_library_id") or library_id
        library = db.session.get(Library, target) if target else None
        if library is None or not is_member(library):
            raise RuleViolation(_("Choose the member library whose readers may sign up."))
        out["audience_library_id"] = library.id
    else:
        out["audience_library_id"] = None
    opens = fields.get("signup_opens_at") or now
    closes = fields.get("signup_closes_at") or starts
    if closes > ends:
        raise RuleViolation(_("Sign-up must close before the event ends."))
    if closes <= opens:
        raise RuleViolation(_("Sign-up must open before it closes."))
    out["signup_opens_at"], out["signup_closes_at"] = opens, closes
    return out


def _session_starts(starts, repeat, sessions):
    """The start of each session of a series: every week, fortnight or month (same day)."""
    if not repeat:
        return [starts]
    if repeat not in REPEATS:
        raise RuleViolation(_("Choose how often the sessions repeat."))
    if not isinstance(sessions, int) or not 2 <= sessions <= SESSIONS_MAX:
        raise RuleViolation(_("A series has from 2 to %(n)d sessions.", n=SESSIONS_MAX))
    local = starts.astimezone(clock.SHANGHAI)
    out = []
    for number in range(sessions):
        if REPEATS[repeat]:
            out.append(local + timedelta(days=REPEATS[repeat] * number))
        else:
            month = local.month - 1 + number
            year, month = local.year + month // 12, month % 12 + 1
            day = min(local.day, 28)  # every month has a 28th
            out.append(local.replace(year=year, month=month, day=day))
    return out


# --- creating, editing, cancelling -----------------------------------------------------------

EDITABLE = ("title", "kind", "description", "starts_at", "ends_at", "place", "online_url",
            "capacity", "audience", "audience_library_id", "signup_opens_at",
            "signup_closes_at")


def create_event(actor, *, library_id=None, repeat=None, sessions=1, **fields):
    """An organiser creates an event (or a series of sessions); returns the (first) event."""
    if not can_organise(actor, library_id):
        raise NotAllowed(_("You cannot organise events for this library."))
    now = clock.now()
    if fields.get("starts_at") is not None and fields["starts_at"] <= now:
        raise RuleViolation(_("The event must start in the future."))
    checked = _checked({k: fields.get(k) for k in EDITABLE}, library_id, now)
    starts = _session_starts(checked["starts_at"], repeat, sessions)
    series = None
    if len(starts) > 1:
        series = EventSeries(title=checked["title"], library_id=library_id,
                             created_by_id=actor.id, created_at=now)
        db.session.add(series)
    events = []
    for start in starts:
        shift = start - checked["starts_at"]
        event = Event(**{**checked, "starts_at": start, "ends_at": checked["ends_at"] + shift,
                         "signup_closes_at": checked["signup_closes_at"] + shift},
                      library_id=library_id, series=series, status="scheduled",
                      created_by_id=actor.id, created_at=now, updated_at=now)
        db.session.add(event)
        events.append(event)
    db.session.flush()
    details = {"title": checked["title"], "sessions": len(events)} if series else {
        "title": checked["title"]}
    record_audit(actor, "event.create", "event", events[0].id, library_id=library_id,
                 details=details)
    return events[0]


def _email_everyone(event, template, kind, **context):
    for registration in signed_up(event):
        notify(registration.user, template, kind=kind, related=("event", event.id),
               library_id=event.library_id, event=event, registration=registration,
               link=external_url("community.event_detail", event_id=event.id), **context)


def update_event(actor, event_id, **fields):
    """An organiser edits the event; a new time or place is emailed to everyone signed up.

    Fewer seats than readers already holding one is refused; more seats move the waiting
    list up.
    """
    event = lock_event(event_id)
    require_organiser(actor, event)
    if event.status == "cancelled":
        raise RuleViolation(_("This event has been cancelled."), status=409)
    if event.ends_at <= clock.now():
        raise RuleViolation(_("This event is over."), status=409)
    new_start = fields.get("starts_at") or event.starts_at
    if new_start != event.starts_at and new_start <= clock.now():
        raise RuleViolation(_("The event must start in the future."))
    checked = _checked({k: fields.get(k, getattr(event, k)) for k in EDITABLE},
                       event.library_id, event.signup_opens_at)
    taken = confirmed_count(event)
    if checked["capacity"] < taken:
        raise RuleViolation(_("%(n)d readers already hold a seat: the event needs at least "
                              "that many.", n=taken))
    changed = [k for k in EDITABLE if getattr(event, k) != checked[k]]
    moved = {"starts_at", "ends_at", "place", "online_url"} & set(changed)
    for key in changed:
        setattr(event, key, checked[key])
    event.updated_at = clock.now()
    if "starts_at" in changed:
        for registration in signed_up(event):
            registration.reminded_at = None  # remind them of the new time
    db.session.flush()
    promote_waiting(event)
    if moved:
        _email_everyone(event, "event_changed", "event.changed")
    record_audit(actor, "event.edit", "event", event.id, library_id=event.library_id,
                 details={"title": event.title, "changed": changed})
    return event


def cancel_event(actor, event_id, reason=""):
    """An organiser cancels the event; everyone signed up (or waiting) is emailed."""
    event = lock_event(event_id)
    require_organiser(actor, event)
    if event.status == "cancelled":
        return event
    if event.ends_at <= clock.now():
        raise RuleViolation(_("This event is over."), status=409)
    event.status = "cancelled"
    event.cancelled_at = event.updated_at = clock.now()
    event.cancel_reason = typed_text(reason, 1000) or None
    db.session.flush()
    _email_everyone(event, "event_cancelled", "event.cancelled")
    record_audit(actor, "event.cancel", "event", event.id, library_id=event.library_id,
                 details={"title": event.title, "reason": event.cancel_reason})
    return event


# --- finding events ---------------------------------------------------------------------------

_visible_to = visible_to  # who sees which event: ``visibility.py`` (the list and by id alike)


def upcoming_events(limit=5, user=None):
    """The next events not yet over, soonest first (the home page's list)."""
    return db.session.execute(
        select(Event).where(Event.status == "scheduled", Event.ends_at > clock.now(),
                            _visible_to(user))
        .order_by(Event.starts_at, Event.id).limit(limit)).scalars().all()


def month_bounds(month):
    """``(since, until)`` of a ``YYYY-MM`` month in Beijing time, or None if it is not one."""
    text = str(month or "")
    if len(text) != 7 or text[4] != "-" or not (text[:4] + text[5:]).isdecimal():
        return None
    year, number = int(text[:4]), int(text[5:])
    if not (2000 <= year <= 2100 and 1 <= number <= 12):
        return None
    first = clock.start_of_day(clock.local_today().replace(year=year, month=number, day=1))
    after = clock.start_of_day((first.date() + timedelta(days=32)).replace(day=1))
    return first, after


def find_events(user=None, *, month=None, library=None, kind=None, mine=False, limit=100):
    """Events for the list: upcoming ones, or those of a month; by organiser, kind, or mine.

    ``library`` is a library code or ``CENTRE``.
    """
    query = select(Event).where(_visible_to(user))
    bounds = month_bounds(month)
    if bounds:
        query = query.where(Event.starts_at >= bounds[0], Event.starts_at < bounds[1])
    else:
        query = query.where(Event.ends_at > clock.now())
    library = organiser_code(library)
    if library == CENTRE:
        query = query.where(Event.library_id.is_(None))
    elif library:
        found = find_library(library)
        query = query.where(Event.library_id == (found.id if found else -1))
    if kind in EVENT_KINDS:
        query = query.where(Event.kind == kind)
    if mine and user is not None and getattr(user, "is_authenticated", False):
        query = query.where(Event.id.in_(
            select(EventRegistration.event_id).where(
                EventRegistration.user_id == user.id,
                EventRegistration.status.in_(("confirmed", "waiting")))))
    return db.session.execute(
        query.order_by(Event.starts_at, Event.id).limit(limit)).scalars().all()


def seat_counts(events):
    """``{event_id: (seats taken, waiting)}`` for a page of events (one query)."""
    ids = [e.id for e in events]
    if not ids:
        return {}
    rows = db.session.execute(
        select(EventRegistration.event_id,
               func.count().filter(EventRegistration.status == "confirmed"),
               func.count().filter(EventRegistration.status == "waiting"))
        .where(EventRegistration.event_id.in_(ids))
        .group_by(EventRegistration.event_id)).all()
    counts = {event_id: (taken, waiting) for event_id, taken, waiting in rows}
    return {i: counts.get(i, (0, 0)) for i in ids}


def series_sessions(event):
    """The other sessions of the event's series (a reading club), in date order."""
    if event.series_id is None:
        return []
    return db.session.execute(
        select(Event).where(Event.series_id == event.series_id)
        .order_by(Event.starts_at, Event.id)).scalars().all()


def organised_events(user, library_id, *, past=True, limit=300):
    """The events ``user`` organises for ``library_id`` (None: the centre), newest first."""
    if not can_organise(user, library_id):
        raise NotAllowed(_("You cannot organise events for this library."))
    query = select(Event).where(
        Event.library_id.is_(None) if library_id is None else Event.library_id == library_id)
    if not past:
        query = query.where(Event.ends_at > clock.now())
    return db.session.execute(
        query.order_by(Event.starts_at.desc(), Event.id.desc()).limit(limit)).scalars().all()


# --- words ------------------------------------------------------------------------------------

def kind_name(kind):
    """The kind of event in words."""
    return str(KIND_NAMES.get(kind, kind))


def organiser_name(event):
    """Who organises it: a library's name or the management centre."""
    return library_or_centre_name(event.library)


def audience_words(event):
    """Who may sign up, in words."""
    if event.audience == "library" and event.audience_library is not None:
        return _("Readers of %(library)s", library=library_name(event.audience_library))
    return str(AUDIENCE_NAMES[event.audience])


def event_state(event):
    """``cancelled``, ``over``, ``on`` or ``upcoming``."""
    now = clock.now()
    if event.status == "cancelled":
        return "cancelled"
    if event.ends_at <= now:
        return "over"
    return "on" if event.starts_at <= now else "upcoming"



def state_name(event):
    """Where the event stands, in words."""
    return str(STATE_NAMES[event_state(event)])


def when_words(event):
    """When, as readers read it: 2026年12月5日 周六 14:30–16:00."""
    start, end = event.starts_at, event.ends_at
    day = f"{format_date(start, 'long')} {format_date(start, 'EEE')}"
    if start.astimezone(clock.SHANGHAI).date() == end.astimezone(clock.SHANGHAI).date():
        return f"{day} {format_time(start, 'HH:mm')}–{format_time(end, 'HH:mm')}"
    return (f"{day} {format_time(start, 'HH:mm')} – {format_date(end, 'long')} "
            f"{format_time(end, 'HH:mm')}")


def moment_words(instant):
    """An instant as readers read it: 2026年12月5日 14:30."""
    return f"{format_date(instant, 'long')} {format_time(instant, 'HH:mm')}"
