"""Thin views of events.

The list, an event's page and sign-up, tickets, calendars, and the organisers' pages (new,
edit, cancel, the door, the table of sign-ups and attendance).
"""
import hashlib
import io

import segno
from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup

from jala import clock
from jala.community import bp
from jala.community.events import (
    calendars,
    checkin,
    organisers,
    reminders,  # noqa: F401 (its sweep task registers on import)
    seats,
    signups,
    visibility,
)
from jala.community.events import services as events
from jala.community.events.forms import (
    CancelEventForm,
    EventForm,
    NewEventForm,
    TicketCodeForm,
)
from jala.community.events.models import EVENT_KINDS
from jala.community.events.stats import csv_table, events_attended_count, organiser_rows
from jala.community.markup import render_markdown
from jala.errors import NotAllowed
from jala.extensions import limiter
from jala.membership import find_library, member_libraries
from jala.reading.forms import ConfirmForm
from jala.stats import csv_download
from jala.web import attempt, is_htmx, refusal_message, require_form

ICS_TYPE = "text/calendar"


# --- the list -------------------------------------------------------------------------------------

def _filters():
    args = request.args
    kind = args.get("kind", "")
    library = events.organiser_code(args.get("library", "")[:20])
    return {"month": args.get("month", "")[:7] if events.month_bounds(args.get("month")) else "",
            "library": library if library == events.CENTRE or find_library(library) else "",
            "kind": kind if kind in EVENT_KINDS else "",
            "mine": args.get("mine") == "1" and current_user.is_authenticated}


@bp.get("/events")
def event_list():
    """Events, upcoming or of a month, by organiser and kind; 'my events'; HTMX: the list."""
    filters = _filters()
    found = events.find_events(current_user, **filters)
    context = {"events": found, "filters": filters, "counts": events.seat_counts(found),
               "mine": signups.registrations_by_event(current_user, found),
               "kinds": EVENT_KINDS, "libraries": member_libraries(),
               "can_organise": organisers.is_organiser(current_user)}
    if is_htmx() and request.headers.get("HX-Target") == "event-list":
        return render_template("community/events/_event_list.html", **context)
    return render_template("community/events/list.html", **context)


# --- an event and signing up ----------------------------------------------------------------------

def _signup_context(event, error=None):
    registration = signups.registration_of(current_user, event)
    if registration is not None and registration.status == "cancelled":
        registration = None
    taken, waiting = events.seat_counts([event])[event.id]
    return {"event": event, "registration": registration, "error": error,
            "place": seats.waiting_place(registration) if registration else None,
            "taken": taken, "waiting": waiting, "state": events.event_state(event),
            "show_online": visibility.sees_online_link(current_user, event, registration),
            "blocked": None if registration else refusal_message(
                lambda: signups.check_can_sign_up(current_user, event))}


@bp.get("/events/<id:event_id>")
def event_detail(event_id):
    """An event's page: what, when, where, who may come, and the sign-up box."""
    event = seats.get_event(event_id, current_user)
    return render_template(
        "community/events/detail.html", **_signup_context(event),
        description=render_markdown(event.description),
        sessions=events.series_sessions(event),
        is_organiser=organisers.can_organise(current_user, event.library_id))


@bp.post("/events/<id:event_id>/sign-up")
@login_required
@limiter.limit("30 per hour", key_func=lambda: f"event-sign-up:{current_user.id}")
def event_sign_up(event_id):
    """Take a seat, or a place on the waiting list; HTMX gets the sign-up box back."""
    require_form(ConfirmForm())
    event = seats.get_event(event_id, current_user)
    registration, refusal = attempt(lambda: signups.sign_up(current_user, event_id))
    if is_htmx():
        return render_template("community/events/_signup.html",
                               **_signup_context(event, refusal.message if refusal else None))
    if refusal is not None:
        flash(refusal.message, "error")
    elif registration.status == "confirmed":
        flash(_("You have a seat. Show your ticket at the door."), "success")
    else:
        flash(_("The event is full: you are number %(n)d on the waiting list. We email you if "
                "a seat comes free.", n=seats.waiting_place(registration)), "info")
    return redirect(url_for("community.event_detail", event_id=event_id), code=303)


@bp.get("/events/tickets/<id:registration_id>")
@login_required
def event_ticket(registration_id):
    """The reader's ticket: the QR code the organisers scan at the door, and its code."""
    registration = signups.get_registration(current_user, registration_id)
    qr = None
    if registration.status == "confirmed":
        buffer = io.BytesIO()
        segno.make(checkin.check_in_url(registration), error="m").save(
            buffer, kind="svg", scale=5, border=2, xmldecl=False, svgns=True,
            title=_("Check-in code"))
        qr = Markup(buffer.getvalue().decode())
    return render_template("community/events/ticket.html", registration=registration,
                           event=registration.event, qr=qr,
                           show_online=visibility.sees_online_link(
                               current_user, registration.event, registration),
                           code=checkin.display_code(registration),
                           place=seats.waiting_place(registration),
                           state=events.event_state(registration.event), form=ConfirmForm())


