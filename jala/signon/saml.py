"""SAML 2.0 sign-in (CARSI, China's Shibboleth federation) through pysaml2 and xmlsec1.

The portal is one service provider (SP) for every library: its entity ID is
``PUBLIC_URL/saml/metadata`` and identity providers answer by HTTP-POST at ``PUBLIC_URL/saml/acs``.
Each library's IdP is known by the metadata stored with its provider; pysaml2 reads it from
there, never from the network, while a reader signs in.
"""
import fcntl
import json
import logging
import os
import secrets
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from flask import current_app
from flask_babel import gettext as _
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, SAMLError
from saml2.attribute_converter import ac_factory
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.mdstore import InMemoryMetaData
from saml2.metadata import entity_descriptor
from saml2.response import StatusError
from saml2.saml import NAMEID_FORMAT_PERSISTENT, name_id_from_string
from saml2.time_util import str_to_time
from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert

from jala import clock
from jala.errors import RuleViolation
from jala.extensions import db
from jala.signon.http import provider_request
from jala.signon.identity import Identity, SignOnRefused, bare_affiliations
from jala.signon.models import UsedAssertion

log = logging.getLogger(__name__)

EPPN = "urn:oid:1.3.6.1.4.1.5923.1.1.1.6"
SCOPED_AFFILIATION = "urn:oid:1.3.6.1.4.1.5923.1.1.1.9"
AFFILIATION = "urn:oid:1.3.6.1.4.1.5923.1.1.1.1"
MAIL = "urn:oid:0.9.2342.19200300.100.1.3"
DISPLAY_NAME = "urn:oid:2.16.840.1.113730.3.1.241"
# what the SP metadata asks IdPs to release, by pysaml2's friendly names (it writes the urn:oid)
REQUESTED_ATTRIBUTES = ["eduPersonPrincipalName", "eduPersonScopedAffiliation", "mail",
                        "displayName"]
MFA_CONTEXTS = {
    "https://refeds.org/profile/mfa",
    "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract",
    "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorUnregistered",
    "http://schemas.microsoft.com/claims/multipleauthn",
}
SHIBMD_SCOPE = "urn:mace:shibboleth:metadata:1.0&Scope"
# how far the IdP's clock may be from ours (Shibboleth SPs allow three minutes)
CLOCK_SKEW_SECONDS = 180


def entity_id():
    """The portal's SP entity ID (also the URL its metadata is served at)."""
    return current_app.config["PUBLIC_URL"].rstrip("/") + "/saml/metadata"


def acs_url():
    """Where IdPs post their responses."""
    return current_app.config["PUBLIC_URL"].rstrip("/") + "/saml/acs"


def single_logout_url():
    """Where IdPs send the answer to a single logout."""
    return current_app.config["PUBLIC_URL"].rstrip("/") + "/saml/logout"


# --- the IdP's metadata --------------------------------------------------------------------

