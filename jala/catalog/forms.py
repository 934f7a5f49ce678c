"""Catalogue forms."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice


class ImportForm(FlaskForm):
    """A file of records to import for a library."""

    file = FileField(_l("File (JSON Lines, MARC XML or ISO 2709)"), validators=[FileRequired()])
    format = SelectField(_l("Format"), default="", choices=[
        SelectChoice("", _l("Recognise it")), SelectChoice("jsonl", "JSON Lines"),
        SelectChoice("marcxml", "MARC XML"), SelectChoice("marc", "ISO 2709 MARC")])
    flavour = SelectField(_l("MARC flavour"), default="", choices=[
        SelectChoice("", _l("Recognise it")), SelectChoice("marc21", "MARC21"),
        SelectChoice("unimarc", "UNIMARC"), SelectChoice("cnmarc", "CNMARC")])
    encoding = SelectField(_l("Encoding"), default="utf-8", choices=[
        SelectChoice("utf-8", "UTF-8"), SelectChoice("gb18030", "GB18030")])
