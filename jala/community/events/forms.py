"""Event forms (Flask-WTF: CSRF on every one). Times are typed in Beijing time."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from jala import clock
from jala.community.events.models import AUDIENCES, EVENT_KINDS
from jala.community.events.services import (
    AUDIENCE_NAMES,
    CAPACITY_MAX,
    CENTRE,
    DESCRIPTION_MAX,
    KIND_NAMES,
    PLACE_MAX,
    SESSIONS_MAX,
    TITLE_MAX,
    URL_MAX,
)
from jala.membership import library_name, member_libraries

TIME_FORMAT = "%Y-%m-%dT%H:%M"
TIMES = ("starts_at", "ends_at", "signup_opens_at", "signup_closes_at")


def _local(value):
    """A typed (naive) Beijing time as an aware instant; None stays None."""
    return value.replace(tzinfo=clock.SHANGHAI) if value is not None else None


class EventForm(FlaskForm):
    """An event's details, as its organiser writes them."""

    title = StringField(_l("Heading"), validators=[DataRequired(), Length(max=TITLE_MAX)])
    kind = SelectField(_l("Kind"), choices=[SelectChoice(k, KIND_NAMES[k]) for k in EVENT_KINDS])
    description = TextAreaField(_l("Description (Markdown: **bold**, lists, links)"),
                                validators=[Optional(), Length(max=DESCRIPTION_MAX)])
    starts_at = DateTimeLocalField(_l("Starts (Beijing time)"), format=TIME_FORMAT,
                                   validators=[InputRequired()])
    ends_at = DateTimeLocalField(_l("Ends (Beijing time)"), format=TIME_FORMAT,
                                 validators=[InputRequired()])
    place = StringField(_l("Place"), validators=[Optional(), Length(max=PLACE_MAX)])
    online_url = StringField(_l("Online link (optional)"),
                             validators=[Optional(), Length(max=URL_MAX)])
    capacity = IntegerField(_l("Seats"), validators=[InputRequired(),
                                                    NumberRange(1, CAPACITY_MAX)])
    audience = SelectField(_l("Who may sign up"),
                           choices=[SelectChoice(a, AUDIENCE_NAMES[a]) for a in AUDIENCES])
    audience_library = SelectField(_l("Library whose readers may sign up"), choices=[],
                                   validate_choice=False)
    signup_opens_at = DateTimeLocalField(_l("Sign-up opens (optional: now)"),
                                         format=TIME_FORMAT, validators=[Optional()])
    signup_closes_at = DateTimeLocalField(_l("Sign-up closes (optional: at the start)"),
                                          format=TIME_FORMAT, validators=[Optional()])

    def fill_choices(self):
        """The member libraries for the audience's library."""
        self.audience_library.choices = [SelectChoice("", "—")] + [
            SelectChoice(lib.code, library_name(lib)) for lib in member_libraries()]
        return self

    def event_fields(self):
        """The fields as ``services.create_event``/``update_event`` take them."""
        fields = {name: self[name].data for name in (
            "title", "kind", "description", "place", "online_url", "capacity", "audience")}
        for name in TIMES:
            fields[name] = _local(self[name].data)
        code = self.audience_library.data
        library = next((lib for lib in member_libraries() if lib.code == code), None)
        fields["audience_library_id"] = library.id if library else None
        return fields

    def show(self, event):
        """Fill the form from ``event`` (Beijing times)."""
        for name in ("title", "kind", "description", "place", "online_url", "capacity",
                     "audience"):
            self[name].data = getattr(event, name)
        for name in TIMES:
            self[name].data = getattr(event, name).astimezone(clock.SHANGHAI).replace(
                tzinfo=None)
        self.audience_library.data = (event.audience_library.code if event.audience_library
                                      else "")
        return self


class NewEventForm(EventForm):
    """A new event: who organises it, and whether it repeats (a reading club's sessions)."""

    organiser = SelectField(_l("Organiser"), choices=[], validate_choice=False)
    repeat = SelectField(_l("Repeats"), choices=[
        SelectChoice("", _l("Once")), SelectChoice("weekly", _l("Every week")),
        SelectChoice("fortnightly", _l("Every two weeks")),
        SelectChoice("monthly", _l("Every month"))])
    sessions = IntegerField(_l("Number of sessions"),
                            validators=[Optional(), NumberRange(1, SESSIONS_MAX)])

    def fill_organisers(self, choices):
        """The organisers ``user`` may choose (``organisers.organiser_choices``)."""
        self.organiser.choices = [
            SelectChoice(lib.code if lib else CENTRE,
                         library_name(lib) if lib else _l("Alliance management centre"))
            for lib in choices]
        return self


class CancelEventForm(FlaskForm):
    """Why the event is cancelled (the readers signed up are told)."""

    reason = TextAreaField(_l("Reason (optional; everyone signed up is emailed)"),
                           validators=[Optional(), Length(max=1000)])


class TicketCodeForm(FlaskForm):
    """A ticket code typed in at the door."""

    code = StringField(_l("Ticket code"), validators=[DataRequired(), Length(max=20)])

