"""The library admin's forms for the OAI-PMH repositories the library's records come from."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from jala.protocols.harvest_schedule import MAX_INTERVAL_HOURS

FORMAT_NAMES = {"marc21": _l("MARC 21 (MARCXML)"), "oai_dc": _l("Dublin Core (oai_dc)")}


def _every_hours():
    return IntegerField(_l("Harvest every (hours)"), default=24,
                        validators=[InputRequired(), NumberRange(1, MAX_INTERVAL_HOURS)])


class HarvestSourceForm(FlaskForm):
    """A repository to harvest: its address, set, record format and how often."""

    url = StringField(_l("Repository address (OAI-PMH base URL)"),
                      validators=[InputRequired(), Length(max=500)])
    set_spec = StringField(_l("Set (leave empty for the whole repository)"),
                           validators=[Optional(), Length(max=200)])
    metadata_prefix = SelectField(_l("Record format"), choices=[
        SelectChoice(code, name) for code, name in FORMAT_NAMES.items()])
    interval_hours = _every_hours()


class HarvestIntervalForm(FlaskForm):
    """How often one source is harvested."""

    interval_hours = _every_hours()
