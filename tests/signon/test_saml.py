"""SAML 2.0 sign-in against a real pysaml2 IdP on loopback (signing with xmlsec1)."""
import base64
import os
import shutil
import stat
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from markupsafe import escape
from saml2.saml import NAMEID_FORMAT_PERSISTENT
from sqlalchemy import func, select

from jala.accounts.models import User
from jala.errors import RuleViolation
from jala.extensions import db
from jala.signon import saml
from jala.signon.identity import ProviderUnavailable, SignOnRefused
from jala.signon.models import CampusIdentity, UsedAssertion
from jala.signon.providers import set_provider
from tests.support.factories import library_id
from tests.support.saml_idp import MFA_CONTEXT, a_student, saml_idp, sign_in_at_idp
from tests.support.silent_server import closed_port_url, silent_server
from tests.support.web import post_form

pytestmark = pytest.mark.skipif(shutil.which("xmlsec1") is None, reason="xmlsec1 is missing")


@pytest.fixture
def language():
    """The refusals are read in English here."""
    return "en"


@pytest.fixture(scope="module")
def idp(tmp_path_factory):
    with saml_idp(tmp_path_factory.mktemp("idp")) as idp:
        yield idp


@pytest.fixture
def provider(ctx, idp):
    """NCU signs in through the test IdP, which knows the portal's SP."""
    idp.reset()
    idp.sp_metadata = [saml.sp_metadata()]
    return set_provider(None, "NCU", "saml", saml_metadata=idp.metadata())


def answer_of_idp(provider):
    """Start a sign-in and let the IdP answer: (form it posts to the ACS, flow)."""
    url, flow = saml.begin(provider)
    _acs_path, form = sign_in_at_idp(url)
    return form, flow


def sign_in(provider):
    form, flow = answer_of_idp(provider)
    return saml.read_response(provider, form, flow)


def refused(provider, form, flow):
    with pytest.raises(SignOnRefused) as caught:
        saml.read_response(provider, form, flow)
    assert 400 <= caught.value.status < 500
    return caught.value


def test_begin_redirects_to_the_idp_which_posts_back_to_the_absolute_acs(provider, idp):
    url, flow = saml.begin(provider)
    assert url.startswith(idp.base_url + "/sso?SAMLRequest=")
    assert flow["library"] == "NCU" and flow["request_id"] and len(flow["relay_state"]) >= 32
    acs_path, form = sign_in_at_idp(url)
    assert acs_path == "/saml/acs" and form["RelayState"] == flow["relay_state"]
    assert saml.acs_url() == "http://127.0.0.1:5000/saml/acs"


def test_signed_response_gives_the_eppn_as_subject_with_attributes(provider):
    identity = sign_in(provider)
    assert identity.subject == "20231234@ncu.edu.cn"
    assert identity.username == "20231234"
    assert identity.email == "wang.fang@ncu.edu.cn"
    assert identity.name == "王芳"
    assert set(identity.affiliations) == {"member", "student"}
    assert identity.mfa is False
    assert identity.session_index


def test_encrypted_assertion_is_decrypted_with_the_portal_key(provider, idp):
    idp.encrypt_assertion = True
    form, flow = answer_of_idp(provider)
    assert b"EncryptedAssertion" in base64.b64decode(form["SAMLResponse"])
    assert saml.read_response(provider, form, flow).subject == "20231234@ncu.edu.cn"


def test_persistent_name_id_is_the_subject(provider, idp):
    idp.name_id_format = NAMEID_FORMAT_PERSISTENT
    assert sign_in(provider).subject == "p-7f3a9c"


def test_mfa_authn_context_is_reported(provider, idp):
    idp.authn_context = MFA_CONTEXT
    assert sign_in(provider).mfa is True


def test_unsigned_assertion_is_refused(provider, idp):
    idp.sign_assertion = False
    refused(provider, *answer_of_idp(provider))


def test_unsigned_encrypted_assertion_is_refused(provider, idp):
    idp.sign_assertion, idp.encrypt_assertion = False, True
    refused(provider, *answer_of_idp(provider))


