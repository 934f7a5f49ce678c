"""Loans forms (Flask-WTF: CSRF on every one)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

MAX_ID = 2 ** 62


class ApplyCardForm(FlaskForm):
    """Apply for an interlibrary card (or a new term of an expired one)."""


class HoldForm(FlaskForm):
    """Place a hold on a copy at the reader's home library."""

    holding_id = IntegerField(validators=[DataRequired(), NumberRange(1, MAX_ID)])


class IllRequestForm(FlaskForm):
    """Ask for a copy of another member library."""

    holding_id = IntegerField(validators=[DataRequired(), NumberRange(1, MAX_ID)])
    note = TextAreaField(_l("Note to the libraries"), validators=[Optional(), Length(max=1000)])


class StepForm(FlaskForm):
    """A step on a request, hold or card; a note (or the reason, where one is needed)."""

    note = StringField(_l("Note"), validators=[Optional(), Length(max=1000)])


class UnionLendForm(FlaskForm):
    """Record a union loan at the desk."""

    card_code = StringField(_l("Interlibrary card code"),
                            validators=[DataRequired(), Length(max=40)])
    item_barcode = StringField(_l("Item barcode"), validators=[DataRequired(), Length(max=60)])
    record = StringField(_l("Record number or ISBN (optional)"),
                         validators=[Optional(), Length(max=40)])
