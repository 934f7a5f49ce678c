"""Forms of the public pages (Flask-WTF: CSRF on every one)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length, Optional

from jala.core.libraries import DETAILS


class LibraryDetailsForm(FlaskForm):
    """A library's address, opening hours and contact, as its readers see them."""

    address = StringField(_l("Address"), validators=[Optional(), Length(max=DETAILS["address"])])
    opening_hours = StringField(_l("Opening hours"),
                                validators=[Optional(), Length(max=DETAILS["opening_hours"])])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=DETAILS["phone"])])
    email = StringField(_l("Email"), validators=[Optional(), Length(max=DETAILS["email"])])
    website = StringField(_l("Website"), validators=[Optional(), Length(max=DETAILS["website"])])
