"""A member library's identity provider, the campus identities it vouched for, used assertions."""
from jala import clock
from jala.extensions import db

KINDS = ("oidc", "cas", "saml")


class IdentityProvider(db.Model):
    """How one member library signs its people in: OIDC, CAS or SAML (one per library)."""

    __tablename__ = "identity_providers"

    id = db.Column(db.Integer, primary_key=True)
    library_id = db.Column(db.Integer, db.ForeignKey("libraries.id"), nullable=False,
                           unique=True)
    kind = db.Column(db.String(8), nullable=False)
    # OIDC issuer, CAS server URL, or the URL the SAML metadata came from (None: from a file)
    url = db.Column(db.String(500))
    client_id = db.Column(db.String(200))
    # the OIDC client secret, encrypted with a key derived from SECRET_KEY (providers.py) …
    client_secret_sealed = db.Column(db.Text)
    # … or the name of an environment variable that holds it
    client_secret_env = db.Column(db.String(100))
    saml_entity_id = db.Column(db.String(500), unique=True)
    saml_metadata = db.Column(db.Text)
    # whether the provider's own second factor (OIDC amr, SAML AuthnContext) stands in for ours
    trust_provider_mfa = db.Column(db.Boolean, nullable=False, default=False)
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)
    updated_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)

    library = db.relationship("Library")

    __table_args__ = (
        db.CheckConstraint("kind IN ('oidc', 'cas', 'saml')", name="known_kind"),
    )

    @property
    def issuer(self):
        """Who vouches for the identities this provider signs in (kept on each of them)."""
        return self.saml_entity_id if self.kind == "saml" else self.url


class CampusIdentity(db.Model):
    """A subject of one library's provider, tied to one portal account for good."""

    __tablename__ = "campus_identities"

    id = db.Column(db.Integer, primary_key=True)
    library_id = db.Column(db.Integer, db.ForeignKey("libraries.id"), nullable=False)
    # who vouched: the OIDC issuer, CAS server or SAML entity ID; a library that changes its
    # provider gets new identities, so the new provider cannot take over the old accounts
    issuer = db.Column(db.String(500), nullable=False)
    subject = db.Column(db.String(255), nullable=False)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False, index=True)
    kind = db.Column(db.String(8), nullable=False)
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)
    last_sign_in_at = db.Column(db.DateTime(timezone=True))

    user = db.relationship("User")
    library = db.relationship("Library")

    __table_args__ = (
        db.UniqueConstraint("library_id", "issuer", "subject"),
    )


class UsedAssertion(db.Model):
    """A SAML assertion already accepted: the same one posted again is a replay."""

    __tablename__ = "used_saml_assertions"

    assertion_id = db.Column(db.String(255), primary_key=True)
    expires_at = db.Column(db.DateTime(timezone=True), nullable=False, index=True)
