"""Document delivery forms (Flask-WTF: CSRF on every one)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional


class RequestForm(FlaskForm):
    """What the reader needs: from a record page (pre-filled) or typed as a citation."""

    record_id = HiddenField()
    kind = RadioField(_l("I need"), default="article", choices=[
        SelectChoice("article", _l("an article")),
        SelectChoice("book_part", _l("part of a book (pages)")),
        SelectChoice("other", _l("something else (thesis, report, …)")),
    ])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=1000)])
    authors = StringField(_l("Authors"), validators=[Optional(), Length(max=1000)])
    container_title = StringField(_l("Journal or book"), validators=[Optional(), Length(max=1000)])
    year = IntegerField(_l("Year"), validators=[Optional(), NumberRange(1000, 2100)])
    volume = StringField(_l("Volume"), validators=[Optional(), Length(max=40)])
    issue = StringField(_l("Issue"), validators=[Optional(), Length(max=40)])
    pages = StringField(_l("Pages (for a book: the range you need, e.g. 12-30)"),
                        validators=[Optional(), Length(max=40)])
    isbn = StringField("ISBN", validators=[Optional(), Length(max=40)])
    issn = StringField("ISSN", validators=[Optional(), Length(max=20)])
    doi = StringField("DOI", validators=[Optional(), Length(max=200)])
    note = TextAreaField(_l("Note to the librarian"), validators=[Optional(), Length(max=2000)])


class AcceptForm(FlaskForm):
    """Accept a request (for a book of unknown length: with its page count)."""

    page_count = IntegerField(_l("Pages in the book"), validators=[Optional(),
                                                                    NumberRange(1, 100000)])


class RejectForm(FlaskForm):
    """Pass a request on to the next library, or decline it for good."""

    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=1000)])
    final = BooleanField(_l("Decline for good (the reader is told); otherwise the next "
                            "library is asked"))


class FulfilForm(FlaskForm):
    """Send the document: a PDF, or a URL where it can be read."""

    file = FileField(_l("PDF"))
    url = StringField(_l("or a URL"), validators=[Optional(), Length(max=2000)])


class BulkForm(FlaskForm):
    """Accept or pass on several requests at once."""

    action = SelectField(_l("With the ticked requests"), choices=[
        SelectChoice("accept", _l("Accept")),
        SelectChoice("reject", _l("Pass on / decline")),
    ])
    reason = StringField(_l("Reason (to pass on or decline)"),
                         validators=[Optional(), Length(max=1000)])
    final = BooleanField(_l("Decline for good"))


class CoverageForm(FlaskForm):
    """One journal the library holds or subscribes to."""

    issn = StringField("ISSN", validators=[DataRequired(), Length(max=20)])
    title = StringField(_l("Journal title"), validators=[Optional(), Length(max=500)])
    year_from = StringField(_l("From year"), validators=[Optional(), Length(max=4)])
    year_to = StringField(_l("To year"), validators=[Optional(), Length(max=4)])


class CoverageUploadForm(FlaskForm):
    """A CSV file of journals (issn,title,year_from,year_to) or a KBART file."""

    file = FileField(_l("CSV file (issn, title, year_from, year_to) or KBART file"),
                     validators=[FileRequired()])
