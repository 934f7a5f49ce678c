from datetime import timedelta

import pyotp
import pytest

from jala import clock
from jala.accounts.models import AuthSession, User
from jala.audit import AuditEntry
from jala.extensions import db
from jala.jobs import OutboxEmail
from tests.support.factories import PASSWORD, current_code, make_user
from tests.support.web import csrf_token, login, main_of, post_form


def test_reader_logs_in_and_sees_their_account(client):
    reader = make_user(name="王小明")
    response = login(client, reader)
    assert response.status_code == 303
    page = client.get("/account").get_data(as_text=True)
    assert "王小明" in page and reader.card_number in page


def test_wrong_password_gets_a_clear_message_and_no_session(client):
    reader = make_user()
    response = login(client, reader, password="not the password")
    assert response.status_code == 401
    assert "密码" in response.get_data(as_text=True) or "password" in response.get_data(
        as_text=True)
    assert client.get("/account").status_code == 302
    assert db.session.query(AuditEntry).filter_by(action="user.login_failed").count() == 1


def test_login_for_unknown_email_says_the_same_as_a_wrong_password(client):
    known = login(client, make_user(), password="wrong password!")
    unknown = post_form(client, "/login", {"email": "ghost@example.com", "password": "x" * 9})
    assert known.status_code == unknown.status_code == 401
    assert known.get_data(as_text=True).count("field-error") == unknown.get_data(
        as_text=True).count("field-error")


def test_staff_needs_the_second_factor(client):
    librarian = make_user(roles=["librarian"])
    first = login(client, librarian, code=False)
    assert first.status_code == 303 and first.headers["Location"].endswith("/login/code")
    assert client.get("/account").status_code == 302  # not logged in yet
    wrong = post_form(client, "/login/code", {"code": "000000" if current_code(
        librarian) != "000000" else "111111"}, token_from="/login/code")
    assert wrong.status_code == 401
    right = post_form(client, "/login/code", {"code": current_code(librarian)},
                      token_from="/login/code")
    assert right.status_code == 303
    assert client.get("/staff/readers").status_code == 200


def test_second_factor_code_cannot_be_replayed_for_a_new_login(client):
    librarian = make_user(roles=["librarian"])
    code = current_code(librarian)
    login(client, librarian, code=False)
    assert post_form(client, "/login/code", {"code": code},
                     token_from="/login/code").status_code == 303
    post_form(client, "/logout", {})
    login(client, librarian, code=False)
    replay = post_form(client, "/login/code", {"code": code}, token_from="/login/code")
    assert replay.status_code == 401


def test_staff_without_authenticator_must_enrol_before_login_completes(client):
    admin = make_user(library="JXAU", roles=["library_admin"])
    admin.totp_secret = None
    admin.totp_enabled_at = None
    db.session.flush()
    response = login(client, admin)
    assert response.headers["Location"].endswith("/login/enrol")
    page = client.get("/login/enrol").get_data(as_text=True)
    assert "<svg" in page
    secret = page.split('data-testid="totp-secret">')[1].split("<")[0]
    assert admin.totp_secret is None  # nothing is stored before a code proves the app has it
    response = post_form(client, "/login/enrol", {"code": pyotp.TOTP(secret).now()},
                         token_from="/login/enrol")
    assert response.status_code == 303
    assert admin.totp_enabled_at is not None
    assert client.get("/libraries/JXAU/people").status_code == 200


def test_pending_second_factor_expires(client):
    librarian = make_user(roles=["librarian"])
    login(client, librarian, code=False)
    clock.advance(timedelta(minutes=6))
    response = client.get("/login/code")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_logout_ends_the_session_on_the_server(client):
    reader = make_user()
    login(client, reader)
    old_cookie = client.get_cookie("jala_session").value
    assert post_form(client, "/logout", {}).status_code == 303
    assert client.get("/account").status_code == 302
    client.set_cookie("jala_session", old_cookie)  # replay the cookie from before logout
    assert client.get("/account").status_code == 302
    ended = db.session.query(AuthSession).filter_by(user_id=reader.id).one()
    assert ended.ended_at is not None


def test_login_starts_a_fresh_session(client):
    client.get("/")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    login(client, make_user())
    with client.session_transaction() as session:
        assert "planted" not in session


def test_idle_session_sends_htmx_requests_to_the_login_page(client):
    librarian = make_user(roles=["librarian"])
    reader = make_user(verified=False)
    login(client, librarian)
    token = csrf_token(client, "/staff/readers")
    clock.advance(timedelta(hours=3))
    response = client.post(f"/staff/readers/{reader.id}/verify",
                           headers={"HX-Request": "true", "X-CSRFToken": token})
    assert response.status_code == 200
    assert response.headers["HX-Redirect"].startswith("/login")
    assert db.session.get(User, reader.id).verified_at is None


