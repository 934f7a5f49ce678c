"""Check-in at the door: a signed link in each ticket's QR code, or its code typed in.

The link carries the event and the registration, signed with the portal's secret
(itsdangerous), so a forged link, or a ticket of another event opened at this event's door,
is refused. Only the organisers' staff check readers in (staff of the organising library, or
the centre's admins for the alliance's events); a reader opening their own link is told so.
Checking in twice says when it was done the first time. Every check-in is audited.
"""
import string
from datetime import timedelta

from babel.lists import format_list
from flask import current_app
from flask_babel import format_datetime, get_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from jala import clock
from jala.audit import record_audit
from jala.community.events.models import EventRegistration
from jala.community.events.organisers import require_organiser
from jala.community.events.seats import get_event, lock_event, signed_up
from jala.community.events.services import moment_words
from jala.community.events.signups import TICKET_ALPHABET, TICKET_LENGTH
from jala.errors import RuleViolation
from jala.extensions import db
from jala.urls import external_url

OPENS_BEFORE = timedelta(hours=3)
CLOSES_AFTER = timedelta(hours=24)  # late entries from a paper list
# the look-alikes ticket codes leave out (0 and O, 1 and I), named to whoever types one
LEFT_OUT = sorted(set(string.ascii_uppercase + string.digits) - set(TICKET_ALPHABET))


def _signer():
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="jala.events.check-in")


def check_in_token(registration):
    """The signed part of the registration's check-in link."""
    return _signer().dumps([registration.event_id, registration.id])


def check_in_url(registration):
    """What the ticket's QR code holds: the organisers' check-in page for this ticket."""
    return external_url("community.event_check_in", event_id=registration.event_id,
                        token=check_in_token(registration))


def display_code(registration):
    """The ticket code as shown and read out: ``ABCD-EFGH``."""
    code = registration.ticket_code
    return f"{code[:4]}-{code[4:]}"


def _typed(text):
    return "".join(ch for ch in (text or "").upper() if ch.isalnum())


def normalise_code(text):
    """A typed ticket code without spaces or dashes, upper case (None if it cannot be one)."""
    code = _typed(text)
    if len(code) != TICKET_LENGTH or any(ch not in TICKET_ALPHABET for ch in code):
        return None
    return code


def _characters(chars, style="standard"):
    return format_list(list(chars), style=style, locale=get_locale())


def code_refusal(text):
    """Why the typed text is not a ticket code, naming the look-alikes codes leave out."""
    unused = sorted({ch for ch in _typed(text) if ch.isascii() and ch in LEFT_OUT})
    if unused:
        return _("Ticket codes never use %(typed)s: they leave out %(left_out)s, which look "
                 "alike. A code is 8 capital letters and digits, such as ABCD-2345.",
                 typed=_characters(unused), left_out=_characters(LEFT_OUT))
    return _("A ticket code is 8 capital letters and digits, such as ABCD-2345 (never "
             "%(left_out)s).", left_out=_characters(LEFT_OUT, "or"))


def opens_at(event):
    """When the door opens for check-in: three hours before the start."""
    return event.starts_at - OPENS_BEFORE


def door_state(event, now=None):
    """Whether readers can be checked in now: ``cancelled``, ``early``, ``open`` or ``closed``."""
    now = now or clock.now()
    if event.status == "cancelled":
        return "cancelled"
    if now < opens_at(event):
        return "early"
    if now > event.ends_at + CLOSES_AFTER:
        return "closed"
    return "open"


def early_words(event):
    """The door's notice before check-in opens, with when it does."""
    return _("Check-in opens on %(when)s, three hours before the event starts.",
             when=moment_words(opens_at(event)))


def door_event(staff, event_id):
    """The event, for one of its organisers' staff at the door."""
    event = get_event(event_id, staff)
    require_organiser(staff, event)
    return event


def ticket_from_link(staff, event_id, token):
    """The registration a check-in link names, for the door of ``event_id`` (or refused)."""
    event = door_event(staff, event_id)
    try:
        linked_event, registration_id = _signer().loads(token)
    except (BadSignature, ValueError, TypeError):
        raise RuleViolation(_("This check-in link is not valid: it was not issued by the "
                              "portal.")) from None
    if linked_event != event.id:
        raise RuleViolation(_("This ticket is for another event."))
    registration = db.session.get(EventRegistration, registration_id)
    if registration is None or registration.event_id != event.id:
        raise RuleViolation(_("This ticket is for another event."))
    return registration


def ticket_from_code(staff, event_id, text):
    """The registration of this event with the typed ticket code (or refused)."""
    event = door_event(staff, event_id)
    code = normalise_code(text)
    if code is None:
        raise RuleViolation(code_refusal(text))
    registration = db.session.execute(
        select(EventRegistration).where(EventRegistration.event_id == event.id,
                                        EventRegistration.ticket_code == code)
    ).scalar_one_or_none()
    if registration is None:
        raise RuleViolation(_("No sign-up for this event has that code."))
    return registration


def check_in(staff, registration):
    """Mark the reader as attending (refused without a seat, outside its time, or twice)."""
    event = lock_event(registration.event_id)
    require_organiser(staff, event)
    registration = db.session.execute(
        select(EventRegistration).where(EventRegistration.id == registration.id)
        .with_for_update()).scalar_one()
    name = registration.user.display_name
    now = clock.now()
    state = door_state(event, now)
    if state == "cancelled":
        raise RuleViolation(_("This event has been cancelled."), status=409)
    if state == "early":
        raise RuleViolation(early_words(event), status=409)
    if state == "closed":
        raise RuleViolation(_("Check-in for this event has closed."), status=409)
    if registration.status == "waiting":
        raise RuleViolation(_("%(name)s is on the waiting list and has no seat.", name=name),
                            status=409)
    if registration.status == "cancelled":
        raise RuleViolation(_("%(name)s cancelled their sign-up.", name=name), status=409)
    if registration.checked_in_at is not None:
        raise RuleViolation(_("%(name)s was already checked in at %(time)s.", name=name,
                              time=format_datetime(registration.checked_in_at, "HH:mm")),
                            status=409)
    registration.checked_in_at = now
    registration.checked_in_by_id = staff.id
    db.session.flush()
    record_audit(staff, "event.check_in", "event", event.id, library_id=event.library_id,
                 details={"title": event.title, "reader_id": registration.user_id})
    return registration


def door_list(staff, event_id):
    """The event and everyone signed up, for the organisers at the door."""
    event = door_event(staff, event_id)
    return event, signed_up(event)
