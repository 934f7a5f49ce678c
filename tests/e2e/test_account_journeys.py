"""At 360 px: register, get verified by a librarian, log in (second factor for staff), log out."""
import pyotp
import pytest

from jala import clock
from jala.accounts.models import User
from jala.extensions import db
from tests.support.browser import screenshot, submit_login
from tests.support.factories import PASSWORD, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


def log_out(page):
    page.click("summary")
    page.click("form[action='/logout'] button")
    page.wait_for_url("**/")


def test_reader_registers_is_verified_and_logs_in_and_out(app, live_server, phone):
    with app.app_context():
        librarian = make_user(library="JXUFE", roles=["librarian"],
                              email="e2e-librarian@example.edu.cn")
        secret, librarian_email = librarian.totp_secret, librarian.email
        db.session.commit()
    base = live_server

    # a reader registers on a phone
    phone.goto(base + "/register")
    screenshot(phone, "register-360")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    phone.check("input[name=kind][value=reader]")
    phone.fill("input[name=display_name]", "端到端读者")
    phone.fill("input[name=email]", "e2e-reader@example.edu.cn")
    phone.select_option("select[name=library]", "JXUFE")
    phone.fill("input[name=card_number]", "E2E-0001")
    phone.fill("input[name=password]", PASSWORD)
    phone.click("form[action='/register'] button[type=submit]")
    phone.wait_for_url("**/register/done")
    assert "e2e-reader@example.edu.cn" in phone.locator("main").inner_text()  # what happens next
    phone.locator("main a[href='/login']").click()
    phone.wait_for_url("**/login")

    # the reader logs in: not verified yet
    submit_login(phone, base, "e2e-reader@example.edu.cn")
    phone.goto(base + "/account")
    assert phone.locator("[data-testid=unverified]").is_visible()
    log_out(phone)

    # the librarian logs in with the second factor and verifies the card through HTMX
    submit_login(phone, base, librarian_email)
    phone.wait_for_url("**/login/code")
    phone.fill("input[name=code]", pyotp.TOTP(secret).now())
    phone.click("button[type=submit].primary")
    phone.wait_for_url("**/")
    phone.goto(base + "/staff/readers")
    row = phone.locator("tr", has_text="端到端读者")
    assert "E2E-0001" in row.inner_text()
    screenshot(phone, "verification-queue-360")
    row.locator("button.primary").click()
    phone.locator("tr", has_text="端到端读者").locator(".badge.ok").wait_for()
    assert phone.url.endswith("/staff/readers")  # swapped in place, no page load
    log_out(phone)

    # the reader sees the verified card, then logs out for real
    submit_login(phone, base, "e2e-reader@example.edu.cn")
    phone.goto(base + "/account")
    assert phone.locator("[data-testid=verified]").is_visible()
    screenshot(phone, "account-360")
    log_out(phone)
    phone.goto(base + "/account")
    assert "/login" in phone.url

    with app.app_context():
        reader = db.session.query(User).filter_by(email="e2e-reader@example.edu.cn").one()
        assert reader.verified_at is not None and reader.verified_at <= clock.now()


def test_staff_without_authenticator_enrols_on_first_login(app, live_server, phone):
    with app.app_context():
        admin = make_user(library="NCU", roles=["library_admin"],
                          email="e2e-libadmin@example.edu.cn")
        admin.totp_secret = None
        admin.totp_enabled_at = None
        db.session.commit()
    submit_login(phone, live_server, "e2e-libadmin@example.edu.cn")
    phone.wait_for_url("**/login/enrol")
    assert phone.locator(".qr svg").is_visible()
    secret = phone.locator("[data-testid=totp-secret]").inner_text().strip()
    screenshot(phone, "enrol-360")
    phone.fill("input[name=code]", pyotp.TOTP(secret).now())
    phone.click("button[type=submit].primary")
    phone.wait_for_url("**/")
    phone.goto(live_server + "/libraries/NCU/people")
    assert phone.locator("h1").inner_text().startswith("南昌大学图书馆")
