"""OpenID Connect sign-in against a real provider on loopback (oidc-provider-mock)."""
import base64
import json
import time
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from authlib.common.security import generate_token

from jala.sealing import seal
from jala.signon import oidc
from jala.signon.identity import ProviderUnavailable, SignOnRefused
from jala.signon.models import IdentityProvider
from jala.signon.providers import SECRET_PURPOSE
from tests.support.oidc_provider import running_oidc_provider
from tests.support.silent_server import closed_port_url, silent_server

CALLBACK = "http://127.0.0.1:5000/login/sso/NCU/callback"


@pytest.fixture(scope="module")
def campus():
    with running_oidc_provider([CALLBACK]) as provider:
        yield provider


@pytest.fixture(scope="module")
def other_campus():
    with running_oidc_provider([CALLBACK]) as provider:
        yield provider


@pytest.fixture
def in_request(app):
    """A request context in English, with a one-second wait for providers."""
    timeout = app.config["SIGNON_TIMEOUT_SECONDS"]
    app.config["SIGNON_TIMEOUT_SECONDS"] = 1
    with app.test_request_context("/?lang=en"):
        yield
    app.config["SIGNON_TIMEOUT_SECONDS"] = timeout


@pytest.fixture(autouse=True)
def _no_campus_tampering(campus):
    yield
    campus.rewrite_id_token = None


def configured(provider, url=None, secret=None):
    """The portal's settings for ``provider`` (not stored: the adapter needs no rows)."""
    return IdentityProvider(kind="oidc", url=url or provider.url, client_id=provider.client_id,
                            client_secret_sealed=seal(secret or provider.client_secret,
                                                       SECRET_PURPOSE))


def student(provider, sub="20231001", **claims):
    return provider.set_user(sub, **{
        "email": "Li.Hua@NCU.edu.cn", "name": "李华", "preferred_username": sub,
        "eduperson_scoped_affiliation": ["student@ncu.edu.cn", "member@ncu.edu.cn"],
        **claims})


def callback_args(callback_url):
    assert callback_url.startswith(CALLBACK + "?")
    return dict(parse_qsl(urlsplit(callback_url).query))


def signed_in(provider, sub, flow_change=None, settings=None):
    """Begin, authorize ``sub`` at the provider, complete: the Identity (or what it raises)."""
    settings = settings or configured(provider)
    authorize_url, flow = oidc.begin(settings, CALLBACK)
    args = callback_args(provider.sign_in(authorize_url, sub))
    flow = json.loads(json.dumps(flow))   # the session keeps it as JSON
    flow.update(flow_change or {})
    return oidc.complete(settings, args, flow, CALLBACK)


def claims_of(id_token):
    payload = id_token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_begin_asks_for_a_code_with_pkce_state_and_nonce(campus, in_request):
    authorize_url, flow = oidc.begin(configured(campus), CALLBACK)

    query = dict(parse_qsl(urlsplit(authorize_url).query))
    assert authorize_url.startswith(campus.url + "/oauth2/authorize?")
    assert query["response_type"] == "code"
    assert query["scope"] == "openid email profile"
    assert query["client_id"] == campus.client_id
    assert query["redirect_uri"] == CALLBACK
    assert query["code_challenge_method"] == "S256"
    assert (query["state"], query["nonce"]) == (flow["state"], flow["nonce"])
    assert query["code_challenge"] != flow["code_verifier"]
    assert oidc.begin(configured(campus), CALLBACK)[1]["state"] != flow["state"]


def test_sign_in_returns_the_identity_the_provider_vouches_for(campus, in_request):
    student(campus, amr=["pwd", "otp"])

    identity = signed_in(campus, "20231001")

    assert identity.subject == "20231001"
    assert identity.email == "li.hua@ncu.edu.cn"
    assert identity.name == "李华"
    assert identity.username == "20231001"
    assert identity.affiliations == ("student", "member")
    assert identity.mfa is True
    id_token_claims = claims_of(identity.session_index)
    assert id_token_claims["iss"] == campus.url
    assert id_token_claims["sub"] == "20231001"


def test_a_password_alone_is_no_second_factor_and_the_account_name_stands_for_the_name(
        campus, in_request):
    campus.set_user("zhang3", email="zhang3@ncu.edu.cn", preferred_username="zhang3",
                    eduperson_affiliation="Faculty", amr=["pwd"])

    identity = signed_in(campus, "zhang3")

    assert (identity.name, identity.username) == ("zhang3", "zhang3")
    assert identity.affiliations == ("faculty",)
    assert identity.mfa is False


def test_a_provider_that_leaves_out_the_email_is_refused_saying_so(campus, in_request):
    campus.set_user("no-mail", name="王五", preferred_username="no-mail")

    with pytest.raises(SignOnRefused, match="email") as refused:
        signed_in(campus, "no-mail")
    assert refused.value.status == 400


def test_a_callback_from_another_browsers_sign_in_is_refused(campus, in_request):
    student(campus)
    settings = configured(campus)
    theirs, _ = oidc.begin(settings, CALLBACK)
    _, mine = oidc.begin(settings, CALLBACK)
    args = callback_args(campus.sign_in(theirs, "20231001"))

    with pytest.raises(SignOnRefused, match="not started in this browser") as refused:
        oidc.complete(settings, args, mine, CALLBACK)
    assert refused.value.status == 400
    with pytest.raises(SignOnRefused, match="not started in this browser"):
        oidc.complete(settings, args, None, CALLBACK)


