"""A real SAML 2.0 identity provider for the tests: pysaml2's IdP on loopback, signing (and
encrypting) with xmlsec1 and a key made for the run, like a CARSI member's Shibboleth IdP.

A test turns the knobs of ``SamlIdp`` (who signs in, NameID format, signature, encryption, MFA,
audience, lifetime) before a sign-in; ``sign_in_at_idp`` plays the reader at the IdP and returns
the form its page would auto-post to the portal's ACS.
"""
import shutil
from contextlib import contextmanager
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import requests
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_PERSISTENT, NAMEID_FORMAT_TRANSIENT, NameID
from saml2.server import Server
from werkzeug.wrappers import Request, Response

from jala.signon.saml import make_key_pair
from tests.support.browser import serving

SCOPE = "ncu.edu.cn"
PASSWORD_CONTEXT = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
MFA_CONTEXT = "https://refeds.org/profile/mfa"
XMLSEC = shutil.which("xmlsec1")


def a_student(**changes):
    """The attributes a CARSI IdP releases for a student (by pysaml2's friendly names)."""
    user = {"eduPersonPrincipalName": f"20231234@{SCOPE}", "mail": "Wang.Fang@NCU.edu.cn",
            "displayName": "王芳", "eduPersonScopedAffiliation": [f"student@{SCOPE}",
                                                                 f"member@{SCOPE}"]}
    user.update(changes)
    return {name: value if isinstance(value, list) else [value]
            for name, value in user.items() if value is not None}


