"""At 360 px: a reader asks for pages of a book another library holds; its librarian accepts
and sends a PDF; the email's link downloads it (counted); an expired link says how to ask again.
"""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, text, update

from jala import clock
from jala.delivery.models import DeliveryRequest
from jala.extensions import db
from jala.files import FileLink
from jala.jobs import OutboxEmail, send_outbox_email
from tests.support.browser import (
    fits_the_phone,
    log_in,
    new_phone,
    open_menu_link,
    open_mine_link,
    screenshot,
)
from tests.support.catalog import import_lines
from tests.support.factories import make_user
from tests.support.files import PDF

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

SOURCE_ID = "delivery-e2e-1"
TITLE = "赣江流域水文志"
PAGE_COUNT = 300
READER_EMAIL = "e2e-delivery-reader@example.edu.cn"
LIBRARIAN_EMAIL = "e2e-delivery-librarian@example.edu.cn"
DOWNLOAD_LINK_RE = re.compile(r"https?://\S+?(/delivery/download/[\w.\-]+)")


@pytest.fixture
def delivery_setup(app, smtp):
    """Committed data: a book held only by NCU, a verified JXUFE reader, an NCU librarian."""
    smtp.clear()
    with app.app_context():
        import_lines([{"source_id": SOURCE_ID, "type": "book", "title": TITLE,
                       "authors": ["水文研究组"], "year": 2015, "publisher": "江西人民出版社",
                       "page_count": PAGE_COUNT,
                       "holdings": [{"library": "NCU", "status": "available",
                                     "call_number": "P344/12"}]}], library="NCU")
        record_id = db.session.execute(text(
            "SELECT record_id FROM source_records WHERE source_id = :s"), {"s": SOURCE_ID}
        ).scalar_one()
        make_user(library="JXUFE", email=READER_EMAIL, name="传递读者")
        librarian = make_user(library="NCU", roles=["librarian"], email=LIBRARIAN_EMAIL)
        secret = librarian.totp_secret
        db.session.commit()
    yield {"record_id": record_id, "totp_secret": secret}
    with app.app_context():  # the users stay, as in the other journeys; the rest goes
        ids = {"r": record_id}
        db.session.execute(text(
            "DELETE FROM delivery_events WHERE request_id IN "
            "(SELECT id FROM delivery_requests WHERE record_id = :r)"), ids)
        files = db.session.execute(text(
            "DELETE FROM delivery_requests WHERE record_id = :r RETURNING id, file_id, link_id"),
            ids).all()
        for request_id, file_id, link_id in files:
            db.session.execute(text(
                "DELETE FROM outbox_emails WHERE object_type = 'delivery_request' "
                "AND object_id = :i"), {"i": str(request_id)})
            if link_id:
                db.session.execute(text("DELETE FROM file_links WHERE id = :i"), {"i": link_id})
            if file_id:
                db.session.execute(text("DELETE FROM stored_files WHERE id = :i"),
                                   {"i": file_id})
        db.session.execute(text("DELETE FROM records WHERE id = :r"), ids)
        db.session.commit()


