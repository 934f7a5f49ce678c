"""OpenID Connect sign-in: the authorization-code flow with PKCE, state and nonce.

``begin`` sends the reader to the library's provider; ``complete`` checks what comes back,
trades the code for tokens server to server and verifies the ID token against the provider's
published keys (the way Authlib's own OpenID client does, with joserfc). Discovery documents
and key sets are kept in this process for a few minutes only, so a rotated key is seen soon.
"""
import time

from authlib.common.security import generate_token
from authlib.common.urls import add_params_to_uri
from authlib.integrations.requests_client.oauth2_session import OAuth2ClientAuth
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from flask_babel import gettext as _
from joserfc import jwt
from joserfc.errors import BadSignatureError, InvalidKeyIdError, JoseError, MissingClaimError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from jala.signon.http import provider_request
from jala.signon.identity import (
    Identity,
    ProviderUnavailable,
    SignOnRefused,
    bare_affiliations,
    check_state,
)
from jala.signon.providers import client_secret

SCOPE = "openid email profile"
CACHE_SECONDS = 300
# clock skew we forgive between the provider and us when checking exp and iat
LEEWAY_SECONDS = 120
# RFC 8176 methods that are a second factor in themselves ("fido" is common though unregistered)
SECOND_FACTORS = {"mfa", "otp", "hwk", "sms", "fido"}
REQUIRED_ENDPOINTS = ("authorization_endpoint", "token_endpoint", "jwks_uri")
AFFILIATION_CLAIMS = ("eduperson_scoped_affiliation", "eduperson_affiliation")

_documents = {}   # URL → (monotonic time fetched, JSON): discovery documents and key sets


def begin(provider, callback_url):
    """The provider's authorization URL for a new sign-in, and the flow to keep in the session."""
    flow = {"state": generate_token(32), "nonce": generate_token(32),
            "code_verifier": generate_token(64)}
    authorize_url = add_params_to_uri(_discovery(provider)["authorization_endpoint"], {
        "response_type": "code",
        "client_id": provider.client_id,
        "redirect_uri": callback_url,
        "scope": SCOPE,
        "state": flow["state"],
        "nonce": flow["nonce"],
        "code_challenge": create_s256_code_challenge(flow["code_verifier"]),
        "code_challenge_method": "S256",
    })
    return authorize_url, flow


def complete(provider, args, flow, callback_url):
    """The Identity the provider vouches for in this callback, or SignOnRefused."""
    code = _checked_code(args, flow)
    discovery = _discovery(provider)
    tokens = _exchange_code(provider, discovery, code, flow["code_verifier"], callback_url)
    claims = _verified_claims(provider, discovery, tokens, flow["nonce"])
    if not (claims.get("email") and claims.get("name")) and discovery.get("userinfo_endpoint"):
        claims = _with_userinfo(claims, discovery, tokens["access_token"])
    return _identity(claims, tokens["id_token"])


def logout_url(provider, id_token, return_url):
    """The provider's single-logout URL, or None when it has none or cannot be reached now."""
    try:
        endpoint = _discovery(provider).get("end_session_endpoint")
    except ProviderUnavailable:
        return None
    if not endpoint:
        return None
    params = {"client_id": provider.client_id, "post_logout_redirect_uri": return_url}
    if id_token:
        params["id_token_hint"] = id_token
    return add_params_to_uri(endpoint, params)


def _checked_code(args, flow):
    error = args.get("error")
    if error == "access_denied":
        raise SignOnRefused(_("You cancelled the sign-in at your library. Nothing has changed; "
                              "you can sign in again whenever you like."))
    if error:
        raise SignOnRefused(_("The sign-in service of the library did not sign you in (it "
                              "said %(error)s). Please try again.", error=error))
    check_state(args.get("state"), (flow or {}).get("state"))
    if not args.get("code"):
        raise SignOnRefused(_("The sign-in service of the library came back without a "
                              "sign-in code. Please start the sign-in again."))
    return args["code"]


def _discovery(provider):
    document = _document(provider.url + "/.well-known/openid-configuration")
    if not _describes(document, provider.url):
        raise _unreadable()
    return document


def _describes(document, issuer_url):
    """Whether a discovery document is this issuer's own and names the endpoints we need."""
    issuer = document.get("issuer")
    return (isinstance(issuer, str) and issuer.rstrip("/") == issuer_url.rstrip("/")
            and all(document.get(name) for name in REQUIRED_ENDPOINTS))


def _document(url, fresh=False):
    fetched_at, document = _documents.get(url, (None, None))
    if fresh or fetched_at is None or time.monotonic() - fetched_at > CACHE_SECONDS:
        document = _json(provider_request("GET", url, headers={"Accept": "application/json"}))
        _documents[url] = (time.monotonic(), document)
    return document