def test_an_id_token_for_another_nonce_is_refused(campus, in_request):
    student(campus)

    with pytest.raises(SignOnRefused, match="does not check out"):
        signed_in(campus, "20231001", flow_change={"nonce": generate_token(32)})


def test_the_provider_refuses_a_code_without_the_verifier_of_its_challenge(campus, in_request):
    student(campus)

    with pytest.raises(SignOnRefused, match="expired or was used already"):
        signed_in(campus, "20231001", flow_change={"code_verifier": generate_token(64)})


def test_a_code_used_once_cannot_sign_in_again(campus, in_request):
    student(campus)
    settings = configured(campus)
    authorize_url, flow = oidc.begin(settings, CALLBACK)
    args = callback_args(campus.sign_in(authorize_url, "20231001"))
    oidc.complete(settings, args, flow, CALLBACK)

    with pytest.raises(SignOnRefused, match="expired or was used already"):
        oidc.complete(settings, args, flow, CALLBACK)


def test_a_reader_who_cancels_at_the_provider_is_told_so_kindly(campus, in_request):
    settings = configured(campus)
    authorize_url, flow = oidc.begin(settings, CALLBACK)
    args = callback_args(campus.deny(authorize_url))
    assert args["error"] == "access_denied"

    with pytest.raises(SignOnRefused, match="You cancelled the sign-in") as refused:
        oidc.complete(settings, args, flow, CALLBACK)
    assert refused.value.status == 400


def test_a_callback_without_a_code_is_refused(campus, in_request):
    settings = configured(campus)
    _, flow = oidc.begin(settings, CALLBACK)

    with pytest.raises(SignOnRefused, match="without a sign-in code"):
        oidc.complete(settings, {"state": flow["state"]}, flow, CALLBACK)


def test_a_key_the_provider_rotated_in_is_fetched_anew(in_request):
    with running_oidc_provider([CALLBACK]) as rotating:
        student(rotating)
        signed_in(rotating, "20231001")   # its key set is now in the portal's cache
        rotating.rotate_key()

        assert signed_in(rotating, "20231001").subject == "20231001"


def test_an_id_token_changed_on_the_way_is_refused(campus, in_request):
    student(campus)

    def other_email(id_token):
        header, _, signature = id_token.split(".")
        claims = {**claims_of(id_token), "email": "director@ncu.edu.cn"}
        payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
        return f"{header}.{payload}.{signature}"

    campus.rewrite_id_token = other_email
    with pytest.raises(SignOnRefused, match="does not check out"):
        signed_in(campus, "20231001")


def test_an_unsigned_id_token_is_refused(campus, in_request):
    student(campus)

    def unsigned(id_token):
        header = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
        return f"{header}.{id_token.split('.')[1]}."

    campus.rewrite_id_token = unsigned
    with pytest.raises(SignOnRefused, match="does not check out"):
        signed_in(campus, "20231001")


def test_an_id_token_another_provider_signed_is_refused(campus, other_campus, in_request):
    student(other_campus)
    genuine_elsewhere = signed_in(other_campus, "20231001").session_index
    student(campus)

    campus.rewrite_id_token = lambda id_token: genuine_elsewhere
    with pytest.raises(SignOnRefused, match="does not check out"):
        signed_in(campus, "20231001")


def test_a_client_secret_the_provider_no_longer_accepts_is_a_502(campus, in_request):
    student(campus)

    with pytest.raises(ProviderUnavailable, match="Please tell the library") as unavailable:
        signed_in(campus, "20231001", settings=configured(campus, secret="an-old-secret"))
    assert unavailable.value.status == 502


def test_a_provider_that_is_down_is_a_502(campus, in_request):
    with pytest.raises(ProviderUnavailable) as unavailable:
        oidc.begin(configured(campus, url=closed_port_url()), CALLBACK)
    assert unavailable.value.status == 502


def test_a_provider_that_goes_down_before_the_reader_comes_back_is_a_502(in_request):
    with running_oidc_provider([CALLBACK]) as short_lived:
        student(short_lived)
        settings = configured(short_lived)
        authorize_url, flow = oidc.begin(settings, CALLBACK)
        args = callback_args(short_lived.sign_in(authorize_url, "20231001"))

    with pytest.raises(ProviderUnavailable) as unavailable:
        oidc.complete(settings, args, flow, CALLBACK)
    assert unavailable.value.status == 502


def test_a_provider_that_hangs_is_a_504_within_the_timeout(campus, in_request):
    with silent_server() as url:
        started = time.monotonic()
        with pytest.raises(ProviderUnavailable) as unavailable:
            oidc.begin(configured(campus, url=url), CALLBACK)
    assert unavailable.value.status == 504
    assert time.monotonic() - started < 3


def test_logout_url_ends_the_session_at_the_provider(campus, in_request):
    student(campus)
    id_token = signed_in(campus, "20231001").session_index
    return_url = "http://127.0.0.1:5000/"

    url = oidc.logout_url(configured(campus), id_token, return_url)

    query = dict(parse_qsl(urlsplit(url).query))
    assert url.startswith(campus.url + "/oauth2/end_session?")
    assert query["id_token_hint"] == id_token
    assert query["post_logout_redirect_uri"] == return_url
    assert requests.get(url, timeout=5).status_code == 200


def test_no_logout_url_while_the_provider_is_down(campus, in_request):
    assert oidc.logout_url(configured(campus, url=closed_port_url()), "x", "http://x/") is None
