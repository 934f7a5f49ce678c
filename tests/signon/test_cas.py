"""CAS 3.0 sign-in against a real django-cas-server on loopback (tests/support/cas_server.py)."""
import time
from contextlib import contextmanager
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from jala.accounts.models import User
from jala.extensions import db
from jala.signon import cas
from jala.signon.identity import Identity, ProviderUnavailable, SignOnRefused
from jala.signon.models import CampusIdentity, IdentityProvider
from jala.signon.providers import set_provider
from tests.support.browser import serving
from tests.support.factories import library_id
from tests.support.silent_server import closed_port_url, silent_server
from tests.support.web import post_form

CALLBACK = "http://127.0.0.1:5000/login/sso/NCU/callback"


@pytest.fixture
def language():
    """The adapter's refusals are read in English here."""
    return "en"


def provider_at(url):
    return IdentityProvider(kind="cas", url=url)


def callback_args(callback_url):
    """What the portal's callback route reads from the URL the CAS sent the reader to."""
    assert callback_url.startswith(CALLBACK + "?")
    return dict(parse_qsl(urlsplit(callback_url).query))


def signed_in_callback(server, username, provider=None):
    """Begin a sign-in, let ``username`` sign in at the CAS; the callback args and the flow."""
    login_url, flow = cas.begin(provider or provider_at(server.url), CALLBACK)
    return callback_args(server.sign_in(login_url, username)), flow


def test_a_reader_signed_in_at_the_cas_comes_back_with_their_identity(ctx, cas_server):
    cas_server.add_user("2021001", mail="Li.Ming@NCU.edu.cn", cn="李明",
                        eduPersonScopedAffiliation=["student@ncu.edu.cn", "member@ncu.edu.cn"])
    args, flow = signed_in_callback(cas_server, "2021001")

    identity = cas.complete(provider_at(cas_server.url), args, flow, CALLBACK)

    assert identity == Identity(subject="2021001", email="li.ming@ncu.edu.cn", name="李明",
                                username="2021001", affiliations=("student", "member"))


def test_the_name_email_and_affiliation_are_also_read_under_their_other_names(ctx, cas_server):
    cas_server.add_user("t0042", email="wang@ncu.edu.cn", displayName="王老师",
                        eduPersonAffiliation=["Faculty", "member"],
                        eduPersonScopedAffiliation="faculty@ncu.edu.cn")
    args, flow = signed_in_callback(cas_server, "t0042")

    identity = cas.complete(provider_at(cas_server.url), args, flow, CALLBACK)

    assert (identity.email, identity.name) == ("wang@ncu.edu.cn", "王老师")
    assert identity.affiliations == ("faculty", "member")


def test_a_second_factor_is_taken_only_when_the_cas_names_one(ctx, cas_server):
    cas_server.add_user("admin01", mail="admin01@ncu.edu.cn", authnContextClass="mfa-duo")
    cas_server.add_user("plain01", mail="plain01@ncu.edu.cn")
    provider = provider_at(cas_server.url)

    with_mfa = cas.complete(provider, *signed_in_callback(cas_server, "admin01"), CALLBACK)
    without = cas.complete(provider, *signed_in_callback(cas_server, "plain01"), CALLBACK)

    assert (with_mfa.mfa, without.mfa) == (True, False)


def test_each_sign_in_sends_the_callback_with_a_state_of_its_own(ctx):
    provider = provider_at("https://cas.ncu.edu.cn/cas")

    first_url, first = cas.begin(provider, CALLBACK)
    second_url, second = cas.begin(provider, CALLBACK)

    assert first["state"] != second["state"]
    assert first["service"] == CALLBACK + "?state=" + first["state"]
    assert first_url == ("https://cas.ncu.edu.cn/cas/login?service="
                         + quote(first["service"], safe=""))


def test_the_logout_url_sends_the_reader_back_to_the_portal(ctx):
    provider = provider_at("https://cas.ncu.edu.cn/cas")

    assert cas.logout_url(provider, None, "http://127.0.0.1:5000/") == (
        "https://cas.ncu.edu.cn/cas/logout?service=http%3A%2F%2F127.0.0.1%3A5000%2F")


