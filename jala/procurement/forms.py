"""Purchase suggestion forms (Flask-WTF: CSRF on every one)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from jala.procurement.lifecycle import REASON_MAX
from jala.procurement.services import AUTHORS_MAX, NOTE_MAX, PUBLISHER_MAX, TITLE_MAX
from jala.search.normalize import canonical_isbn

# what ``?title=…&isbn=…`` may fill in, besides ``?q=`` (the search page links here with the
# reader's query)
PREFILLED = ("title", "authors", "publisher", "year", "isbn")


class SuggestForm(FlaskForm):
    """The book a reader suggests their library buy, and why."""

    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=TITLE_MAX)])
    authors = StringField(_l("Authors"), validators=[Optional(), Length(max=AUTHORS_MAX)])
    publisher = StringField(_l("Publisher"), validators=[Optional(), Length(max=PUBLISHER_MAX)])
    year = IntegerField(_l("Year"), validators=[Optional(), NumberRange(1000, 2100)])
    isbn = StringField("ISBN", validators=[Optional(), Length(max=40)])
    note = TextAreaField(_l("Why should the library buy it?"),
                         validators=[Optional(), Length(max=NOTE_MAX)])

    def prefill(self, args):
        """Fill the fields from query arguments (unknown or malformed ones are ignored).

        ``?q=`` is what a search that found nothing was asked: an ISBN, else the title.
        """
        query = args.get("q", "").strip()
        if query:
            field = self.isbn if canonical_isbn(query) else self.title
            field.data = query[:field.validators[-1].max]
        for name in PREFILLED:
            value = args.get(name, "").strip()
            if name == "year":
                if value.isdecimal() and len(value) == 4:
                    self.year.data = int(value)
            elif value:
                getattr(self, name).data = value[:self[name].validators[-1].max]


class DecisionForm(FlaskForm):
    """A librarian's decision on a suggestion: a reason to decline, a record when it arrives."""

    reason = StringField(_l("Reason (the reader is told)"),
                         validators=[Optional(), Length(max=REASON_MAX)])
    record_id = StringField(_l("Catalogue record id or address (optional)"),
                            validators=[Optional(), Length(max=200)])