def test_reader_gets_pages_of_a_book_from_another_library_on_a_phone(
        app, live_server, browser, smtp, delivery_setup):
    base = live_server
    record_id = delivery_setup["record_id"]
    reader = new_phone(browser)
    librarian = new_phone(browser)
    try:
        # --- the reader asks for pages 12-30 from the record page ---------------------------
        log_in(reader, base, READER_EMAIL)
        reader.goto(f"{base}/records/{record_id}")
        ask = reader.locator(f"a.button[href='/delivery/new?record={record_id}']")
        ask.scroll_into_view_if_needed()
        assert ask.is_visible()
        fits_the_phone(reader)
        screenshot(reader, "delivery-record-360")
        ask.click()
        reader.wait_for_url("**/delivery/new?record=*")
        # the citation comes from the record: the reader only says which pages
        assert TITLE in reader.locator("main").inner_text()
        assert reader.input_value("input[name=record_id]") == str(record_id)
        assert not reader.locator("input[name=title]").count()
        reader.fill("input[name=pages]", "12-30")
        fits_the_phone(reader)
        screenshot(reader, "delivery-new-360")
        reader.click("form[action='/delivery/new'] button[type=submit].primary")
        reader.wait_for_url(re.compile(r".*/delivery/requests/\d+$"))
        request_id = int(reader.url.rsplit("/", 1)[1])
        assert reader.locator(".flash-success").count() == 1
        assert reader.locator(".kicker [data-status=pending]").is_visible()
        assert reader.locator("ol.timeline li.event-submitted").count() == 1
        routed = reader.locator("ol.timeline li.event-routed")
        assert routed.count() == 1 and "南昌大学" in routed.inner_text()
        assert "19" in reader.locator("dl.facts").inner_text()  # pages 12-30
        fits_the_phone(reader)
        screenshot(reader, "delivery-request-pending-360")

        open_mine_link(reader, "/delivery/requests")
        item = reader.locator(f"#request-{request_id}")
        assert item.locator("[data-status=pending]").is_visible()
        assert TITLE in item.inner_text()
        fits_the_phone(reader)
        screenshot(reader, "delivery-my-requests-360")

        # --- the NCU librarian accepts it, then sends a PDF (both through HTMX) ------------
        log_in(librarian, base, LIBRARIAN_EMAIL, delivery_setup["totp_secret"])
        open_menu_link(librarian, "/libraries/NCU/delivery")
        card = librarian.locator(f"#req-{request_id}")
        assert card.locator("[data-status=pending]").is_visible()
        assert "江西财经大学" in card.inner_text() and TITLE in card.inner_text()
        assert card.locator("input[name=page_count]").count() == 0  # known from the record
        fits_the_phone(librarian)
        screenshot(librarian, "delivery-queue-360")
        accept = card.locator("form[action$='/accept'] button[type=submit]")
        accept.click()
        card.locator("[data-status=accepted]").wait_for()
        assert librarian.url.endswith("/libraries/NCU/delivery")  # swapped in place
        assert card.locator("form[action$='/accept']").count() == 0

        send = card.locator("details.action", has=librarian.locator("form[action$='/fulfil']"))
        send.locator("summary").click()
        form = send.locator("form[action$='/fulfil']")
        form.locator("input[type=file][name=file]").set_input_files(
            {"name": "scan.pdf", "mimeType": "application/pdf", "buffer": PDF})
        fits_the_phone(librarian)
        screenshot(librarian, "delivery-send-360")
        submit = form.locator("button[type=submit]")
        assert submit.bounding_box()["x"] + submit.bounding_box()["width"] <= 360
        submit.click()
        card.locator("[data-status=fulfilled]").wait_for()
        assert librarian.url.endswith("/libraries/NCU/delivery")
        assert card.locator("form").count() == 0  # nothing left to do on it
        fits_the_phone(librarian)
        screenshot(librarian, "delivery-sent-360")
        # the status tabs scroll sideways on a phone; "Sent" is off screen but can be tapped
        librarian.click("nav.tabs a[href$='status=fulfilled']")
        librarian.wait_for_url("**/libraries/NCU/delivery?status=fulfilled")
        card.locator("[data-status=fulfilled]").wait_for()
        fits_the_phone(librarian)
        screenshot(librarian, "delivery-queue-sent-tab-360")
        # only the list is swapped: the "Open" tab stays highlighted until the page reloads
        librarian.reload()
        current = librarian.locator("nav.tabs a[aria-current=page]")
        assert current.get_attribute("href").endswith("status=fulfilled")

        # --- the email goes out; its link downloads the PDF ---------------------------------
        # The step wrote the email to the outbox. Send it with the worker's job body, not
        # run_worker: Redis db 15 and its queue are shared by every test run on the machine,
        # and a concurrent run may flush it or take the job (and we would take its jobs).
        with app.app_context():
            outbox_ids = db.session.execute(select(OutboxEmail.id).where(
                OutboxEmail.object_type == "delivery_request",
                OutboxEmail.object_id == str(request_id),
                OutboxEmail.kind == "delivery.fulfilled",
                OutboxEmail.to_addr == READER_EMAIL)).scalars().all()
            assert len(outbox_ids) == 1
            assert send_outbox_email(outbox_ids[0]) == "sent"
        mails = [m for m in smtp.messages if m["To"] == READER_EMAIL]
        assert len(mails) == 1
        body = mails[0].get_body(("plain",)).get_content()
        assert TITLE in body
        match = DOWNLOAD_LINK_RE.search(body)
        assert match, body
        download_path = match.group(1)  # the mail names PUBLIC_URL; the test server differs

        reader.goto(base + download_path)
        remaining = reader.locator("[data-testid=remaining]")
        assert remaining.inner_text().replace(" ", "") == "20/20"
        fits_the_phone(reader)
        screenshot(reader, "delivery-download-360")
        with reader.expect_download() as info:
            reader.click("a.button.primary[download]")
        download = info.value
        assert download.suggested_filename == f"JALA-{request_id}-{TITLE}.pdf"
        with open(download.path(), "rb") as received:
            assert received.read() == PDF
        reader.reload()
        assert remaining.inner_text().replace(" ", "") == "19/20"

        reader.goto(f"{base}/delivery/requests/{request_id}")
        assert reader.locator(".kicker [data-status=fulfilled]").is_visible()
        assert reader.locator("ol.timeline li.event-accepted").count() == 1
        assert reader.locator("ol.timeline li.event-fulfilled").count() == 1
        screenshot(reader, "delivery-request-sent-360")

        # --- once the link has expired, the page says so and leads to asking again --------
        with app.app_context():
            link_id = db.session.execute(select(DeliveryRequest.link_id).where(
                DeliveryRequest.id == request_id)).scalar_one()
            db.session.execute(update(FileLink).where(FileLink.id == link_id).values(
                expires_at=clock.now() - timedelta(minutes=1)))
            db.session.commit()
        response = reader.goto(base + download_path)
        assert response.status == 410
        assert reader.locator("main [role=alert]").is_visible()
        assert reader.locator(f"main a.button[href='/delivery/new?again={request_id}']"
                              ).is_visible()
        fits_the_phone(reader)
        screenshot(reader, "delivery-link-gone-360")
        reader.goto(base + "/delivery/requests")
        screenshot(reader, "delivery-my-requests-expired-360")
        reader.locator(f"#request-{request_id} a[href='/delivery/requests/{request_id}']").click()
        reader.wait_for_url(f"**/delivery/requests/{request_id}")
        reader.click(f"a.button[href='/delivery/new?again={request_id}']")
        reader.wait_for_url("**/delivery/new?again=*")
        assert TITLE in reader.locator("main").inner_text()  # the record's citation, as before
        assert reader.input_value("input[name=pages]") == "12-30"
        fits_the_phone(reader)
        screenshot(reader, "delivery-ask-again-360")
    finally:
        reader.context.close()
        librarian.context.close()