@bp.post("/events/tickets/<id:registration_id>/cancel")
@login_required
def event_cancel_sign_up(registration_id):
    """The reader cancels their sign-up; the first reader waiting moves up."""
    require_form(ConfirmForm())
    registration, refusal = attempt(
        lambda: signups.cancel_registration(current_user, registration_id))
    if refusal is not None:
        registration = signups.get_registration(current_user, registration_id)
    if is_htmx():
        return render_template("community/events/_signup.html", **_signup_context(
            registration.event, refusal.message if refusal else None))
    if refusal is not None:
        flash(refusal.message, "error")
    else:
        flash(_("Your sign-up is cancelled."), "success")
    return redirect(url_for("community.event_detail", event_id=registration.event_id),
                    code=303)


@bp.get("/events/mine")
@login_required
def event_mine():
    """The reader's events: seats and waiting places, with their tickets."""
    return render_template("community/events/mine.html",
                           registrations=signups.my_registrations(current_user),
                           waiting_place=seats.waiting_place)


# --- calendars ------------------------------------------------------------------------------------

def _ics(body, filename):
    return Response(body, mimetype=ICS_TYPE,
                    headers={"Content-Disposition": f"inline; filename={filename}",
                             "Cache-Control": "private, no-store"})


def _feed_limit_key():
    """The personal feed's rate limit counts per feed (calendar services share their IPs)."""
    token = (request.view_args or {}).get("token", "")
    return "event-feed:" + hashlib.sha256(token.encode()).hexdigest()[:32]


@bp.get("/events/<id:event_id>.ics")
def event_ics(event_id):
    """One event as an iCalendar file (add it to a phone's calendar)."""
    return _ics(calendars.event_calendar(seats.get_event(event_id, current_user)),
                f"event-{event_id}.ics")


@bp.get("/events/calendar/<token>.ics")
@limiter.limit("120 per hour", key_func=_feed_limit_key)
def event_calendar_feed(token):
    """A reader's personal calendar feed (secret address, for calendar apps)."""
    return _ics(calendars.personal_calendar(token, _("My events · JALA")), "events.ics")


@bp.get("/events/calendar")
@login_required
def event_calendar():
    """The reader's calendar feed address, to subscribe to in a calendar app."""
    token = calendars.feed_token(current_user)
    url = url_for("community.event_calendar_feed", token=token, _external=True)
    return render_template("community/events/calendar.html", feed_url=url,
                           webcal_url="webcal://" + url.split("://", 1)[1], form=ConfirmForm())


@bp.post("/events/calendar/regenerate")
@login_required
def event_calendar_regenerate():
    """A new secret address for the feed; the old one stops working."""
    require_form(ConfirmForm())
    calendars.feed_token(current_user, regenerate=True)
    flash(_("Your calendar has a new address: the old one no longer works."), "success")
    return redirect(url_for("community.event_calendar"), code=303)


# --- organisers -----------------------------------------------------------------------------------

@bp.route("/events/new", methods=["GET", "POST"])
@login_required
def event_new():
    """An organiser creates an event, or a reading club's series of sessions."""
    choices = organisers.organiser_choices(current_user)
    if not choices:
        raise NotAllowed(_("Events are organised by library staff and the Alliance "
                           "management centre."))
    form = NewEventForm().fill_choices().fill_organisers(choices)
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            code = form.organiser.data
            library = None if code == events.CENTRE else find_library(code)
            event, refusal = attempt(lambda: events.create_event(
                current_user, library_id=library.id if library else None,
                repeat=form.repeat.data or None, sessions=form.sessions.data or 1,
                **form.event_fields()), form=form)
            if refusal is None:
                flash(_("The event is on the list."), "success")
                return redirect(url_for("community.event_detail", event_id=event.id), code=303)
    return render_template("community/events/edit.html", form=form, event=None), status


@bp.route("/events/<id:event_id>/edit", methods=["GET", "POST"])
@login_required
def event_edit(event_id):
    """An organiser changes the event; readers signed up hear of a new time or place."""
    event = seats.get_event(event_id, current_user)
    organisers.require_organiser(current_user, event)
    form = EventForm().fill_choices()
    status = 200
    if request.method == "GET":
        form.show(event)
    else:
        status = 400
        if form.validate_on_submit():
            _event, refusal = attempt(lambda: events.update_event(
                current_user, event_id, **form.event_fields()), form=form)
            if refusal is None:
                flash(_("The event is saved."), "success")
                return redirect(url_for("community.event_detail", event_id=event_id),
                                code=303)
            status = refusal.status
    return render_template("community/events/edit.html", form=form, event=event,
                           cancel_form=CancelEventForm()), status