def test_forged_csrf_token_is_refused_and_changes_nothing(client):
    reader = make_user()
    response = client.post("/login", data={"email": reader.email, "password": PASSWORD,
                                           "csrf_token": "forged"})
    assert response.status_code == 400
    assert "Traceback" not in response.get_data(as_text=True)
    assert client.get("/account").status_code == 302
    register = client.post("/register", data={
        "kind": "public", "display_name": "X", "email": "forged@example.com",
        "password": PASSWORD, "csrf_token": "forged"})
    assert register.status_code == 400
    assert db.session.query(User).filter_by(email="forged@example.com").count() == 0


def test_htmx_post_without_csrf_header_is_refused(client):
    librarian = make_user(roles=["librarian"])
    reader = make_user(verified=False)
    login(client, librarian)
    csrf_token(client, "/staff/readers")  # the page is open: the session holds a token
    response = client.post(f"/staff/readers/{reader.id}/verify", headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert db.session.get(User, reader.id).verified_at is None


def test_register_reader_then_librarian_verifies_through_htmx(client, smtp):
    response = post_form(client, "/register", {
        "kind": "reader", "display_name": "张三", "email": "zhangsan@example.edu.cn",
        "library": "JXUFE", "card_number": "20261234", "password": PASSWORD},
        token_from="/register")
    assert response.status_code == 303
    reader = db.session.query(User).filter_by(email="zhangsan@example.edu.cn").one()
    assert reader.verified_at is None
    # told what happens next: the email to confirm, then the card check at their library
    assert response.headers["Location"].endswith("/register/done")
    done = client.get("/register/done").get_data(as_text=True)
    assert "zhangsan@example.edu.cn" in done and "江西财经大学图书馆" in done
    assert "1–2 working days" in done or "1–2 个工作日" in done
    librarian = make_user(roles=["librarian"])
    login(client, librarian)
    queue = client.get("/staff/readers").get_data(as_text=True)
    assert "张三" in queue and "20261234" in queue
    token = csrf_token(client, "/staff/readers")
    row = client.post(f"/staff/readers/{reader.id}/verify",
                      headers={"HX-Request": "true", "X-CSRFToken": token})
    assert row.status_code == 200
    html = row.get_data(as_text=True)
    assert html.lstrip().startswith("<tr") and "<html" not in html
    assert reader.verified_at is not None


def test_a_public_user_is_told_what_happens_after_registering(client, smtp):
    response = post_form(client, "/register", {
        "kind": "public", "display_name": "李四", "email": "lisi@example.com",
        "password": PASSWORD}, token_from="/register")
    assert response.status_code == 303
    done = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "lisi@example.com" in done and "working days" not in done and "工作日" not in done
    assert 'href="/login"' in done


def _register(client, email, card):
    response = post_form(client, "/register", {
        "kind": "reader", "display_name": "王五", "email": email, "library": "JXAU",
        "card_number": card, "password": PASSWORD}, token_from="/register")
    page = main_of(client.get("/register/done").get_data(as_text=True))
    return response.status_code, response.headers.get("Location"), page.replace(email.lower(),
                                                                                "EMAIL")


@pytest.mark.parametrize("taken", ["email", "card"])
def test_registering_a_taken_email_or_card_answers_like_a_new_account(client, app, taken):
    owner = make_user(library="JXAU")
    fresh = _register(app.test_client(), "new.reader@example.com", "FRESH-001")
    if taken == "email":
        again = _register(client, owner.email.upper(), "FRESH-002")
    else:
        again = _register(client, "someone.else@example.com", owner.card_number)
    assert again == fresh and fresh[:2] == (303, "/register/done")
    mail = db.session.query(OutboxEmail).filter_by(kind="account.exists").one()
    assert mail.to_addr == (owner.email if taken == "email" else "someone.else@example.com")


def test_the_next_steps_page_without_a_registration_goes_to_the_form(client):
    response = client.get("/register/done")
    assert response.status_code == 302 and response.headers["Location"].endswith("/register")


def test_register_shows_form_errors_for_bad_input(client):
    response = post_form(client, "/register", {
        "kind": "reader", "display_name": "X", "email": "not-an-email", "library": "JXUFE",
        "card_number": "1", "password": "short"}, token_from="/register")
    assert response.status_code == 400
    assert "form-error" in response.get_data(as_text=True)


def test_oversized_fields_are_refused_without_an_error_page(client):
    response = post_form(client, "/register", {
        "kind": "public", "display_name": "X" * 5000, "email": "a" * 300 + "@example.com",
        "password": "p" * 1000}, token_from="/register")
    assert response.status_code == 400
    assert db.session.query(User).count() >= 0
    huge = post_form(client, "/login", {"email": "x@example.com", "password": "y" * 2_000_000},
                     token_from="/login")
    assert huge.status_code in (400, 413)


def test_reader_cannot_open_another_librarys_admin_page(client):
    login(client, make_user(library="JXUFE"))
    assert client.get("/libraries/NCU/people").status_code == 403
    assert client.get("/libraries/JXUFE/people").status_code == 403
    assert client.get("/admin/").status_code == 403
    assert client.get("/admin/audit").status_code == 403
    assert client.get("/staff/readers").status_code == 403


def test_library_admin_cannot_manage_another_library(client):
    admin = make_user(library="ECUT", roles=["library_admin"])
    other = make_user(library="NCHU")
    login(client, admin)
    assert client.get("/libraries/NCHU/people").status_code == 403
    response = post_form(client, "/libraries/NCHU/people/roles",
                         {"user_id": other.id, "role": "librarian"})
    assert response.status_code == 403
    assert not other.has_role("librarian")


def test_library_admin_grants_and_revokes_a_librarian(client):
    admin = make_user(library="ECUT", roles=["library_admin"])
    colleague = make_user(library="ECUT", name="李四")
    login(client, admin)
    assert "李四" in client.get("/libraries/ECUT/people").get_data(as_text=True)
    response = post_form(client, "/libraries/ecut/people/roles",
                         {"user_id": colleague.id, "role": "librarian"})
    assert response.status_code == 303
    db.session.expire(colleague)
    grant = colleague.grants[0]
    assert grant.role == "librarian"
    assert post_form(client, f"/roles/{grant.id}/revoke", {}).status_code == 303
    db.session.expire(colleague)
    assert colleague.grants == []


def test_password_reset_by_email_through_the_worker(client, app, smtp):
    from jala.jobs import run_worker

    reader = make_user()
    response = post_form(client, "/password/forgot", {"email": reader.email},
                         token_from="/password/forgot")
    assert response.status_code == 303
    run_worker(app, burst=True)
    mail = db.session.query(OutboxEmail).filter_by(kind="account.reset").one()
    assert mail.status == "sent"
    received = [m for m in smtp.messages if m["To"] == reader.email]
    assert len(received) == 1 and received[0]["Message-ID"].strip() == mail.message_id
    link = received[0].get_body(preferencelist=("plain",)).get_content().split("http://127.0.0.1:5000")[1].split()[0]
    form = client.get(link)
    assert form.status_code == 200
    done = post_form(client, link, {"password": "my new passphrase"}, token_from=link)
    assert done.status_code == 303
    replay = post_form(client, link, {"password": "yet another passphrase"}, token_from="/")
    assert replay.status_code == 410
    assert "Traceback" not in replay.get_data(as_text=True)
    assert login(client, reader, password="my new passphrase").status_code == 303


def test_forgot_password_answers_the_same_for_unknown_addresses(client):
    known = post_form(client, "/password/forgot", {"email": make_user().email})
    unknown = post_form(client, "/password/forgot", {"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 303


def test_login_is_rate_limited_with_a_clear_message(client, app):
    reader = make_user()
    app.config["RATELIMIT_LOGIN"] = "3 per minute"
    try:
        statuses = [login(client, reader, password="wrong password!").status_code
                    for _ in range(4)]
        assert statuses[:3] == [401, 401, 401] and statuses[3] == 429
        limited = login(client, reader)
        assert limited.status_code == 429
        assert "稍" in limited.get_data(as_text=True) or "minute" in limited.get_data(
            as_text=True)
    finally:
        app.config["RATELIMIT_LOGIN"] = "100000 per minute"


def test_language_switch_to_english(client):
    assert "成员馆" in client.get("/libraries").get_data(as_text=True)
    response = post_form(client, "/language", {"lang": "en", "next": "/libraries"})
    assert response.status_code == 303
    page = client.get("/libraries").get_data(as_text=True)
    assert "Member libraries" in page and 'lang="en"' in page
    assert post_form(client, "/language", {"lang": "xx"}).status_code == 400


def test_error_pages_have_no_stack_traces(client):
    for path, status in (("/nope", 404), ("/files/garbage", 404)):
        response = client.get(path)
        assert response.status_code == status
        assert "Traceback" not in response.get_data(as_text=True)


def test_htmx_post_after_the_session_cookie_expired_redirects_to_login(client):
    client.get("/")
    token = csrf_token(client)
    client.delete_cookie("jala_session")  # the browser dropped the expired session cookie
    response = client.post("/language", data={"lang": "en"},
                           headers={"HX-Request": "true", "X-CSRFToken": token})
    assert response.status_code == 200
    assert response.headers["HX-Redirect"].startswith("/login")
