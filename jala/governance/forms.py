"""Governance forms (Flask-WTF: CSRF on every one)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DateField,
    DateTimeLocalField,
    EmailField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from jala.governance.resolutions import KINDS


class ApplicationForm(FlaskForm):
    """A library's application to join the alliance."""

    name_zh = StringField(_l("Library name (Chinese)"),
                          validators=[DataRequired(), Length(max=100)])
    name_en = StringField(_l("Library name (English)"), validators=[Optional(), Length(max=200)])
    code = StringField(_l("Short code (capital letters, e.g. JXNU)"),
                       validators=[DataRequired(), Length(max=16)])
    city = StringField(_l("City"), validators=[DataRequired(), Length(max=50)])
    website = StringField(_l("Website"), validators=[Optional(), Length(max=200)])
    contact_name = StringField(_l("Contact person"), validators=[DataRequired(), Length(max=100)])
    contact_email = EmailField(_l("Contact email"), validators=[DataRequired(), Length(max=254)])
    contact_phone = StringField(_l("Contact phone"), validators=[Optional(), Length(max=40)])
    letter = FileField(_l("Application letter (PDF, signed by the library's head, with the "
                          "official seal)"), validators=[FileRequired()])


class ReviewForm(FlaskForm):
    """The management center's check of an application."""

    decision = RadioField(_l("Decision"), default="complete", choices=[
        SelectChoice("complete", _l("complete: it can go on a meeting's agenda")),
        SelectChoice("returned", _l("incomplete: return it to the applicant")),
    ])
    note = TextAreaField(_l("Note (what is missing)"), validators=[Optional(), Length(max=2000)])


class WithdrawForm(FlaskForm):
    """A member's written notice of withdrawal."""

    effective_on = DateField(_l("Effective date"), validators=[DataRequired()])
    notice = FileField(_l("Written notice (PDF)"), validators=[FileRequired()])


class MeetingForm(FlaskForm):
    """Convene a meeting, or start a joint request for one."""

    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    starts_at = DateTimeLocalField(_l("Starts (Beijing time)"), format="%Y-%m-%dT%H:%M",
                                   validators=[DataRequired()])
    place = StringField(_l("Place"), validators=[Optional(), Length(max=200)])
    online_url = StringField(_l("Online meeting link"), validators=[Optional(), Length(max=500)])


class ItemForm(FlaskForm):
    """One agenda item."""

    kind = SelectField(_l("Kind"), choices=[SelectChoice(kind, rules.label)
                                            for kind, rules in KINDS.items() if rules.by_hand])
    title = StringField(_l("Title (optional: filled in from the kind where possible)"),
                        validators=[Optional(), Length(max=300)])
    body = TextAreaField(_l("Text"), validators=[Optional(), Length(max=20000)])
    application_id = SelectField(_l("Application"), validators=[Optional()], choices=[])
    target_library = SelectField(_l("Library"), validators=[Optional()], choices=[])
    target_user = SelectField(_l("Committee member"), validators=[Optional()], choices=[])
    rotation = TextAreaField(_l("Rotation: one line per year, like 2027 Nanchang University"),
                             validators=[Optional(), Length(max=2000)])
    amount = StringField(_l("Amount (yuan)"), validators=[Optional(), Length(max=20)])


class CloseMeetingForm(FlaskForm):
    """Close the meeting, with a note for the minutes."""

    minutes_note = TextAreaField(_l("Note for the minutes"),
                                 validators=[Optional(), Length(max=20000)])


class HandoverForm(FlaskForm):
    """Start the handover to the next chair library."""

    note = TextAreaField(_l("Note to the incoming library"),
                         validators=[Optional(), Length(max=2000)])