def test_tampered_attribute_is_refused(provider):
    form, flow = answer_of_idp(provider)
    xml = base64.b64decode(form["SAMLResponse"])
    assert b"student@ncu.edu.cn" in xml
    form["SAMLResponse"] = base64.b64encode(
        xml.replace(b"student@ncu.edu.cn", b"faculty@ncu.edu.cn")).decode()
    refused(provider, form, flow)


def test_assertion_for_another_audience_is_refused(provider, idp):
    idp.audience = "https://elsewhere.example.edu.cn/shibboleth"
    refused(provider, *answer_of_idp(provider))


def test_response_addressed_to_another_acs_is_refused(provider, idp):
    idp.destination = "https://elsewhere.example.edu.cn/saml/acs"
    refused(provider, *answer_of_idp(provider))


def test_expired_assertion_is_refused(provider, idp):
    idp.lifetime_minutes = -10
    refused(provider, *answer_of_idp(provider))


def test_replayed_response_is_refused(provider, db_session):
    form, flow = answer_of_idp(provider)
    saml.read_response(provider, form, flow)
    assert db_session.execute(select(UsedAssertion)).scalars().all()
    error = refused(provider, form, flow)
    assert "used already" in error.message


def test_response_to_another_request_is_refused(provider):
    form, _flow = answer_of_idp(provider)
    _form, other_flow = answer_of_idp(provider)
    refused(provider, form, dict(other_flow, relay_state=form["RelayState"]))


def test_relay_state_of_another_sign_in_is_refused(provider):
    form, flow = answer_of_idp(provider)
    refused(provider, form, dict(flow, relay_state="another"))


def test_transient_name_id_without_eppn_is_refused_saying_what_is_missing(provider, idp):
    idp.user = a_student(eduPersonPrincipalName=None, mail=None)
    error = refused(provider, *answer_of_idp(provider))
    assert "eduPersonPrincipalName" in error.message


def test_scoped_values_outside_the_idps_scope_are_not_believed(provider, idp):
    idp.user = a_student(eduPersonPrincipalName="boss@other.edu.cn",
                         eduPersonScopedAffiliation=["faculty@other.edu.cn", "student@ncu.edu.cn"])
    refused(provider, *answer_of_idp(provider))
    idp.name_id_format = NAMEID_FORMAT_PERSISTENT
    identity = sign_in(provider)
    assert (identity.subject, identity.username, identity.affiliations) == (
        "p-7f3a9c", None, ("student",))


def test_single_logout_sends_a_signed_request_the_idp_accepts(provider, idp):
    identity = sign_in(provider)

    url = saml.logout_url(provider, identity.session_index, "http://127.0.0.1:5000/")

    assert url.startswith(idp.base_url + "/slo?") and "Signature=" in url
    answer = requests.get(url, allow_redirects=False, timeout=10)
    assert answer.status_code == 303
    back = urlsplit(answer.headers["Location"])
    assert back.path == "/saml/logout"
    assert saml.finish_logout(dict(parse_qsl(back.query))) == "/"
    [(name_id, session_indexes)] = idp.logged_out
    assert name_id.startswith("_t") and len(session_indexes) == 1


def test_metadata_without_an_idp_is_refused(ctx):
    with pytest.raises(RuleViolation):
        saml.idp_entity_id(saml.sp_metadata())
    with pytest.raises(RuleViolation):
        saml.idp_entity_id("<html>not metadata</html>")


def test_the_sp_key_is_made_once_in_the_instance_folder_and_kept_private(app, ctx):
    key_file, cert_file = saml.sp_key_pair()
    assert Path(key_file).parent == Path(app.instance_path)
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert saml.sp_key_pair() == (key_file, cert_file)
    assert saml.sp_metadata() == saml.sp_metadata()