def test_a_ticket_brought_back_to_another_browser_is_refused(ctx, cas_server):
    cas_server.add_user("2021002", mail="s2@ncu.edu.cn")
    provider = provider_at(cas_server.url)
    _, this_browsers_flow = cas.begin(provider, CALLBACK)
    args, _ = signed_in_callback(cas_server, "2021002")

    with pytest.raises(SignOnRefused) as refused:
        cas.complete(provider, args, this_browsers_flow, CALLBACK)

    assert refused.value.status == 400
    assert "not started in this browser" in refused.value.message


@pytest.mark.parametrize("drop", ["state", "ticket"])
def test_a_callback_without_its_state_or_ticket_is_refused(ctx, cas_server, drop):
    cas_server.add_user("2021003", mail="s3@ncu.edu.cn")
    args, flow = signed_in_callback(cas_server, "2021003")
    del args[drop]

    with pytest.raises(SignOnRefused) as refused:
        cas.complete(provider_at(cas_server.url), args, flow, CALLBACK)

    assert refused.value.status == 400


def test_a_ticket_used_twice_is_refused_the_second_time(ctx, cas_server):
    cas_server.add_user("2021004", mail="s4@ncu.edu.cn")
    provider = provider_at(cas_server.url)
    args, flow = signed_in_callback(cas_server, "2021004")
    cas.complete(provider, args, flow, CALLBACK)

    with pytest.raises(SignOnRefused) as refused:
        cas.complete(provider, args, flow, CALLBACK)

    assert refused.value.status == 401
    assert "already used" in refused.value.message


def test_a_made_up_ticket_is_refused(ctx, cas_server):
    _, flow = cas.begin(provider_at(cas_server.url), CALLBACK)

    with pytest.raises(SignOnRefused) as refused:
        cas.complete(provider_at(cas_server.url),
                     {"state": flow["state"], "ticket": "ST-made-up"}, flow, CALLBACK)

    assert refused.value.status == 401


def test_a_ticket_given_for_another_service_is_refused(ctx, cas_server):
    cas_server.add_user("2021005", mail="s5@ncu.edu.cn")
    args, flow = signed_in_callback(cas_server, "2021005")
    elsewhere = {**flow, "service": "http://127.0.0.1:5001/elsewhere?state=" + flow["state"]}

    with pytest.raises(SignOnRefused) as refused:
        cas.complete(provider_at(cas_server.url), args, elsewhere, CALLBACK)

    assert refused.value.status == 400
    assert "another address" in refused.value.message


def test_an_expired_ticket_is_refused(ctx, short_ticket_cas_server):
    short_ticket_cas_server.add_user("2021006", mail="s6@ncu.edu.cn")
    args, flow = signed_in_callback(short_ticket_cas_server, "2021006")
    time.sleep(1.5)

    with pytest.raises(SignOnRefused) as refused:
        cas.complete(provider_at(short_ticket_cas_server.url), args, flow, CALLBACK)

    assert refused.value.status == 401
    assert "expired" in refused.value.message


def test_a_reader_whose_cas_releases_no_email_is_refused_and_told_why(ctx, cas_server):
    cas_server.add_user("2021007", cn="没有邮箱", eduPersonAffiliation="student")
    args, flow = signed_in_callback(cas_server, "2021007")

    with pytest.raises(SignOnRefused) as refused:
        cas.complete(provider_at(cas_server.url), args, flow, CALLBACK)

    assert 400 <= refused.value.status < 500
    assert "email" in refused.value.message


def test_a_cas_that_is_down_is_said_with_a_502(ctx):
    provider = provider_at(closed_port_url())
    _, flow = cas.begin(provider, CALLBACK)

    with pytest.raises(ProviderUnavailable) as unavailable:
        cas.complete(provider, {"state": flow["state"], "ticket": "ST-1"}, flow, CALLBACK)

    assert unavailable.value.status == 502


def test_a_cas_that_hangs_is_said_with_a_504_within_the_timeout(app, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "SIGNON_TIMEOUT_SECONDS", 1)
    with silent_server() as url:
        provider = provider_at(url)
        _, flow = cas.begin(provider, CALLBACK)
        started = time.monotonic()

        with pytest.raises(ProviderUnavailable) as unavailable:
            cas.complete(provider, {"state": flow["state"], "ticket": "ST-1"}, flow, CALLBACK)

    assert unavailable.value.status == 504
    assert time.monotonic() - started < 3


