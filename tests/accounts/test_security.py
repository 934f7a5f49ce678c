"""Regression tests for attacks on login, sessions and inputs."""
from datetime import timedelta

import pyotp
import pytest

from jala import clock
from jala.accounts import services as accounts
from jala.accounts.models import AuthSession
from jala.accounts.roles import grant_role
from jala.accounts.sessions import check_totp
from jala.errors import RuleViolation
from jala.extensions import db
from tests.support.factories import PASSWORD, current_code, make_user
from tests.support.web import csrf_token, login, post_form


def test_password_alone_cannot_reach_enrolment_of_an_enabled_second_factor(client):
    librarian = make_user(roles=["librarian"])
    secret = librarian.totp_secret
    login(client, librarian, code=False)
    response = client.get("/login/enrol")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login/code")
    assert post_form(client, "/login/enrol", {"code": "123456"},
                     token_from="/login/code").status_code == 302
    assert librarian.totp_secret == secret
    assert client.get("/staff/readers").status_code == 302  # still not logged in


def test_too_many_wrong_codes_end_the_pending_login(client):
    librarian = make_user(roles=["librarian"])
    login(client, librarian, code=False)
    wrong = "000000" if current_code(librarian) != "000000" else "111111"
    statuses = [post_form(client, "/login/code", {"code": wrong},
                          token_from="/login/code").status_code for _ in range(5)]
    assert statuses[:4] == [401] * 4 and statuses[4] == 303
    assert client.get("/login/code").status_code == 302  # back to the password


def test_full_width_digits_are_accepted_as_a_code(ctx):
    user = make_user(totp=True)
    code = current_code(user)
    full_width = "".join(chr(ord(d) + 0xFEE0) for d in code)
    check_totp(user, full_width)
    with pytest.raises(RuleViolation):
        check_totp(user, "١٢٣٤٥٦")  # Arabic-Indic digits are not a code


def test_a_new_staff_role_ends_sessions_opened_without_a_second_factor(client):
    reader = make_user(library="JXAU")
    login(client, reader)
    admin = make_user(library="JXAU", roles=["library_admin"])
    grant_role(admin, reader.id, "library_admin", "JXAU")
    assert client.get("/libraries/JXAU/people").status_code == 302  # must log in again


def test_changing_the_password_ends_the_other_sessions(client, app):
    reader = make_user()
    other = app.test_client()
    login(other, reader)
    login(client, reader)
    response = post_form(client, "/account", {"current_password": PASSWORD,
                                              "password": "another good passphrase"},
                         token_from="/account")
    assert response.status_code == 303
    assert client.get("/account").status_code == 200
    assert other.get("/account").status_code == 302
    assert db.session.query(AuthSession).filter_by(user_id=reader.id, ended_at=None).count() == 1


@pytest.mark.parametrize("target", ["/\t/evil.example/x", "//evil.example", "https://evil.example",
                                    "/\\evil.example", "/a\r\nX-Injected: 1"])
def test_login_never_redirects_off_site(client, target):
    reader = make_user()
    response = post_form(client, "/login", {"email": reader.email, "password": PASSWORD,
                                            "next": target}, token_from="/login")
    assert response.status_code == 303 and response.headers["Location"] == "/"


def test_language_switch_never_redirects_off_site(client):
    response = post_form(client, "/language", {"lang": "en", "next": "/\t/evil.example"})
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("email", ["a,b@example.com", "a:b@example.com", "a(b@x.com",
                                   "=?utf-8?q?x?=@example.com", "a..b@example.com",
                                   "a@-example.com", "a b@example.com"])
def test_addresses_that_mail_could_misroute_are_refused(ctx, email):
    with pytest.raises(RuleViolation):
        accounts.normalise_email(email)


@pytest.mark.parametrize("path", ["/libraries/AB%00C", "/search?q=a%00b",
                                  "/staff/readers/99999999999/verify", "/records/99999999999999",
                                  "/admin/audit?until=9999-12-31"])
def test_odd_inputs_are_4xx_not_500(client, path):
    admin = make_user(library="JXSTNU", roles=["portal_admin", "librarian"])
    login(client, admin)
    if "verify" in path:
        response = client.post(path, headers={"X-CSRFToken": csrf_token(client)})
    else:
        response = client.get(path)
    assert 400 <= response.status_code < 500


