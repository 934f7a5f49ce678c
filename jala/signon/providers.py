"""Which library signs in through what: adding, listing and removing providers.

Read from the database on every sign-in, so ``jala idp add`` takes effect at once in every web
process. The OIDC client secret is kept sealed (``jala.sealing``) or named
as an environment variable, and is never shown back.
"""
import os
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from jala import clock
from jala.audit import record_audit
from jala.errors import NotFound, RuleViolation
from jala.extensions import db
from jala.membership import get_library, is_member, library_name
from jala.sealing import seal, unseal
from jala.signon.models import KINDS, IdentityProvider

SECRET_PURPOSE = "signon-secret"


def client_secret(provider):
    """The OIDC client secret, from the environment variable it names or unsealed."""
    if provider.client_secret_env:
        value = os.environ.get(provider.client_secret_env)
        if not value:
            raise RuleViolation(_("The sign-in service of this library is not set up "
                                  "completely. Please tell the library."), status=503)
        return value
    if not provider.client_secret_sealed:
        return None
    secret = unseal(provider.client_secret_sealed, SECRET_PURPOSE)
    if secret is None:
        # SECRET_KEY changed since the secret was stored: the admin must give it again
        raise RuleViolation(_("The sign-in service of this library is not set up "
                              "completely. Please tell the library."), status=503)
    return secret


def check_provider_url(url):
    """An absolute https URL (plain http only in development); returned without a final /."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise RuleViolation(_("Give the provider's address as a full URL (https://…)."))
    if parts.scheme == "http" and current_app.config["JALA_PRODUCTION"]:
        raise RuleViolation(_("The provider's address must start with https://."))
    return url.rstrip("/")


def provider_of(library):
    """The library's provider, or None."""
    return db.session.execute(
        select(IdentityProvider).where(IdentityProvider.library_id == library.id)
    ).scalar_one_or_none()


def provider_for_sign_in(code):
    """The provider of the library with ``code`` for a new sign-in, or raise 404/403."""
    library = get_library(code)
    provider = provider_of(library)
    if provider is None:
        raise NotFound(_("%(library)s does not offer campus sign-on yet.",
                         library=library_name(library)))
    if not is_member(library):
        raise RuleViolation(_("%(library)s has left the alliance, so its campus sign-on no "
                              "longer opens the portal.", library=library.name_zh), status=403)
    return provider


def providers_for_chooser():
    """Providers of current member libraries, in the libraries' order."""
    from jala.membership import member_libraries

    by_library = {p.library_id: p for p in db.session.execute(select(IdentityProvider)).scalars()}
    return [(lib, by_library[lib.id]) for lib in member_libraries()
            if lib.id in by_library and is_member(lib)]


def set_provider(actor, code, kind, *, url=None, client_id=None, client_secret=None,
                 client_secret_env=None, saml_metadata=None, trust_provider_mfa=None):
    """Add or replace a library's provider. ``saml_metadata`` is the IdP metadata XML."""
    library = get_library(code)
    if kind not in KINDS:
        raise RuleViolation(_("Choose OIDC, CAS or SAML."))
    provider = provider_of(library) or IdentityProvider(library_id=library.id)
    previous_url, previous_client = provider.url, provider.client_id
    if provider.id is not None and provider.kind != kind:
        provider.client_id = provider.client_secret_sealed = provider.client_secret_env = None
        provider.saml_entity_id = provider.saml_metadata = None
    provider.kind = kind
    if kind in ("oidc", "cas"):
        provider.url = check_provider_url(url)
    if kind == "oidc":
        client_id = (client_id or "").strip() or provider.client_id
        if not client_id:
            raise RuleViolation(_("An OIDC provider needs the client id the portal was given."))
        if (previous_url, previous_client) != (provider.url, client_id):
            # the stored secret goes only to the server it was given for
            provider.client_secret_sealed = provider.client_secret_env = None
        provider.client_id = client_id
        if client_secret_env:
            provider.client_secret_env, provider.client_secret_sealed = client_secret_env, None
        elif client_secret:
            provider.client_secret_sealed = seal(client_secret, SECRET_PURPOSE)
            provider.client_secret_env = None
        elif not (provider.client_secret_sealed or provider.client_secret_env):
            raise RuleViolation(_("An OIDC provider needs the client secret the portal was "
                                  "given."))
    if kind == "saml":
        from jala.signon import saml

        provider.url = check_provider_url(url) if url else None
        entity_id = saml.idp_entity_id(saml_metadata)
        holder = db.session.execute(select(IdentityProvider).where(
            IdentityProvider.saml_entity_id == entity_id,
            IdentityProvider.library_id != library.id)).scalar_one_or_none()
        if holder is not None:
            raise RuleViolation(_("This identity provider already signs in the readers of "
                                  "%(library)s; each library needs its own.",
                                  library=library_name(holder.library)), status=409)
        provider.saml_entity_id = entity_id
        provider.saml_metadata = saml_metadata
    if trust_provider_mfa is not None:
        provider.trust_provider_mfa = bool(trust_provider_mfa)
    provider.updated_at = clock.now()
    db.session.add(provider)
    db.session.flush()
    record_audit(actor, "signon.provider_set", "library", library.code, library_id=library.id,
                 details={"kind": kind, "url": provider.url,
                          "trust_provider_mfa": provider.trust_provider_mfa})
    return provider


def refresh_saml_metadata(actor, code):
    """Fetch the SAML metadata again from the address it came from.

    Federation metadata carries a validUntil date; after it, sign-ins are refused until the
    metadata is refreshed (``jala idp refresh``, daily from cron).
    """
    from jala.signon import saml

    provider = provider_of(get_library(code))
    if provider is None or provider.kind != "saml" or not provider.url:
        raise RuleViolation(_("Only SAML metadata taken from an address can be fetched again."))
    return set_provider(actor, code, "saml", url=provider.url,
                        saml_metadata=saml.fetch_metadata(provider.url))


def remove_provider(actor, code):
    """Stop a library's campus sign-on.

    Accounts made through it stay: a reset link gives them a password to sign in with.
    """
    library = get_library(code)
    provider = provider_of(library)
    if provider is None:
        raise NotFound(_("This library does not offer campus sign-on."))
    db.session.delete(provider)
    record_audit(actor, "signon.provider_removed", "library", library.code, library_id=library.id,
                 details={"kind": provider.kind})
