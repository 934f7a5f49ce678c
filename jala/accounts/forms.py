"""Account forms (Flask-WTF: CSRF on every one)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput


class LoginForm(FlaskForm):
    """Email and password."""

    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=128)])
    next = HiddenField()


class CodeForm(FlaskForm):
    """A six-digit code from an authenticator app."""

    code = StringField(_l("Code from your authenticator app"),
                       validators=[DataRequired(), Length(min=6, max=8)])


class RegisterForm(FlaskForm):
    """A new account: a reader of a member library, or a public user."""

    kind = RadioField(_l("I am"), default="reader", choices=[
        SelectChoice("reader", _l("a reader of a member library")),
        SelectChoice("public", _l("a member of the public")),
    ])
    display_name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    library = SelectField(_l("Home library"), validators=[Optional()])
    card_number = StringField(_l("Library card number"), validators=[Optional(), Length(max=40)])
    password = PasswordField(_l("Password (8 characters or more)"),
                             validators=[DataRequired(), Length(max=128)])


class ForgotForm(FlaskForm):
    """Ask for a reset link."""

    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])


class ResetForm(FlaskForm):
    """Choose a new password."""

    password = PasswordField(_l("New password (8 characters or more)"),
                             validators=[DataRequired(), Length(max=128)])


class ChangePasswordForm(FlaskForm):
    """Change the password while logged in."""

    current_password = PasswordField(_l("Current password"),
                                     validators=[DataRequired(), Length(max=128)])
    password = PasswordField(_l("New password (8 characters or more)"),
                             validators=[DataRequired(), Length(max=128)])


class GrantForm(FlaskForm):
    """Give a role to a user at a library."""

    user_id = IntegerField(widget=HiddenInput(),
                           validators=[DataRequired(), NumberRange(min=1, max=2**31 - 1)])
    role = SelectField(_l("Role"), choices=[])