class SamlIdp:
    """pysaml2's IdP with the knobs a test turns; it trusts the SPs whose metadata it was given."""

    def __init__(self, key_file, cert_file):
        self.base_url = self.entity_id = None   # known once it serves
        self.key_file, self.cert_file = key_file, cert_file
        self.sp_metadata = []
        self.reset()

    def reset(self):
        """Back to a signed, unencrypted, password-only sign-in of ``a_student()``."""
        self.user = a_student()
        self.name_id_format = NAMEID_FORMAT_TRANSIENT
        self.persistent_id = "p-7f3a9c"
        self.sign_assertion = True
        self.encrypt_assertion = False
        self.authn_context = PASSWORD_CONTEXT
        self.audience = None            # None: the SP that asked
        self.destination = None         # None: the ACS in the SP's metadata
        self.lifetime_minutes = 5       # negative: the assertion has expired on arrival
        self.logged_out = []            # (NameID, SessionIndexes) of each logout request

    def trust(self, sp_metadata_xml):
        """Know the SP (its ACS and encryption key) from its metadata."""
        self.sp_metadata.append(sp_metadata_xml)

    def _server(self, requests_signed=False):
        endpoints = {"single_sign_on_service": [(self.base_url + "/sso", BINDING_HTTP_REDIRECT)],
                     "single_logout_service": [(self.base_url + "/slo", BINDING_HTTP_REDIRECT)]}
        settings = {
            "entityid": self.entity_id,
            "xmlsec_binary": XMLSEC,
            "key_file": self.key_file,
            "cert_file": self.cert_file,
            "service": {"idp": {
                "endpoints": endpoints,
                "want_authn_requests_signed": requests_signed,
                "scope": [SCOPE],
                "name_id_format": [NAMEID_FORMAT_TRANSIENT, NAMEID_FORMAT_PERSISTENT],
                "policy": {"default": {"lifetime": {"minutes": self.lifetime_minutes},
                                       "name_form": NAME_FORMAT_URI,
                                       "attribute_restrictions": None}},
            }},
            "metadata": {"inline": list(self.sp_metadata)},
        }
        config = IdPConfig()
        config.load(settings)
        return Server(config=config)

    def metadata(self):
        """This IdP's metadata XML, as a library admin would hand it to the portal."""
        return create_metadata_string(None, config=self._server().config).decode()

    def _name_id(self):
        if self.name_id_format == NAMEID_FORMAT_PERSISTENT:
            return NameID(format=NAMEID_FORMAT_PERSISTENT, text=self.persistent_id,
                          name_qualifier=self.entity_id)
        return NameID(format=NAMEID_FORMAT_TRANSIENT, text="_t" + "0123456789abcdef" * 2)

    def answer(self, saml_request, relay_state):
        """The auto-post page an IdP shows after the reader signed in: HTML with the form."""
        server = self._server()
        request = server.parse_authn_request(saml_request, BINDING_HTTP_REDIRECT)
        args = server.response_args(request.message)
        args.pop("name_id_policy", None)
        if self.audience:
            args["sp_entity_id"] = self.audience
        if self.destination:
            args["destination"] = self.destination
        response = server.create_authn_response(
            self.user, name_id=self._name_id(),
            authn={"class_ref": self.authn_context, "authn_auth": self.entity_id},
            sign_assertion=self.sign_assertion, sign_response=False,
            encrypt_assertion=self.encrypt_assertion,
            encrypt_cert_assertion=None, **args)
        info = server.apply_binding(BINDING_HTTP_POST, str(response), args["destination"],
                                    relay_state, response=True)
        return info["data"]

    def log_out(self, args):
        """Check the SP's signed LogoutRequest, note who left, and send the reader back."""
        server = self._server(requests_signed=True)   # a Shibboleth IdP wants them signed
        request = server.parse_logout_request(
            args["SAMLRequest"], BINDING_HTTP_REDIRECT, relay_state=args.get("RelayState"),
            sigalg=args.get("SigAlg"), signature=args.get("Signature"))
        message = request.message
        self.logged_out.append((message.name_id.text, [i.text for i in message.session_index]))
        _binding, destination = server.pick_binding(
            "single_logout_service", [BINDING_HTTP_REDIRECT], "spsso",
            entity_id=message.issuer.text)
        answer = server.create_logout_response(message, [BINDING_HTTP_REDIRECT])
        info = server.apply_binding(BINDING_HTTP_REDIRECT, str(answer), destination,
                                    args.get("RelayState", ""), response=True)
        return dict(info["headers"])["Location"]

    def wsgi(self, environ, start_response):
        request = Request(environ)
        if request.path == "/metadata":
            response = Response(self.metadata(), content_type="application/samlmetadata+xml")
        elif request.path == "/sso":
            page = self.answer(request.args["SAMLRequest"], request.args.get("RelayState", ""))
            response = Response(page, content_type="text/html")
        elif request.path == "/slo":
            response = Response(status=303, headers={"Location": self.log_out(request.args)})
        else:
            response = Response("not found", status=404)
        return response(environ, start_response)


@contextmanager
def saml_idp(tmp_path):
    """A SAML IdP serving on a free loopback port, with a key pair of its own."""
    key_file, cert_file = str(tmp_path / "idp.key"), str(tmp_path / "idp.crt")
    make_key_pair(key_file, cert_file, "idp.test")
    idp = SamlIdp(key_file, cert_file)
    with serving(idp.wsgi) as base_url:
        idp.base_url, idp.entity_id = base_url, base_url + "/metadata"
        yield idp


class _FormReader(HTMLParser):
    def __init__(self):
        super().__init__()
        self.action, self.fields = None, {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.action = attrs.get("action")
        elif tag == "input" and attrs.get("name"):
            self.fields[attrs["name"]] = attrs.get("value", "")


def sign_in_at_idp(redirect_url):
    """Follow the portal's redirect to the IdP as the reader: (ACS path, form fields to POST)."""
    page = requests.get(redirect_url, timeout=10)
    page.raise_for_status()
    reader = _FormReader()
    reader.feed(page.text)
    return urlsplit(reader.action).path, reader.fields


def saml_request_of(redirect_url):
    """The SAMLRequest and RelayState of a redirect to the IdP (to look at, not to follow)."""
    query = parse_qs(urlsplit(redirect_url).query)
    return query["SAMLRequest"][0], query.get("RelayState", [""])[0]
