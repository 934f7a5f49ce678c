"""Forms of recognition (Flask-WTF: CSRF on every one)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from jala.community.recognition.book_lists import (
    INTRODUCTION_MAX,
    NOTE_MAX,
    THEME_MAX,
    TITLE_MAX,
)
from jala.community.recognition.commendations import CITATION_MAX, NAME_MAX
from jala.community.recognition.commendations import TITLE_MAX as PERSON_TITLE_MAX


class NominationForm(FlaskForm):
    """A nomination of an advanced unit or individual."""

    kind = SelectField(_l("Nominate"), choices=[
        SelectChoice("unit", _l("An advanced unit (a library)")),
        SelectChoice("individual", _l("An advanced individual"))])
    library_id = SelectField(_l("Library"), coerce=int)
    person_name = StringField(_l("Name (advanced individuals)"),
                              validators=[Optional(), Length(max=NAME_MAX)])
    person_title = StringField(_l("Role or title (advanced individuals)"),
                               validators=[Optional(), Length(max=PERSON_TITLE_MAX)])
    citation = TextAreaField(_l("What they did, in a few sentences"),
                             validators=[DataRequired(), Length(max=CITATION_MAX)])
    nominating_library_id = SelectField(_l("Nominated by"), coerce=int)


class WindowForm(FlaskForm):
    """The nomination window of a year."""

    year = IntegerField(_l("Year"), validators=[InputRequired()])
    opens_on = DateField(_l("First day of nominations"), validators=[InputRequired()])
    closes_on = DateField(_l("Last day of nominations"), validators=[InputRequired()])


class AgendaForm(FlaskForm):
    """Nominations to put on a meeting's agenda."""

    meeting_id = SelectField(_l("Meeting"), coerce=int)
    nomination_ids = SelectMultipleField(_l("Nominations"), coerce=int)


class BookListForm(FlaskForm):
    """A book list's title, theme, introduction and cover."""

    library_id = SelectField(_l("Library"), coerce=int)
    title = StringField(_l("Heading"), validators=[DataRequired(), Length(max=TITLE_MAX)])
    theme = StringField(_l("Theme (optional)"), validators=[Optional(), Length(max=THEME_MAX)])
    introduction = TextAreaField(_l("Introduction of the book list"),
                                 validators=[Optional(), Length(max=INTRODUCTION_MAX)])
    cover_record_id = SelectField(_l("Cover"), validators=[Optional()])


class EntryForm(FlaskForm):
    """A record to add, with the librarian's note."""

    record_id = HiddenField(validators=[DataRequired()])
    note = TextAreaField(_l("Your note (optional)"),
                         validators=[Optional(), Length(max=NOTE_MAX)])


class NoteForm(FlaskForm):
    """The librarian's note on one entry."""

    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=NOTE_MAX)])
