"""The library admin's form for the library's identity provider."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional


class ProviderForm(FlaskForm):
    """Kind and address of the provider; the secret is write-only (blank keeps the stored one)."""

    kind = SelectField(_l("Kind"), validators=[InputRequired()], choices=[
        SelectChoice("cas", _l("CAS (统一身份认证)")),
        SelectChoice("saml", _l("SAML 2.0 (CARSI, Shibboleth)")),
        SelectChoice("oidc", _l("OpenID Connect"))])
    url = StringField(_l("Address"), validators=[Optional(), Length(max=500)],
                      description=_l("CAS: the server's address (https://…/cas). OIDC: the "
                                     "issuer. SAML: the address of the IdP's metadata."))
    client_id = StringField(_l("Client id (OIDC)"), validators=[Optional(), Length(max=200)])
    client_secret = PasswordField(_l("Client secret (OIDC)"),
                                  validators=[Optional(), Length(max=500)],
                                  description=_l("Leave empty to keep the stored secret."))
    saml_metadata = TextAreaField(_l("IdP metadata (SAML, instead of an address)"),
                                  validators=[Optional(), Length(max=500_000)])
    trust_provider_mfa = BooleanField(
        _l("Staff who used the provider's second factor need not give the portal's code"))
