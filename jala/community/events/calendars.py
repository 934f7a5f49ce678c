"""iCalendar files (icalendar): one per event, and each reader's personal calendar feed.

A reader's feed lives at a secret address (a random token, regenerable: the old address then
stops working). It lists the events they hold a seat for or wait for (TENTATIVE), a cancelled
event as ``STATUS:CANCELLED`` so calendar clients strike it out. The table keeps the token's
SHA-256 (the feed is looked up by it) and the token sealed (``jala.sealing``) so the calendar
page can show the address again; a disabled account's feed is gone (404).

An event's online link is in a reader's feed for the events they hold a seat at, never in the
public per-event file.
"""
import hashlib
import secrets
from urllib.parse import urlsplit

from flask import current_app
from icalendar import Calendar
from icalendar import Event as CalendarEvent
from sqlalchemy import select

from jala import clock
from jala.accounts.models import User
from jala.community.events.models import Event, EventCalendarFeed, EventRegistration
from jala.community.events.services import kind_name, organiser_name
from jala.community.markup import plain_text
from jala.errors import NotFound
from jala.extensions import db
from jala.sealing import seal, unseal
from jala.urls import external_url

PRODID = "-//JALA Portal//Events//ZH"
FEED_EVENTS_MAX = 500
SEAL_PURPOSE = "event-calendar-feed"


def _calendar(name):
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", "Asia/Shanghai")
    return calendar


def _uid(event):
    domain = urlsplit(current_app.config["PUBLIC_URL"]).hostname or "jala.local"
    return f"event-{event.id}@{domain}"


def _vevent(event, status=None, online=False):
    item = CalendarEvent()
    item.add("uid", _uid(event))
    item.add("dtstamp", clock.now())
    item.add("last-modified", event.updated_at)
    item.add("dtstart", event.starts_at)
    item.add("dtend", event.ends_at)
    item.add("summary", event.title)
    online_url = event.online_url if online else None
    where = event.place or online_url
    if where:
        item.add("location", where)
    url = external_url("community.event_detail", event_id=event.id)
    item.add("url", url)
    words = [kind_name(event.kind), organiser_name(event)]
    if online_url:
        words.append(online_url)
    description = plain_text(event.description)
    item.add("description", "\n".join([" · ".join(words), description, url] if description
                                      else [" · ".join(words), url]))
    item.add("status", "CANCELLED" if event.status == "cancelled" else (status or "CONFIRMED"))
    item.add("sequence", int(event.updated_at.timestamp()) - int(event.created_at.timestamp()))
    return item


def event_calendar(event):
    """The ``.ics`` bytes of one event (public: without its online link)."""
    calendar = _calendar(event.title)
    calendar.add_component(_vevent(event))
    return calendar.to_ical()


def token_hash(token):
    """The SHA-256 (hex) of a feed token: what the table keeps to find the feed."""
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token(feed):
    token = secrets.token_urlsafe(24)
    feed.token_hash = token_hash(token)
    feed.token_sealed = seal(token, SEAL_PURPOSE)
    feed.created_at = clock.now()
    return token


def feed_token(user, regenerate=False):
    """The user's secret feed token, made on first use; ``regenerate`` retires the old one.

    A token sealed under an earlier SECRET_KEY cannot be read back: it is replaced.
    """
    feed = db.session.get(EventCalendarFeed, user.id)
    token = None
    if feed is None:
        feed = EventCalendarFeed(user_id=user.id)
        token = _new_token(feed)
        db.session.add(feed)
    elif not regenerate:
        token = unseal(feed.token_sealed, SEAL_PURPOSE)
    if token is None:
        token = _new_token(feed)
    db.session.flush()
    return token


def feed_owner_id(token):
    """The id of the active user whose feed has this token, or NotFound."""
    if not token or len(token) > 64:
        raise NotFound()
    user_id = db.session.execute(
        select(EventCalendarFeed.user_id).join(User, User.id == EventCalendarFeed.user_id)
        .where(EventCalendarFeed.token_hash == token_hash(token), User.disabled_at.is_(None))
    ).scalar_one_or_none()
    if user_id is None:
        raise NotFound()
    return user_id


def personal_calendar(token, name):
    """The ``.ics`` bytes of the feed with this token: the owner's events, newest last."""
    user_id = feed_owner_id(token)
    rows = db.session.execute(
        select(EventRegistration).join(Event)
        .where(EventRegistration.user_id == user_id,
               EventRegistration.status.in_(("confirmed", "waiting")))
        .order_by(Event.starts_at.desc()).limit(FEED_EVENTS_MAX)).scalars().all()
    calendar = _calendar(name)
    for registration in reversed(rows):
        seated = registration.status == "confirmed"
        calendar.add_component(_vevent(
            registration.event, None if seated else "TENTATIVE", online=seated))
    return calendar.to_ical()
