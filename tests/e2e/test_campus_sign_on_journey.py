"""At 360 px: a student finds a book, asks for a copy, signs in with the university's CAS (a real
django-cas-server on loopback) on the way, and sends the request: one sign-in, no registration,
no waiting for a librarian to check the card."""
import re

import pytest
from sqlalchemy import select, text

from jala.accounts.models import User
from jala.extensions import db
from jala.signon.models import CampusIdentity
from jala.signon.providers import remove_provider, set_provider
from tests.support.browser import fits_the_phone, new_phone, screenshot
from tests.support.cas_server import running_cas_server
from tests.support.catalog import import_lines

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

SOURCE_ID = "campus-e2e-1"
TITLE = "鄱阳湖候鸟图志"
STUDENT = "20240815"
EMAIL = "li.ming@ncu.example.edu.cn"


@pytest.fixture
def campus(app, live_server, tmp_path):
    """NCU signs in through a running CAS; a book only JXUFE holds; the portal's links built on
    the address the browser uses."""
    with running_cas_server(tmp_path) as cas:
        cas.add_user(STUDENT, mail=EMAIL, cn="李明", eduPersonAffiliation=["student", "member"])
        with app.app_context():
            set_provider(None, "NCU", "cas", url=cas.url)
            import_lines([{"source_id": SOURCE_ID, "type": "book", "title": TITLE,
                           "authors": ["江西省林业厅"], "year": 2019,
                           "publisher": "江西科学技术出版社",
                           "holdings": [{"library": "JXUFE", "status": "available"}]}],
                         library="JXUFE")
            record_id = db.session.execute(text(
                "SELECT record_id FROM source_records WHERE source_id = :s"),
                {"s": SOURCE_ID}).scalar_one()
            db.session.commit()
        public_url = app.config["PUBLIC_URL"]
        app.config["PUBLIC_URL"] = live_server
        try:
            yield {"cas": cas, "record_id": record_id}
        finally:
            app.config["PUBLIC_URL"] = public_url
            with app.app_context():
                remove_provider(None, "NCU")
                ids = {"r": record_id}
                db.session.execute(text(
                    "DELETE FROM delivery_events WHERE request_id IN "
                    "(SELECT id FROM delivery_requests WHERE record_id = :r)"), ids)
                db.session.execute(text(
                    "DELETE FROM outbox_emails WHERE object_type = 'delivery_request' AND "
                    "object_id IN (SELECT id::text FROM delivery_requests WHERE record_id = :r)"),
                    ids)
                db.session.execute(text("DELETE FROM delivery_requests WHERE record_id = :r"),
                                   ids)
                db.session.execute(text("DELETE FROM records WHERE id = :r"), ids)
                # the student's account stays (the audit log keeps who did what), its campus
                # identity goes with the provider
                db.session.execute(text(
                    "DELETE FROM campus_identities WHERE user_id IN "
                    "(SELECT id FROM users WHERE email = :e)"), {"e": EMAIL})
                db.session.commit()


def test_a_student_signs_in_with_the_campus_account_on_the_way_to_a_delivery_request(
        app, live_server, browser, campus):
    base = live_server
    page = new_phone(browser)
    try:
        page.goto(base + "/search?q=" + TITLE)
        page.locator("a", has_text=TITLE).first.click()
        page.wait_for_url(f"**/records/{campus['record_id']}")
        page.locator(f"a[href^='/delivery/new?record={campus['record_id']}']").first.click()

        # not signed in: the login page offers the university's own sign-on
        page.wait_for_url(re.compile(r"/login\?next="))
        campus_section = page.locator(".campus-choices")
        fits_the_phone(page)
        screenshot(page, "campus-login-360")
        campus_section.locator("a", has_text="南昌大学").click()

        # the CAS's own form, then straight back to the delivery form
        page.wait_for_url(re.compile(re.escape(campus["cas"].url) + r"/login\?"))
        page.fill("input[name=username]", STUDENT)
        page.fill("input[name=password]", "campus-pass")
        page.locator("form button[type=submit], form input[type=submit]").first.click()
        page.wait_for_url(re.compile(rf"/delivery/new\?record={campus['record_id']}"))
        assert "读者账户已开通" in page.locator("body").inner_text()
        fits_the_phone(page)
        screenshot(page, "campus-signed-in-delivery-form-360")

        page.fill("input[name=pages]", "1-20")
        page.click("form[action='/delivery/new'] button[type=submit].primary")
        page.wait_for_url(re.compile(r"/delivery/requests/\d+"))
        assert TITLE in page.locator("h1").inner_text()
        screenshot(page, "campus-delivery-sent-360")
    finally:
        page.context.close()

    with app.app_context():
        reader = db.session.execute(select(User).where(User.email == EMAIL)).scalar_one()
        assert reader.home_library.code == "NCU" and reader.verified_at is not None
        assert reader.reader_type == "student" and reader.card_number == STUDENT
        assert db.session.execute(select(CampusIdentity.subject).where(
            CampusIdentity.user_id == reader.id)).scalar_one() == STUDENT
