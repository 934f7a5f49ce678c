"""At 360 px: a reader whose search found nothing suggests that their library buy the title
(the form pre-filled from the query); a librarian of that library marks it ordered in the queue
(HTMX); the reader sees it ordered and gets the email, with the library's name, never its code.
"""
import pytest
from sqlalchemy import select, text

from jala.extensions import db
from jala.jobs import OutboxEmail, send_outbox_email
from tests.support.browser import (
    fits_the_phone,
    log_in,
    new_phone,
    open_menu_link,
    open_mine_link,
    screenshot,
)
from tests.support.factories import make_user

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

READER_EMAIL = "e2e-purchase-reader@example.edu.cn"
LIBRARIAN_EMAIL = "e2e-purchase-librarian@example.edu.cn"
TITLE = "鄱阳湖湿地候鸟图鉴"
LIBRARY_NAME = "江西财经大学图书馆"


@pytest.fixture
def purchase_setup(app, smtp):
    """Committed: a verified JXUFE reader and a JXUFE librarian."""
    smtp.clear()
    with app.app_context():
        reader = make_user(library="JXUFE", email=READER_EMAIL, name="荐购读者")
        librarian = make_user(library="JXUFE", roles=["librarian"], email=LIBRARIAN_EMAIL,
                              name="采访馆员")
        secret, reader_id = librarian.totp_secret, reader.id
        db.session.commit()
    yield {"totp_secret": secret}
    with app.app_context():  # the users stay (the audit log names them); the rest goes
        ids = db.session.execute(text(
            "DELETE FROM purchase_suggestions WHERE reader_id = :r RETURNING id"),
            {"r": reader_id}).scalars().all()
        for suggestion_id in ids:
            db.session.execute(text(
                "DELETE FROM outbox_emails WHERE object_type = 'purchase_suggestion' "
                "AND object_id = :i"), {"i": str(suggestion_id)})
        db.session.commit()


def test_reader_suggests_a_purchase_and_sees_it_ordered_on_a_phone(
        app, live_server, browser, smtp, purchase_setup):
    base = live_server
    reader = new_phone(browser)
    librarian = new_phone(browser)
    try:
        # --- the reader's search found nothing: the suggestion form, pre-filled ------------
        log_in(reader, base, READER_EMAIL)
        reader.goto(f"{base}/purchase/suggest?title={TITLE}")
        assert reader.input_value("input[name=title]") == TITLE
        assert LIBRARY_NAME in reader.locator("main").inner_text()
        assert "JXUFE" not in reader.locator("main").inner_text()
        reader.fill("input[name=authors]", "江西省林业局")
        reader.fill("textarea[name=note]", "生态学课程需要，本馆没有收藏。")
        fits_the_phone(reader)
        screenshot(reader, "procurement-suggest-360")
        submit = reader.locator("form[action='/purchase/suggest'] button[type=submit]")
        assert submit.bounding_box()["x"] + submit.bounding_box()["width"] <= 360
        submit.click()
        reader.wait_for_url("**/purchase/suggestions")
        assert reader.locator(".flash-success").count() == 1
        item = reader.locator("li.request-item", has_text=TITLE)
        assert item.locator("[data-status=suggested]").is_visible()
        suggestion_id = int(item.get_attribute("id").rsplit("-", 1)[1])
        fits_the_phone(reader)
        screenshot(reader, "procurement-my-suggestions-360")

        # --- the JXUFE librarian marks it ordered (HTMX swaps the card) ---------------------
        log_in(librarian, base, LIBRARIAN_EMAIL, purchase_setup["totp_secret"])
        open_menu_link(librarian, "/libraries/JXUFE/purchase")
        card = librarian.locator(f"#suggestion-{suggestion_id}")
        assert TITLE in card.inner_text() and "生态学课程需要" in card.inner_text()
        assert card.locator("[data-status=suggested]").is_visible()
        card.locator("details.action summary", has_text="不采纳").click()
        fits_the_phone(librarian)
        screenshot(librarian, "procurement-queue-360")
        card.locator("details.action summary", has_text="不采纳").click()  # closed again
        card.locator("form[action$='/order'] button[type=submit]").click()
        card.locator("[data-status=ordered]").wait_for()
        assert librarian.url.endswith("/libraries/JXUFE/purchase")  # swapped in place
        assert card.locator("form[action$='/order']").count() == 0
        assert card.locator("form[action$='/receive']").count() == 1
        fits_the_phone(librarian)
        screenshot(librarian, "procurement-queue-ordered-360")
        librarian.click("a[href='/libraries/JXUFE/purchase/stats']")
        librarian.wait_for_url("**/libraries/JXUFE/purchase/stats")
        assert librarian.locator(".chart svg").is_visible()
        fits_the_phone(librarian)
        screenshot(librarian, "procurement-stats-360")

        # --- the reader sees it ordered, and has the email ----------------------------------
        open_mine_link(reader, "/purchase/suggestions")
        item = reader.locator(f"#suggestion-{suggestion_id}")
        assert item.locator("[data-status=ordered]").inner_text() == "已订购"
        fits_the_phone(reader)
        screenshot(reader, "procurement-my-suggestions-ordered-360")
        with app.app_context():
            [outbox_id] = db.session.execute(select(OutboxEmail.id).where(
                OutboxEmail.object_type == "purchase_suggestion",
                OutboxEmail.object_id == str(suggestion_id),
                OutboxEmail.kind == "procurement.ordered")).scalars().all()
            assert send_outbox_email(outbox_id) == "sent"
        [mail] = [m for m in smtp.messages if m["To"] == READER_EMAIL]
        body = mail.get_body(("plain",)).get_content()
        assert TITLE in body and LIBRARY_NAME in body and "JXUFE" not in body
    finally:
        reader.context.close()
        librarian.context.close()
