"""Joint procurement forms (Flask-WTF: CSRF on every one, HTMX posts too)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from jala.procurement.joint_rounds import CALL_NUMBER_MAX, NAME_MAX


class PledgeForm(FlaskForm):
    """A library's pledge for one line of the buying list."""

    key = HiddenField(validators=[DataRequired(), Length(max=600)])
    library_id = SelectField(_l("Pledging library"), coerce=int)
    kind = RadioField(_l("Pledge type"), default="buy",
                      choices=[SelectChoice("buy", _l("We buy it")),
                               SelectChoice("share", _l("We share the cost"))])
    amount = StringField(_l("Amount (yuan)"), validators=[DataRequired(), Length(max=20)])


class RoundForm(FlaskForm):
    """A new round: its name (the titles are the checked boxes ``title_id``)."""

    name = StringField(_l("Round name"), validators=[DataRequired(), Length(max=NAME_MAX)])


class RoundStepForm(FlaskForm):
    """A step of a round; sending it to the committee names the meeting."""

    meeting_id = IntegerField(_l("Committee meeting"), validators=[Optional()])


class ReceiveForm(FlaskForm):
    """A title has arrived: its union record (if the ISBN does not find it) and call number."""

    record_id = StringField(_l("Union record id or address (if the ISBN does not find it)"),
                            validators=[Optional(), Length(max=200)])
    call_number = StringField(_l("Call number at the buying library"),
                              validators=[Optional(), Length(max=CALL_NUMBER_MAX)])