def fetch_metadata(url_or_path):
    """The IdP metadata XML from a URL (server to server, bounded wait) or a file."""
    if urlsplit(url_or_path).scheme in ("http", "https"):
        response = provider_request("GET", url_or_path, allow_redirects=True)
        if response.status_code != 200:
            raise RuleViolation(_("The metadata address answered %(status)d, not the IdP's "
                                  "metadata.", status=response.status_code))
        return response.text
    try:
        return Path(url_or_path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleViolation(_("The metadata file cannot be read: %(error)s",
                              error=str(exc))) from exc


def idp_entity_id(metadata_xml):
    """The entity ID of the one IdP the metadata describes; refuse anything else."""
    metadata = _read_idp_metadata(metadata_xml)
    return next(iter(metadata.keys()))


def _read_idp_metadata(metadata_xml):
    """Parse IdP metadata: exactly one SAML 2.0 IdP, current, with a redirect SSO and a key."""
    metadata = InMemoryMetaData(ac_factory(), metadata_xml)
    try:
        metadata.parse(metadata_xml or "")
    except SAMLError as exc:
        raise RuleViolation(_("This is not SAML metadata.")) from exc
    except Exception as exc:  # pysaml2 raises a bare TooOld for a federation file past its date
        raise RuleViolation(_("This SAML metadata has expired; fetch a current copy.")) from exc
    if metadata.to_old:
        raise RuleViolation(_("This SAML metadata has expired; fetch a current copy."))
    idps = [entity for entity, roles in metadata.items() if "idpsso_descriptor" in roles]
    if not idps:
        raise RuleViolation(_("This metadata describes no SAML 2.0 identity provider "
                              "(IDPSSODescriptor)."))
    if len(idps) > 1 or len(metadata) > 1:
        raise RuleViolation(_("This metadata describes several entities; give the metadata of "
                              "the library's own identity provider."))
    if not metadata.service(idps[0], "idpsso_descriptor", "single_sign_on_service",
                            BINDING_HTTP_REDIRECT):
        raise RuleViolation(_("This identity provider has no single sign-on service with the "
                              "HTTP-Redirect binding."))
    if not metadata.certs(idps[0], "idpsso", "signing"):
        raise RuleViolation(_("This identity provider's metadata has no signing key."))
    return metadata


# --- the SP's key pair and configuration -----------------------------------------------------

def make_key_pair(key_path, cert_path, common_name):
    """Write a new RSA key (mode 0600) and a self-signed certificate for it, ten years long."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64])])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=3650))
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as key_file:
        key_file.write(key_pem)
    # the certificate comes last and whole: once it is there, the pair is complete
    partial = Path(f"{cert_path}.partial")
    partial.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    os.replace(partial, cert_path)


def sp_key_pair():
    """(key file, certificate file): both configured, or made once in the instance folder."""
    configured = (current_app.config.get("SAML_SP_KEY_FILE"),
                  current_app.config.get("SAML_SP_CERT_FILE"))
    if any(configured):
        if not all(configured):
            raise RuleViolation(_("Campus sign-on through SAML is not set up completely (the "
                                  "key or its certificate is missing). Please tell the "
                                  "portal's administrator."), status=503)
        return configured
    folder = Path(current_app.instance_path)
    key_path, cert_path = folder / "saml-sp.key", folder / "saml-sp.crt"
    if not cert_path.exists():
        # several web processes may start at once: one makes the pair, the others wait for it
        with open(folder / "saml-sp.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not cert_path.exists():
                make_key_pair(key_path, cert_path, urlsplit(entity_id()).hostname or "jala")
    return str(key_path), str(cert_path)


def _xmlsec_binary():
    binary = shutil.which("xmlsec1")
    if binary is None:
        raise RuleViolation(_("Campus sign-on through SAML is not available on this server "
                              "(xmlsec1 is missing). Please tell the portal's administrator."),
                            status=503)
    return binary


def _config(metadata_xml=None):
    key_file, cert_file = sp_key_pair()
    settings = {
        "entityid": entity_id(),
        "xmlsec_binary": _xmlsec_binary(),
        "key_file": key_file,
        "cert_file": cert_file,
        "encryption_keypairs": [{"key_file": key_file, "cert_file": cert_file}],
        "accepted_time_diff": CLOCK_SKEW_SECONDS,
        "allow_unknown_attributes": True,
        "name": "JALA Portal",
        "service": {"sp": {
            "endpoints": {
                "assertion_consumer_service": [(acs_url(), BINDING_HTTP_POST)],
                "single_logout_service": [(single_logout_url(), BINDING_HTTP_REDIRECT)],
            },
            "want_assertions_signed": True,
            "want_response_signed": False,
            "authn_requests_signed": False,
            "logout_requests_signed": True,
            "allow_unsolicited": False,
            "required_attributes": REQUESTED_ATTRIBUTES,
        }},
    }
    if metadata_xml:
        settings["metadata"] = {"inline": [metadata_xml]}
    config = SPConfig()
    config.load(settings)
    return config


def _client(provider):
    _read_idp_metadata(provider.saml_metadata)   # expired or broken metadata said in words
    return Saml2Client(config=_config(provider.saml_metadata))


def _scopes(client, provider):
    """The IdP's shibmd:Scope values (none declared: scoped values are not checked)."""
    scopes = set()
    for role in client.metadata[provider.saml_entity_id]["idpsso_descriptor"]:
        for element in role.get("extensions", {}).get("extension_elements", []):
            if element["__class__"] == SHIBMD_SCOPE and element.get("regexp") != "true":
                scopes.add(element["text"].strip().lower())
    return scopes


def sp_metadata():
    """The portal's SP metadata XML, for ``GET /saml/metadata`` and for the IdPs' admins."""
    descriptor = entity_descriptor(_config())
    descriptor.extensions = None  # pysaml2 lists every algorithm xmlsec1 has, md5 among them
    return descriptor.to_string().decode()


# --- signing in ------------------------------------------------------------------------------

def begin(provider, callback_url=None):
    """An AuthnRequest to the library's IdP: (redirect URL, flow to keep until the response).

    ``callback_url`` is not used: the IdP answers at the ACS of the portal's metadata.
    """
    client = _client(provider)
    relay_state = secrets.token_urlsafe(24)
    request_id, info = client.prepare_for_authenticate(
        entityid=provider.saml_entity_id, relay_state=relay_state,
        binding=BINDING_HTTP_REDIRECT, response_binding=BINDING_HTTP_POST)
    location = dict(info["headers"])["Location"]
    flow = {"relay_state": relay_state, "request_id": request_id,
            "library": provider.library.code}
    return location, flow


def read_response(provider, form, flow):
    """Check the IdP's posted response against ``flow`` and return who signed in.

    Refused (SignOnRefused): an unsigned or tampered assertion, another audience, destination or
    recipient, a response to another request, an expired or replayed assertion, no subject.
    """
    if not form.get("SAMLResponse"):
        raise SignOnRefused(_("The sign-in service of the library sent no answer."))
    if form.get("RelayState") != flow["relay_state"]:
        raise SignOnRefused(_("This answer belongs to another sign-in. Please start again."))
    client = _client(provider)
    response = _verified_response(client, provider, form["SAMLResponse"], flow)
    _check_assertion(provider, response, response.assertion)
    _remember_assertion(response.assertion)
    return _identity(response, _scopes(client, provider))


def _verified_response(client, provider, saml_response, flow):
    """pysaml2 checks the signature, decrypts, and checks times, audience and InResponseTo."""
    try:
        response = client.parse_authn_request_response(
            saml_response, BINDING_HTTP_POST, outstanding={flow["request_id"]: flow["library"]})
    except StatusError as exc:
        log.info("SAML IdP %s refused the sign-in: %s", provider.saml_entity_id, exc)
        raise SignOnRefused(_("The sign-in service of the library did not sign you in."),
                            status=403) from exc
    except Exception as exc:  # pysaml2 says "not signed", "not for us" or "too late" this way
        log.info("SAML response from %s refused: %r", provider.saml_entity_id, exc)
        raise _not_verified() from exc
    if response is None or response.assertion is None:
        raise _not_verified()
    return response


def _not_verified():
    return SignOnRefused(_("The answer from the library's sign-in service could not be "
                           "verified. Please start again."), status=403)


def _check_assertion(provider, response, assertion):
    """What pysaml2 lets pass when an element is absent: each must be there and be ours."""
    refused = _not_verified()
    if response.response.destination != acs_url():
        raise refused
    if assertion.issuer is None or assertion.issuer.text.strip() != provider.saml_entity_id:
        raise refused
    if assertion.signature is None:
        raise refused
    audiences = {audience.text.strip() for restriction in
                 (assertion.conditions.audience_restriction if assertion.conditions else [])
                 for audience in restriction.audience}
    if entity_id() not in audiences:
        raise refused
    confirmations = assertion.subject.subject_confirmation
    if not confirmations or any(
            c.subject_confirmation_data is None
            or c.subject_confirmation_data.recipient != acs_url() for c in confirmations):
        raise refused


def _expiry(assertion):
    """When the assertion can no longer be used (and so need no longer be remembered)."""
    limits = [c.subject_confirmation_data.not_on_or_after
              for c in assertion.subject.subject_confirmation]
    if assertion.conditions is not None:
        limits.append(assertion.conditions.not_on_or_after)
    instants = [datetime(*str_to_time(limit)[:6], tzinfo=UTC) for limit in limits if limit]
    latest = max(instants, default=clock.now() + timedelta(hours=1))
    return latest + timedelta(seconds=CLOCK_SKEW_SECONDS)


def _remember_assertion(assertion):
    """Record the assertion's ID; one posted before (even at the same moment) is refused."""
    db.session.execute(delete(UsedAssertion).where(UsedAssertion.expires_at < clock.now()))
    inserted = db.session.execute(
        insert(UsedAssertion).values(assertion_id=assertion.id, expires_at=_expiry(assertion))
        .on_conflict_do_nothing(index_elements=["assertion_id"])
        .returning(UsedAssertion.assertion_id)).scalar_one_or_none()
    if inserted is None:
        raise SignOnRefused(_("This sign-in answer was used already. Please start again."))


def _attributes(assertion):
    """{urn:oid name: [values]} of every attribute statement (encrypted ones decrypted)."""
    values = {}
    for statement in assertion.attribute_statement:
        for attribute in statement.attribute:
            values.setdefault(attribute.name, []).extend(
                (value.text or "").strip() for value in attribute.attribute_value)
    return values


def _in_scope(value, scopes):
    """A scoped value (``x@scope``) the IdP may assert: its scope is one of the IdP's own."""
    local, _at, scope = value.rpartition("@")
    return bool(local) and (not scopes or scope.lower() in scopes)


def _identity(response, scopes):
    assertion = response.assertion
    attributes = _attributes(assertion)
    eppn = next((v for v in attributes.get(EPPN, []) if _in_scope(v, scopes)), None)
    name_id = response.name_id
    if name_id is not None and name_id.format == NAMEID_FORMAT_PERSISTENT and name_id.text:
        subject = name_id.text.strip()
    elif eppn:
        subject = eppn
    else:
        raise SignOnRefused(_("The sign-in service of the library did not release your "
                              "account name (eduPersonPrincipalName). Please ask the library "
                              "to release it to the portal."))
    affiliations = [v for v in attributes.get(SCOPED_AFFILIATION, []) if _in_scope(v, scopes)]
    affiliations += attributes.get(AFFILIATION, [])
    if not affiliations:
        # CARSI IdPs release it; without it the portal cannot tell a student from a guest
        raise SignOnRefused(_("The sign-in service of the library did not say whether you are "
                              "a student or member of staff (eduPersonScopedAffiliation). "
                              "Please ask the library to release it to the portal."),
                            status=422)
    email = next(iter(attributes.get(MAIL, [])), None)
    return Identity(
        subject=subject,
        email=email.lower() if email else None,
        name=next(iter(attributes.get(DISPLAY_NAME, [])), None) or None,
        username=eppn.rpartition("@")[0] if eppn else None,
        affiliations=bare_affiliations(affiliations),
        mfa=any(context in MFA_CONTEXTS for context, _by, _at in response.authn_info()),
        session_index=_logout_handle(name_id, assertion),
    )


def _logout_handle(name_id, assertion):
    """What single logout needs later: the NameID and the SessionIndex, as one string."""
    statement = next(iter(assertion.authn_statement), None)
    if name_id is None or statement is None or not statement.session_index:
        return None
    return json.dumps({"name_id": str(name_id), "session_index": statement.session_index})


# --- leaving ---------------------------------------------------------------------------------

def logout_url(provider, session_index, return_url="/"):
    """The IdP's single logout for this session (a signed LogoutRequest URL), or None.

    The IdP answers at ``/saml/logout``; ``finish_logout`` then names the portal page to show.
    """
    if not session_index:
        return None
    client = _client(provider)
    services = client.metadata.single_logout_service(
        provider.saml_entity_id, BINDING_HTTP_REDIRECT, "idpsso")
    if not services:
        return None
    handle = json.loads(session_index)
    _request_id, request = client.create_logout_request(
        services[0]["location"], provider.saml_entity_id,
        name_id=name_id_from_string(handle["name_id"]),
        session_indexes=[handle["session_index"]], sign=False)
    info = client.apply_binding(BINDING_HTTP_REDIRECT, str(request), services[0]["location"],
                                relay_state=_local_path(return_url), sign=True)
    return dict(info["headers"])["Location"]


def _local_path(url):
    """The path (and query) of a portal URL, fit for a RelayState (80 bytes at most); else /."""
    parts = urlsplit(url or "/")
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    safe = path.startswith("/") and not path.startswith("//") and "\\" not in path
    return path if safe and len(path.encode()) <= 80 else "/"


def finish_logout(args):
    """Where the portal goes when the IdP's logout answer comes back to ``/saml/logout``."""
    return _local_path(args.get("RelayState"))