SUCCESS_CAS_2 = b"""<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas">
  <cas:authenticationSuccess><cas:user>old01</cas:user>
    <cas:attributes><cas:mail>old01@jxnu.edu.cn</cas:mail></cas:attributes>
  </cas:authenticationSuccess></cas:serviceResponse>"""
ENTITY_BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"><cas:authenticationSuccess>
  <cas:user>&b;</cas:user></cas:authenticationSuccess></cas:serviceResponse>"""


@contextmanager
def answering_server(pages):
    """A loopback HTTP server answering ``{path: (status, body)}``; other paths 404."""
    def app(environ, start_response):
        status, body = pages.get(environ["PATH_INFO"], (404, b"not found"))
        start_response(f"{status} -", [("Content-Length", str(len(body)))])
        return [body]

    with serving(app) as base:
        yield base


def complete_against(url):
    provider = provider_at(url)
    _, flow = cas.begin(provider, CALLBACK)
    return cas.complete(provider, {"state": flow["state"], "ticket": "ST-1"}, flow, CALLBACK)


def test_a_cas_2_server_without_the_p3_path_is_asked_at_service_validate(ctx):
    with answering_server({"/serviceValidate": (200, SUCCESS_CAS_2)}) as url:
        identity = complete_against(url)

    assert (identity.subject, identity.email) == ("old01", "old01@jxnu.edu.cn")


@pytest.mark.parametrize("answer", [
    (200, b"<html><body>Site under maintenance</body>"),
    (200, ENTITY_BOMB),
    (200, b'<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"/>'),
    (403, b"forbidden"),
], ids=["not-xml", "xml-entities", "neither-success-nor-failure", "forbidden"])
def test_a_cas_answer_the_portal_cannot_read_is_said_with_a_502(ctx, answer):
    with answering_server({"/p3/serviceValidate": answer}) as url:
        with pytest.raises(ProviderUnavailable) as unavailable:
            complete_against(url)

    assert unavailable.value.status == 502


# --- through the portal: /login/sso/NCU → the CAS → /login/sso/NCU/callback ----------------

def set_ncu_cas(url):
    set_provider(None, "NCU", "cas", url=url)


def path_of(url):
    parts = urlsplit(url)
    return parts.path + "?" + parts.query


def start_at_portal(client):
    """The reader picks NCU's campus sign-on; the CAS login URL the portal sends them to."""
    response = client.get("/login/sso/NCU?next=/account")
    assert response.status_code == 303
    return response.headers["Location"]


def come_back(client, server, username):
    """Sign in at the portal through ``server``; the portal's answer to the callback."""
    return client.get(path_of(server.sign_in(start_at_portal(client), username)))


def accounts_with(email):
    return db.session.execute(
        select(User).where(func.lower(User.email) == email)).scalars().all()


IDENTITIES_BEFORE = [0]


def cas_identities():
    return db.session.execute(select(func.count()).select_from(CampusIdentity)
                              .where(CampusIdentity.kind == "cas")).scalar_one()


@pytest.fixture
def client(client):
    """The test client, and how many CAS identities the database held before the test (other
    tests' journeys may have committed some)."""
    IDENTITIES_BEFORE[0] = cas_identities()
    return client


def assert_refused_with_nothing_made(client, response, status, email=None):
    assert response.status_code == status
    assert client.get("/account").status_code == 302  # nobody signed in
    assert email is None or accounts_with(email) == []
    assert cas_identities() == IDENTITIES_BEFORE[0]


def test_a_first_campus_sign_in_makes_a_verified_reader_of_the_library(client, cas_server):
    set_ncu_cas(cas_server.url)
    cas_server.add_user("2021101", mail="Chen.Jing@NCU.edu.cn", cn="陈静",
                        eduPersonAffiliation=["student", "member"])

    response = come_back(client, cas_server, "2021101")

    assert response.status_code == 303 and response.headers["Location"].endswith("/account")
    assert client.get("/account").status_code == 200
    [reader] = accounts_with("chen.jing@ncu.edu.cn")
    assert reader.home_library_id == library_id("NCU") and reader.verified_at is not None
    assert (reader.display_name, reader.reader_type) == ("陈静", "student")
    assert reader.email_confirmed_at is not None
    tie = db.session.execute(select(CampusIdentity).where(
        CampusIdentity.user_id == reader.id)).scalar_one()
    assert (tie.library_id, tie.subject, tie.kind) == (library_id("NCU"), "2021101", "cas")


