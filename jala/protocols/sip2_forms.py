"""The library admin's form for the library's SIP2 server."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional


class Sip2Form(FlaskForm):
    """Where the server is and how the portal logs in; the password is write-only."""

    host = StringField(_l("Host name or IP address"),
                       validators=[InputRequired(), Length(max=253)])
    port = IntegerField(_l("Port"), validators=[InputRequired(), NumberRange(1, 65535)])
    institution_id = StringField(_l("Institution id (AO)"),
                                 validators=[Optional(), Length(max=64)])
    login_user = StringField(_l("Login user (CN)"), validators=[Optional(), Length(max=64)],
                             description=_l("Leave empty if the server needs no login."))
    password = PasswordField(_l("Login password (CO)"), validators=[Optional(), Length(max=64)],
                             description=_l("Leave empty to keep the stored password."))
    location_code = StringField(_l("Location code (CP)"), validators=[Optional(), Length(max=64)])
    encoding = SelectField(_l("Character encoding"), choices=[
        SelectChoice("utf-8", "UTF-8"), SelectChoice("gb18030", "GB18030 (GBK)"),
        SelectChoice("cp850", _l("Code page 850 (the SIP2 default)"))])
