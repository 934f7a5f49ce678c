"""CAS 3.0 (统一身份认证): send the reader to the library's CAS, then check the ticket it gives.

The ticket is checked server to server at ``/p3/serviceValidate`` (``/serviceValidate`` on a
CAS 2.0 server), with exactly the service URL the reader was sent with. The service URL
carries a random ``state`` kept in this browser's session, so a ticket brought back to another
browser is refused.
"""
import secrets
from urllib.parse import quote

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from jala.signon.http import provider_request
from jala.signon.identity import (
    Identity,
    ProviderUnavailable,
    SignOnRefused,
    bare_affiliations,
    check_state,
)

CAS = "{http://www.yale.edu/tp/cas}"
EMAIL_ATTRIBUTES = ("mail", "email")
NAME_ATTRIBUTES = ("cn", "displayName", "name")
AFFILIATION_ATTRIBUTES = ("eduPersonAffiliation", "eduPersonScopedAffiliation")
# Apereo CAS names the second factor it used in authnContextClass: mfa-duo, mfa-gauth…
MFA_ATTRIBUTE, MFA_PREFIX = "authnContextClass", "mfa-"

# authenticationFailure codes of the CAS 3.0 protocol → what the reader is told, and the status
FAILURES = {
    "INVALID_TICKET": (SignOnRefused, 401, _l(
        "The sign-in ticket of your library has expired or was already used. Please sign in "
        "again.")),
    "INVALID_SERVICE": (SignOnRefused, 400, _l(
        "Your library's sign-in service gave a ticket for another address. Please sign in "
        "again.")),
    "INTERNAL_ERROR": (ProviderUnavailable, 502, _l(
        "The sign-in service of the library has a problem. Please try again later.")),
}
OTHER_FAILURE = (SignOnRefused, 400, _l(
    "Your library's sign-in service refused this sign-in. Please sign in again."))


def begin(provider, callback_url):
    """The CAS login URL to send the reader to, and the flow to keep in their session."""
    state = secrets.token_urlsafe(24)
    service = callback_url + "?state=" + state
    login_url = provider.url + "/login?service=" + quote(service, safe="")
    return login_url, {"state": state, "service": service}


def complete(provider, args, flow, callback_url):
    """The identity the library's CAS vouches for in the ticket of this callback.

    The ticket is checked with the service URL kept in ``flow``, exactly as the CAS saw it.
    """
    check_state(args.get("state"), flow.get("state"))
    ticket = args.get("ticket")
    if not ticket:
        raise SignOnRefused(_("Your library's sign-in service sent you back without a ticket. "
                              "Please sign in again."))
    user, attributes = _validated(provider, flow["service"], ticket)
    return _identity(user, attributes)


def logout_url(provider, session_index, return_url):
    """The CAS single logout, which sends the reader back to ``return_url``.

    CAS needs no session index: ``session_index`` is there to answer like the other protocols.
    """
    return provider.url + "/logout?service=" + quote(return_url, safe="")


def _validated(provider, service, ticket):
    """Ask the CAS about the ticket; the user and attributes ({name: [values]}) it vouches for."""
    params = {"service": service, "ticket": ticket}
    response = provider_request("GET", provider.url + "/p3/serviceValidate", params=params)
    if response.status_code == 404:  # a CAS 2.0 server, which may release no attributes
        response = provider_request("GET", provider.url + "/serviceValidate", params=params)
    if response.status_code != 200:
        raise _unreadable()
    try:
        answer = fromstring(response.content)
    except (ParseError, DefusedXmlException) as exc:
        raise _unreadable() from exc
    failure = answer.find(CAS + "authenticationFailure")
    if failure is not None:
        error, status, message = FAILURES.get((failure.get("code") or "").strip(),
                                              OTHER_FAILURE)
        raise error(str(message), status=status)
    success = answer.find(CAS + "authenticationSuccess")
    user = (success.findtext(CAS + "user") or "").strip() if success is not None else ""
    if not user:
        raise _unreadable()
    return user, _attributes(success)


def _unreadable():
    return ProviderUnavailable(_("The sign-in service of the library answered in a way the "
                                 "portal cannot read. Please try again later."))


def _attributes(success):
    """CAS 3.0 ``<cas:attributes><cas:mail>…``, each name with all its values."""
    attributes = {}
    for element in success.findall(CAS + "attributes/*"):
        value = (element.text or "").strip()
        if value:
            attributes.setdefault(element.tag.rpartition("}")[2], []).append(value)
    return attributes


def _identity(user, attributes):
    email = _first(attributes, EMAIL_ATTRIBUTES)
    if not email:
        raise SignOnRefused(_("Your library's sign-in service (CAS) did not release your email "
                              "address, which the portal needs. Please ask your library to "
                              "release the attribute “mail” to the portal."))
    return Identity(
        subject=user,
        email=email.lower(),
        name=_first(attributes, NAME_ATTRIBUTES),
        username=user,
        affiliations=_affiliations(attributes),
        mfa=any(value.startswith(MFA_PREFIX) for value in attributes.get(MFA_ATTRIBUTE, ())),
    )


def _first(attributes, names):
    return next((attributes[name][0] for name in names if attributes.get(name)), None)


def _affiliations(attributes):
    return bare_affiliations(value for name in AFFILIATION_ATTRIBUTES
                             for value in attributes.get(name, ()))