def test_a_later_campus_sign_in_lands_in_the_same_account_even_with_a_new_email(
        client, cas_server):
    set_ncu_cas(cas_server.url)
    cas_server.add_user("2021102", mail="old@ncu.edu.cn", cn="刘洋")
    come_back(client, cas_server, "2021102")
    [first] = accounts_with("old@ncu.edu.cn")
    post_form(client, "/logout", {})
    cas_server.add_user("2021102", mail="new@ncu.edu.cn", cn="刘洋")

    response = come_back(client, cas_server, "2021102")

    assert response.status_code == 303
    assert accounts_with("new@ncu.edu.cn") == [first] and accounts_with("old@ncu.edu.cn") == []
    assert client.get("/account").status_code == 200


def test_logging_out_offers_to_log_out_of_the_cas_too(client, cas_server):
    set_ncu_cas(cas_server.url)
    cas_server.add_user("2021103", mail="s103@ncu.edu.cn")
    come_back(client, cas_server, "2021103")

    page = client.get(post_form(client, "/logout", {}).headers["Location"])

    home = quote(client.application.config["PUBLIC_URL"] + "/", safe="")
    assert page.status_code == 200
    assert escape(f"{cas_server.url}/logout?service={home}") in page.get_data(as_text=True)


def test_a_ticket_brought_to_another_browser_signs_nobody_in(client, cas_server):
    set_ncu_cas(cas_server.url)
    cas_server.add_user("2021104", mail="s104@ncu.edu.cn")
    victims_login = start_at_portal(client)
    other_browser = client.application.test_client()
    start_at_portal(other_browser)  # another NCU sign-in under way there

    callback = cas_server.sign_in(victims_login, "2021104")
    response = other_browser.get(path_of(callback))

    assert_refused_with_nothing_made(other_browser, response, 400, "s104@ncu.edu.cn")


def test_a_made_up_ticket_signs_nobody_in(client, cas_server):
    set_ncu_cas(cas_server.url)
    login_url = start_at_portal(client)
    service = dict(parse_qsl(urlsplit(login_url).query))["service"]

    response = client.get(path_of(service + "&ticket=ST-made-up"))

    assert_refused_with_nothing_made(client, response, 401)


def test_an_expired_ticket_signs_nobody_in(client, short_ticket_cas_server):
    set_ncu_cas(short_ticket_cas_server.url)
    short_ticket_cas_server.add_user("2021105", mail="s105@ncu.edu.cn")
    callback = short_ticket_cas_server.sign_in(start_at_portal(client), "2021105")
    time.sleep(1.5)

    response = client.get(path_of(callback))

    assert_refused_with_nothing_made(client, response, 401, "s105@ncu.edu.cn")


def test_a_reader_whose_cas_releases_no_email_gets_no_account_and_is_told_why(
        client, cas_server):
    post_form(client, "/language", {"lang": "en"})
    set_ncu_cas(cas_server.url)
    cas_server.add_user("2021106", cn="无邮箱", eduPersonAffiliation="student")

    response = come_back(client, cas_server, "2021106")

    assert_refused_with_nothing_made(client, response, 400, "2021106@ncu.edu.cn")
    assert "did not release your email address" in response.get_data(as_text=True)


def test_a_cas_that_is_down_when_the_reader_comes_back_is_a_502_page(client):
    set_ncu_cas(closed_port_url())
    service = dict(parse_qsl(urlsplit(start_at_portal(client)).query))["service"]

    response = client.get(path_of(service + "&ticket=ST-1"))

    assert_refused_with_nothing_made(client, response, 502)


def test_a_cas_that_hangs_is_a_504_page_within_the_timeout(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "SIGNON_TIMEOUT_SECONDS", 1)
    with silent_server() as url:
        set_ncu_cas(url)
        service = dict(parse_qsl(urlsplit(start_at_portal(client)).query))["service"]
        started = time.monotonic()

        response = client.get(path_of(service + "&ticket=ST-1"))

    assert time.monotonic() - started < 3
    assert_refused_with_nothing_made(client, response, 504)