@bp.post("/events/<id:event_id>/cancel")
@login_required
def event_cancel(event_id):
    """An organiser cancels the event; everyone signed up is emailed."""
    form = CancelEventForm()
    require_form(form)
    events.cancel_event(current_user, event_id, form.reason.data)
    flash(_("The event is cancelled; everyone signed up has been emailed."), "success")
    return redirect(url_for("community.event_detail", event_id=event_id), code=303)


def _door(event_id, message=None, error=None, status=200):
    event, registrations = checkin.door_list(current_user, event_id)
    context = {"event": event, "registrations": registrations, "message": message,
               "error": error, "form": TicketCodeForm(formdata=None),
               "display_code": checkin.display_code,
               "door_state": checkin.door_state(event), "early_words": checkin.early_words,
               "attended": sum(1 for r in registrations if r.checked_in_at)}
    template = "community/events/_door.html" if is_htmx() else "community/events/door.html"
    return render_template(template, **context), status


@bp.get("/events/<id:event_id>/door")
@login_required
def event_door(event_id):
    """The organisers' door page: type a ticket code, or tap a name, to check a reader in."""
    return _door(event_id)


@bp.post("/events/<id:event_id>/door")
@login_required
def event_door_check_in(event_id):
    """Check in the reader whose ticket code was typed (or whose name was tapped)."""
    form = TicketCodeForm()

    def step():
        require_form(form)
        return checkin.check_in(current_user,
                                checkin.ticket_from_code(current_user, event_id, form.code.data))
    registration, refusal = attempt(step)
    if refusal is not None:
        return _door(event_id, error=refusal.message, status=200 if is_htmx() else
                     refusal.status)
    return _door(event_id, message=_("%(name)s is checked in.",
                                     name=registration.user.display_name))


@bp.route("/events/<id:event_id>/check-in/<token>", methods=["GET", "POST"])
@login_required
def event_check_in(event_id, token):
    """What a ticket's QR code opens: for the organisers, the reader and a check-in button."""
    registration = checkin.ticket_from_link(current_user, event_id, token)
    error, done = None, None
    status = 200
    if request.method == "POST":
        require_form(ConfirmForm())
        done, refusal = attempt(lambda: checkin.check_in(current_user, registration))
        if refusal is not None:
            error, status = refusal.message, refusal.status
        else:
            registration = done
    return render_template("community/events/check_in.html", registration=registration,
                           door_state=checkin.door_state(registration.event),
                           early_words=checkin.early_words,
                           event=registration.event, error=error, done=done, form=ConfirmForm(),
                           code=checkin.display_code(registration)), status


def _organiser_library():
    """The organiser ``?library=`` names, among those the user organises for (refused else)."""
    choices = organisers.organiser_choices(current_user)
    if not choices:
        raise NotAllowed(_("Events are organised by library staff and the Alliance "
                           "management centre."))
    code = events.organiser_code(request.args.get("library", ""))
    for choice in choices:
        if (choice is None and code == events.CENTRE) or (choice and choice.code == code):
            return choice, choices
    if code:
        raise NotAllowed(_("You cannot organise events for this library."))
    return choices[0], choices


@bp.get("/events/organise")
@login_required
def event_organise():
    """The organiser's events with sign-ups, waiting list and attendance (and a CSV)."""
    library, choices = _organiser_library()
    library_id = library.id if library else None
    rows = organiser_rows(current_user, library_id)
    year = clock.local_today().year
    return render_template("community/events/organise.html", rows=rows, library=library,
                           choices=choices, CENTRE=events.CENTRE, year=year,
                           attended_this_year=events_attended_count(library_id, year))


@bp.get("/events/organise.csv")
@login_required
def event_organise_csv():
    """The organiser's table as a CSV file."""
    library, _choices = _organiser_library()
    rows = organiser_rows(current_user, library.id if library else None)
    name = library.code.lower() if library else events.CENTRE
    return csv_download(*csv_table(rows), f"events-{name}.csv")


# an event's kind, organiser, audience, state and time in words (pages and emails alike)
for _name, _helper in {"event_kind_name": events.kind_name,
                       "event_organiser": events.organiser_name,
                       "event_audience": events.audience_words,
                       "event_state": events.event_state,
                       "event_state_name": events.state_name,
                       "event_when": events.when_words,
                       "event_moment": events.moment_words}.items():
    bp.add_app_template_global(_helper, _name)
