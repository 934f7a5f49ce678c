"""Reading forms (Flask-WTF: CSRF on every one)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Length, Optional


class PreviewUploadForm(FlaskForm):
    """One or more files of one kind: the cover, front matter, contents or sample pages."""

    kind = SelectField(_l("What the files show"), default="sample", choices=[
        SelectChoice("cover", _l("Cover (an image)")),
        SelectChoice("front", _l("Front matter (copyright page, preface)")),
        SelectChoice("toc", _l("Table of contents")),
        SelectChoice("sample", _l("Sample pages")),
    ])
    files = MultipleFileField(_l("Images (PNG, JPEG, WebP) or PDF, in reading order"))
    caption = StringField(_l("Caption (optional, e.g. “Preface, p. iii”)"),
                          validators=[Optional(), Length(max=200)])


class MoveForm(FlaskForm):
    """Move a preview page up or down."""

    direction = HiddenField(validators=[AnyOf(("up", "down"))])


class ConfirmForm(FlaskForm):
    """A button that only needs the CSRF token (delete, share, stop sharing)."""


class LinkResolverForm(FlaskForm):
    """A library's OpenURL link resolver."""

    base_url = StringField(_l("Base address of the resolver"),
                           validators=[DataRequired(), Length(max=500)])
    label = StringField(_l("Words on the link (optional, e.g. “Full text at our library”)"),
                        validators=[Optional(), Length(max=100)])


class ListForm(FlaskForm):
    """A new list, or a new name for one."""

    name = StringField(_l("Name of the list"), validators=[DataRequired(), Length(max=200)])


class SaveForm(FlaskForm):
    """Save a record to a list (the default one when none is chosen)."""

    record_id = HiddenField(validators=[DataRequired(), Length(max=18)])
    list_id = HiddenField(validators=[Optional(), Length(max=10)])