def _json(response):
    try:
        document = response.json() if response.status_code == 200 else None
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise _unreadable()
    return document


def _unreadable():
    return ProviderUnavailable(_("The sign-in service of the library answered something the "
                                 "portal cannot read. Please try again later."))


def _exchange_code(provider, discovery, code, code_verifier, callback_url):
    methods = discovery.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    method = "client_secret_basic" if "client_secret_basic" in methods else "client_secret_post"
    response = provider_request(
        "POST", discovery["token_endpoint"], headers={"Accept": "application/json"},
        auth=OAuth2ClientAuth(provider.client_id, client_secret(provider), method),
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": callback_url,
              "code_verifier": code_verifier})
    if response.status_code != 200:
        raise _token_refusal(response)
    tokens = _json(response)
    if not isinstance(tokens.get("id_token"), str) or not tokens.get("access_token"):
        raise _unreadable()
    return tokens


def _token_refusal(response):
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        error = None
    if error == "invalid_grant":
        return SignOnRefused(_("This sign-in has expired or was used already. Please start the "
                               "sign-in again."))
    # the portal's client id or secret no longer fits: only the library can mend that
    return ProviderUnavailable(_("The sign-in service of the library would not finish the "
                                 "sign-in (it said %(error)s). Please tell the library.",
                                 error=error or response.status_code))


def _verified_claims(provider, discovery, tokens, nonce):
    try:
        token = _signed_by_provider(tokens["id_token"], discovery)
        claims = CodeIDToken(
            token.claims, token.header,
            {"iss": {"essential": True, "value": discovery["issuer"]},
             "aud": {"essential": True, "value": provider.client_id},
             "nonce": {"essential": True, "value": nonce}},
            {"nonce": nonce, "client_id": provider.client_id,
             "access_token": tokens["access_token"]})
        claims.validate(leeway=LEEWAY_SECONDS)
    except MissingClaimError as exc:
        raise _missing(exc.claim) from exc
    except JoseError as exc:
        raise _untrusted() from exc
    except (KeyError, TypeError, ValueError) as exc:
        # a key set or token answer not shaped as the standard says
        raise _unreadable() from exc
    return dict(claims)


def _signed_by_provider(id_token, discovery):
    try:
        return _decoded(id_token, discovery)
    except (InvalidKeyIdError, BadSignatureError):
        # perhaps signed with a key newer than our copy of the set (not every provider names
        # its key in the token): once more with the set as published now
        return _decoded(id_token, discovery, fresh_keys=True)


def _decoded(id_token, discovery, fresh_keys=False):
    keys = KeySet.import_key_set(_document(discovery["jwks_uri"], fresh=fresh_keys))
    algorithms = [alg for alg in discovery.get("id_token_signing_alg_values_supported", ["RS256"])
                  if alg != "none"]
    return jwt.decode(id_token, keys,
                      registry=JWSRegistry(algorithms=algorithms, strict_check_header=False))


def _untrusted():
    return SignOnRefused(_("The answer that came back from the library's sign-in service does "
                           "not check out, so nobody was signed in. Please start the sign-in "
                           "again."))


def _missing(claim):
    return SignOnRefused(_("The sign-in service of the library left out “%(claim)s”, which the "
                           "portal needs to sign you in. Please tell the library.", claim=claim))


def _with_userinfo(claims, discovery, access_token):
    info = _json(provider_request("GET", discovery["userinfo_endpoint"],
                                  headers={"Authorization": f"Bearer {access_token}",
                                           "Accept": "application/json"}))
    if info.get("sub") != claims["sub"]:
        raise _untrusted()
    return {**info, **claims}


def _identity(claims, id_token):
    email = claims.get("email")
    if not email or not isinstance(email, str):
        raise _missing("email")
    return Identity(
        subject=str(claims["sub"]),
        email=email.strip().lower(),
        name=_text(claims.get("name")) or _text(claims.get("preferred_username")),
        username=_text(claims.get("preferred_username")),
        affiliations=_affiliations(claims),
        mfa=bool(SECOND_FACTORS.intersection(claims.get("amr") or ())),
        session_index=id_token,
    )


def _text(value):
    return value if isinstance(value, str) else None


def _affiliations(claims):
    values = []
    for name in AFFILIATION_CLAIMS:
        value = claims.get(name) or []
        values.extend([value] if isinstance(value, str) else
                      [v for v in value if isinstance(v, str)] if isinstance(value, list) else [])
    return bare_affiliations(values)