def test_nul_in_a_form_is_a_400(client):
    response = post_form(client, "/login", {"email": "a\x00@example.com", "password": "x" * 9},
                         token_from="/login")
    assert response.status_code == 400


def test_registering_as_reader_without_a_library_is_an_error(client):
    response = post_form(client, "/register", {
        "kind": "reader", "display_name": "X", "email": "nolib@example.com",
        "password": PASSWORD, "card_number": "123456"}, token_from="/register")
    assert response.status_code == 400


def test_head_requests_do_not_use_up_a_download(client):
    import io
    from datetime import timedelta

    from jala.files import create_link, store_upload

    stored = store_upload(io.BytesIO(b"%PDF-1.4 test"), "a.pdf", allowed_kinds=("pdf",),
                          max_bytes=1000)
    _, url = create_link(stored, valid_for=timedelta(days=1), max_downloads=1)
    path = url.split("127.0.0.1:5000")[1]
    for _ in range(2):
        with client.head(path) as response:
            assert response.status_code == 200
    with client.get(path) as response:
        assert response.status_code == 200
    assert client.get(path).status_code == 410


def test_enrolment_secret_is_not_cached(client):
    admin = make_user(library="NCU", roles=["library_admin"])
    admin.totp_secret = admin.totp_enabled_at = None
    login(client, admin)
    page = client.get("/login/enrol")
    assert page.headers["Cache-Control"] == "no-store"
    secret = page.get_data(as_text=True).split('data-testid="totp-secret">')[1].split("<")[0]
    assert client.get("/login/enrol").get_data(as_text=True).count(secret) >= 1
    assert pyotp.TOTP(secret).now()


def test_a_cookie_from_before_the_wrong_codes_does_not_restart_the_count(client):
    librarian = make_user(roles=["librarian"])
    login(client, librarian, code=False)
    saved = client.get_cookie("jala_session").value
    wrong = "000000" if current_code(librarian) != "000000" else "111111"
    for _ in range(3):
        post_form(client, "/login/code", {"code": wrong}, token_from="/login/code")
    client.set_cookie("jala_session", saved)  # the count went back to nought in the cookie
    statuses = [post_form(client, "/login/code", {"code": wrong},
                          token_from="/login/code").status_code for _ in range(2)]
    assert statuses == [401, 303]  # five wrong codes in all
    client.set_cookie("jala_session", saved)
    assert client.get("/login/code").status_code == 302  # the pending login has ended
    response = post_form(client, "/login/code", {"code": current_code(librarian)},
                         token_from="/login")
    assert response.status_code == 302 and client.get("/staff/readers").status_code == 302


def test_wrong_passwords_from_one_address_do_not_lock_the_owner_out_elsewhere(client, app):
    reader = make_user()
    attacker = {"REMOTE_ADDR": "198.51.100.66"}
    app.config["RATELIMIT_LOGIN"] = "10 per minute;50 per hour"  # the production default
    try:
        statuses = [post_form(client, "/login", {"email": reader.email, "password": "guess!" * 3},
                              token_from="/login", environ_base=attacker).status_code
                    for _ in range(20)]
        assert statuses[:4] == [401] * 4 and statuses[-1] == 429
        held = post_form(client, "/login", {"email": reader.email, "password": PASSWORD},
                         token_from="/login", environ_base=attacker)
        assert held.status_code == 429 and int(held.headers["Retry-After"]) > 0
        owner = app.test_client()
        response = post_form(owner, "/login", {"email": reader.email, "password": PASSWORD},
                             token_from="/login", environ_base={"REMOTE_ADDR": "203.0.113.5"})
        assert response.status_code == 303
    finally:
        app.config["RATELIMIT_LOGIN"] = "100000 per minute"


def test_the_wait_after_wrong_passwords_doubles(client):
    reader = make_user()
    attempt_ = {"email": reader.email, "password": "not my password"}
    for _ in range(5):
        assert post_form(client, "/login", attempt_, token_from="/login").status_code == 401
    for wait in (2, 4, 8):
        clock.advance(timedelta(seconds=wait - 1))
        refused = post_form(client, "/login", attempt_, token_from="/login")
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
        clock.advance(timedelta(seconds=1))
        assert post_form(client, "/login", attempt_, token_from="/login").status_code == 401