def test_without_xmlsec1_saml_is_a_503_said_in_words(ctx, provider, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(RuleViolation) as caught:
        saml.begin(provider)
    assert caught.value.status == 503 and "xmlsec1" in caught.value.message


def test_sp_metadata_asks_for_carsi_attributes_at_an_absolute_acs(ctx):
    xml = saml.sp_metadata()
    assert 'Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" ' \
           'Location="http://127.0.0.1:5000/saml/acs"' in xml
    assert 'WantAssertionsSigned="true"' in xml and "JALA Portal" in xml
    for oid in (saml.EPPN, saml.SCOPED_AFFILIATION, saml.MAIL, saml.DISPLAY_NAME):
        assert oid in xml
    assert 'use="encryption"' in xml and 'use="signing"' in xml


# --- fetching an IdP's metadata ----------------------------------------------------------------

def test_metadata_is_fetched_from_the_idp_url_or_read_from_a_file(ctx, idp, tmp_path):
    by_url = saml.fetch_metadata(idp.base_url + "/metadata")
    assert saml.idp_entity_id(by_url) == idp.entity_id
    path = tmp_path / "idp.xml"
    path.write_text(by_url, encoding="utf-8")
    assert saml.idp_entity_id(saml.fetch_metadata(str(path))) == idp.entity_id


def test_metadata_url_that_is_down_is_a_502_and_one_that_hangs_a_504(app, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "SIGNON_TIMEOUT_SECONDS", 1)
    with pytest.raises(ProviderUnavailable) as down:
        saml.fetch_metadata(closed_port_url() + "/metadata")
    assert down.value.status == 502
    with silent_server() as url:
        started = time.monotonic()
        with pytest.raises(ProviderUnavailable) as hangs:
            saml.fetch_metadata(url + "/metadata")
    assert hangs.value.status == 504 and time.monotonic() - started < 3


# --- end to end through the portal ------------------------------------------------------------

@pytest.fixture
def portal(client, idp):
    """A reader's browser at the portal, NCU signing in through the test IdP."""
    idp.reset()
    idp.sp_metadata = [saml.sp_metadata()]
    set_provider(None, "NCU", "saml", saml_metadata=idp.metadata())
    post_form(client, "/language", {"lang": "en"})
    return client


def path_of(url):
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def start_at_portal(client):
    """The reader picks NCU's campus sign-on; the IdP URL the portal sends them to."""
    response = client.get("/login/sso/NCU?next=/account")
    assert response.status_code == 303
    return response.headers["Location"]


def post_to_acs(client, acs_path, form):
    """The IdP's page posts the form to the ACS; the browser follows to the finish page."""
    response = client.post(acs_path, data=form)
    if response.status_code != 303:
        return response
    return client.get(path_of(response.headers["Location"]))


def come_back(client):
    """Sign in at the IdP as whoever it is set to release; the portal's last answer."""
    return post_to_acs(client, *sign_in_at_idp(start_at_portal(client)))


def accounts_with(email):
    return db.session.execute(
        select(User).where(func.lower(User.email) == email)).scalars().all()


def saml_identities():
    return db.session.execute(select(func.count()).select_from(CampusIdentity)
                              .where(CampusIdentity.kind == "saml")).scalar_one()


def assert_refused_with_nothing_made(client, response, email="wang.fang@ncu.edu.cn"):
    assert 400 <= response.status_code < 500
    assert client.get("/account").status_code == 302  # nobody signed in
    assert accounts_with(email) == []
    assert saml_identities() == 0


def test_the_portal_serves_its_sp_metadata(portal):
    response = portal.get("/saml/metadata")
    assert response.status_code == 200 and "samlmetadata+xml" in response.content_type
    assert saml.entity_id() in response.get_data(as_text=True)


def test_a_first_saml_sign_in_makes_a_verified_reader_of_the_library(portal, idp):
    idp.encrypt_assertion = True  # as CARSI's Shibboleth IdPs send it

    response = come_back(portal)

    assert response.status_code == 303 and response.headers["Location"].endswith("/account")
    assert portal.get("/account").status_code == 200
    [reader] = accounts_with("wang.fang@ncu.edu.cn")
    assert reader.home_library_id == library_id("NCU") and reader.verified_at is not None
    assert (reader.display_name, reader.reader_type) == ("王芳", "student")
    tie = db.session.execute(select(CampusIdentity).where(
        CampusIdentity.user_id == reader.id)).scalar_one()
    assert (tie.library_id, tie.subject, tie.kind) == (
        library_id("NCU"), "20231234@ncu.edu.cn", "saml")


def test_a_later_saml_sign_in_lands_in_the_same_account_even_with_a_new_email(portal, idp):
    come_back(portal)
    [first] = accounts_with("wang.fang@ncu.edu.cn")
    post_form(portal, "/logout", {})
    idp.user = a_student(mail="fang.wang@ncu.edu.cn")

    response = come_back(portal)

    assert response.status_code == 303
    assert accounts_with("fang.wang@ncu.edu.cn") == [first]
    assert portal.get("/account").status_code == 200


def test_logging_out_offers_the_idps_single_logout(portal, idp):
    come_back(portal)

    page = portal.get(post_form(portal, "/logout", {}).headers["Location"])

    assert page.status_code == 200
    assert escape(idp.base_url + "/slo?SAMLRequest=") in page.get_data(as_text=True)


def test_the_idps_logout_answer_comes_back_to_the_portal(portal, idp):
    come_back(portal)
    offer = portal.get(post_form(portal, "/logout", {}).headers["Location"])
    page = offer.get_data(as_text=True)
    link = page[page.index(idp.base_url + "/slo?"):].split('"')[0].replace("&amp;", "&")

    answer = requests.get(link, allow_redirects=False, timeout=10)
    back = portal.get(path_of(answer.headers["Location"]))

    assert back.status_code == 303 and urlsplit(back.headers["Location"]).path == "/"
    assert len(idp.logged_out) == 1


def test_one_idp_serves_one_library(ctx, idp):
    idp.reset()
    set_provider(None, "NCU", "saml", saml_metadata=idp.metadata())
    with pytest.raises(RuleViolation) as refused:
        set_provider(None, "JXUFE", "saml", saml_metadata=idp.metadata())
    assert refused.value.status == 409
    set_provider(None, "NCU", "saml", saml_metadata=idp.metadata())  # the same library again


def test_the_cli_takes_metadata_from_a_file_or_an_address_and_refreshes_it(private_app, idp,
                                                                          tmp_path):
    from jala.signon.cli import idp_add, idp_list, idp_refresh

    idp.reset()
    path = tmp_path / "idp.xml"
    path.write_text(requests.get(idp.base_url + "/metadata", timeout=10).text, encoding="utf-8")
    runner = private_app.test_cli_runner()
    by_file = runner.invoke(idp_add, ["NCU", "--saml", str(path)])
    assert by_file.exit_code == 0, by_file.output
    by_url = runner.invoke(idp_add, ["JXUFE", "--saml", idp.base_url + "/metadata"])
    assert by_url.exit_code != 0 and "Traceback" not in by_url.output  # the same IdP: refused
    assert runner.invoke(idp_add, ["JXUFE", "--saml", str(tmp_path / "none.xml")]).exit_code
    moved = runner.invoke(idp_add, ["NCU", "--saml", idp.base_url + "/metadata"])
    assert moved.exit_code == 0, moved.output
    assert f"NCU      saml  {idp.entity_id}" in runner.invoke(idp_list, []).output
    refreshed = runner.invoke(idp_refresh, [])
    assert refreshed.exit_code == 0 and refreshed.output.startswith("NCU ")


@pytest.mark.parametrize("knob", [
    {"sign_assertion": False},
    {"sign_assertion": False, "encrypt_assertion": True},
    {"audience": "https://elsewhere.example.edu.cn/shibboleth"},
    {"destination": "https://elsewhere.example.edu.cn/saml/acs"},
    {"lifetime_minutes": -10},
])
def test_an_answer_the_portal_cannot_trust_signs_nobody_in(portal, idp, knob):
    for name, value in knob.items():
        setattr(idp, name, value)
    acs_path, form = sign_in_at_idp(start_at_portal(portal))

    response = post_to_acs(portal, "/saml/acs", form)

    assert_refused_with_nothing_made(portal, response)
    assert response.status_code == 403


def test_a_tampered_answer_signs_nobody_in(portal):
    acs_path, form = sign_in_at_idp(start_at_portal(portal))
    xml = base64.b64decode(form["SAMLResponse"])
    form["SAMLResponse"] = base64.b64encode(
        xml.replace(b"student@ncu.edu.cn", b"faculty@ncu.edu.cn")).decode()

    assert_refused_with_nothing_made(portal, post_to_acs(portal, acs_path, form))


def test_an_idp_that_does_not_release_the_eppn_signs_nobody_in_and_says_why(portal, idp):
    idp.user = a_student(eduPersonPrincipalName=None)

    response = come_back(portal)

    assert_refused_with_nothing_made(portal, response)
    assert "eduPersonPrincipalName" in response.get_data(as_text=True)


def test_a_replayed_answer_signs_nobody_in(portal):
    acs_path, form = sign_in_at_idp(start_at_portal(portal))
    assert post_to_acs(portal, acs_path, form).status_code == 303
    post_form(portal, "/logout", {})
    accounts = db.session.execute(select(func.count()).select_from(User)).scalar_one()

    response = post_to_acs(portal, acs_path, form)

    assert response.status_code == 400
    assert portal.get("/account").status_code == 302
    assert db.session.execute(select(func.count()).select_from(User)).scalar_one() == accounts


def test_an_answer_brought_to_another_browser_signs_nobody_in(portal):
    acs_path, form = sign_in_at_idp(start_at_portal(portal))
    other_browser = portal.application.test_client()

    response = post_to_acs(other_browser, acs_path, form)

    assert_refused_with_nothing_made(other_browser, response)


def test_an_answer_without_a_known_relay_state_signs_nobody_in(portal):
    acs_path, form = sign_in_at_idp(start_at_portal(portal))

    for relay_state in ("", "made-up"):
        response = post_to_acs(portal, acs_path, dict(form, RelayState=relay_state))
        assert_refused_with_nothing_made(portal, response)


def test_the_same_answer_posted_twice_at_once_is_accepted_once(private_app, idp):
    """Two connections check one assertion at the same moment: the database lets one through."""
    from jala.membership import get_library
    from jala.signon.providers import provider_of
    from tests.support.races import committed, race

    def configure():
        idp.reset()
        idp.sp_metadata = [saml.sp_metadata()]
        set_provider(None, "NCU", "saml", saml_metadata=idp.metadata())
        url, flow = saml.begin(provider_of(get_library("NCU")))
        return url, flow

    url, flow = committed(private_app, configure)
    _acs_path, form = sign_in_at_idp(url)

    def accept():
        return saml.read_response(provider_of(get_library("NCU")), form, flow).subject

    outcomes = race(private_app, accept, accept)

    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["SignOnRefused", "str"]


def test_the_acs_never_touches_the_browsers_session_cookie(portal, idp):
    """The IdP's POST is cross-site and brings no session cookie: a Set-Cookie in the answer
    would replace the reader's session (log them out), so none is sent, refused or not."""
    acs_path, form = sign_in_at_idp(start_at_portal(portal))
    good = portal.post(acs_path, data=form)
    refused = portal.post("/saml/acs", data={"SAMLResponse": "x", "RelayState": "made-up"})

    assert good.status_code == refused.status_code == 303
    assert "Set-Cookie" not in good.headers and "Set-Cookie" not in refused.headers
    assert portal.get(path_of(refused.headers["Location"])).status_code == 400


def test_an_idp_that_says_nothing_of_affiliation_signs_nobody_in(portal, idp):
    user = a_student()
    for name in ("eduPersonScopedAffiliation", "eduPersonAffiliation"):
        user.pop(name, None)
    idp.user = user

    response = come_back(portal)

    assert response.status_code == 422
    assert "eduPersonScopedAffiliation" in response.get_data(as_text=True)
    assert_refused_with_nothing_made(portal, response)
