"""A real OpenID provider for the tests: oidc-provider-mock (Authlib's authorization server) on a
loopback port, in a thread.

``running_oidc_provider(redirect_uris)`` starts one and yields an ``OidcProvider``: the portal's
client is registered with a secret the token endpoint checks, every authorization must carry an
S256 PKCE challenge and a nonce, ``set_user`` says which claims a subject's ID token carries,
``sign_in`` / ``deny`` play the reader at its authorization form, and ``rewrite_id_token`` lets a
test make the token endpoint hand out something else than what it signed.
"""
import threading
from contextlib import contextmanager

import flask
import oidc_provider_mock
import requests
from authlib.jose import RSAKey
from authlib.oauth2.rfc6749 import InvalidRequestError
from authlib.oauth2.rfc7636 import CodeChallenge
from oidc_provider_mock._app import AuthorizationCodeGrant
from werkzeug.serving import make_server

from jala.embedded.redis_server import free_port


class OidcProvider:
    """The running provider: its issuer URL, the portal's client, and a reader at its form."""

    def __init__(self, url, storage):
        self.url = url
        self.client_id = self.client_secret = None
        self.rewrite_id_token = None   # id_token → what the token endpoint answers instead
        self._storage = storage

    def rotate_key(self):
        """Sign from now on with a new key (its JWKS publishes only the new one)."""
        self._storage.jwk = RSAKey.generate_key(is_private=True)

    def register_client(self, redirect_uris):
        """Register the portal as a confidential client (client_secret_basic)."""
        answer = requests.post(self.url + "/oauth2/clients", timeout=10,
                               json={"redirect_uris": list(redirect_uris)})
        answer.raise_for_status()
        self.client_id, self.client_secret = (answer.json()["client_id"],
                                              answer.json()["client_secret"])

    def set_user(self, sub, **claims):
        """The claims the ID token and userinfo carry for ``sub`` (lists allowed, e.g. amr)."""
        requests.put(f"{self.url}/users/{sub}", json=claims, timeout=10).raise_for_status()
        return sub

    def sign_in(self, authorize_url, sub):
        """Open ``authorize_url`` as the reader and authorize as ``sub``: the callback URL."""
        return self._answer(authorize_url, {"sub": sub})

    def deny(self, authorize_url):
        """Open ``authorize_url`` as the reader and press Deny: the callback URL (error=)."""
        return self._answer(authorize_url, {"action": "deny"})

    def _answer(self, authorize_url, form):
        page = requests.get(authorize_url, timeout=10)
        if page.status_code != 200:
            raise AssertionError(f"the provider refused the request: {page.status_code} "
                                 f"{page.text[:500]}")
        answer = requests.post(authorize_url, data=form, allow_redirects=False, timeout=10)
        if answer.status_code != 302:
            raise AssertionError(f"the provider did not redirect: {answer.status_code}")
        return answer.headers["Location"]


@contextmanager
def running_oidc_provider(redirect_uris):
    """Start a provider whose registered client may come back to ``redirect_uris``."""
    app = oidc_provider_mock.app(require_client_registration=True, require_nonce=True)
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    server_of_grants, storage = _insides(app)
    provider = OidcProvider(f"http://127.0.0.1:{server.server_port}", storage)
    _insist_on_pkce(server_of_grants)
    _let_tamper(app, provider)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        provider.register_client(redirect_uris)
        yield provider
    finally:
        server.shutdown()
        server.server_close()


class _PkceCodeGrant(AuthorizationCodeGrant):
    """The mock's grant, keeping each code's PKCE challenge (its own storage has no room)."""

    challenges = None   # code → (code_challenge, code_challenge_method), one dict per server

    def save_authorization_code(self, code, request):
        super().save_authorization_code(code, request)
        self.challenges[code] = (request.payload.data.get("code_challenge"),
                                 request.payload.data.get("code_challenge_method"))


class _RequiredS256Challenge(CodeChallenge):
    """PKCE as a strict provider has it: S256 on every authorization, checked at the token."""

    def __init__(self, challenges):
        super().__init__(required=True)
        self.challenges = challenges

    def validate_code_challenge(self, grant, redirect_uri):
        if grant.request.payload.data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("PKCE with code_challenge_method=S256 is required")
        super().validate_code_challenge(grant, redirect_uri)

    def get_authorization_code_challenge(self, authorization_code):
        return self.challenges.get(authorization_code.code, (None, None))[0]

    def get_authorization_code_challenge_method(self, authorization_code):
        return self.challenges.get(authorization_code.code, (None, None))[1]


def _insides(app):
    """The mock's Authlib authorization server and its storage (it hands them out per request)."""
    with app.test_request_context():
        app.preprocess_request()
        return flask.g._authlib_authorization_server, flask.g.oidc_provider_mock_storage


def _insist_on_pkce(server):
    # oidc-provider-mock 0.3 registers its code grant without Authlib's PKCE extension and
    # offers no option for it; swap in the same grant with the extension on its server.
    challenges = {}
    grant = type("PkceCodeGrant", (_PkceCodeGrant,), {"challenges": challenges})
    for registry in (server._authorization_grants, server._token_grants):
        for index, (grant_cls, extensions) in enumerate(registry):
            if grant_cls is AuthorizationCodeGrant:
                registry[index] = (grant, [*extensions, _RequiredS256Challenge(challenges)])


def _let_tamper(app, provider):
    @app.after_request
    def rewrite_token_answer(response):
        if (provider.rewrite_id_token and flask.request.path == "/oauth2/token"
                and response.status_code == 200):
            tokens = response.get_json()
            tokens["id_token"] = provider.rewrite_id_token(tokens["id_token"])
            response.set_data(flask.json.dumps(tokens))
        return response
