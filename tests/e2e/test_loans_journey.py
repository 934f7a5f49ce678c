"""At 360 px: a reader asks for a copy another library holds; the lending and the home library
take it through approve → ship → receive → lend → return → back → close on their queue pages
(HTMX); then the reader gets an interlibrary card and shows its QR code, which the staff of a
third library verify.

This journey commits for real on a database of its own (``private_app``), dropped afterwards:
its staff steps write to the append-only audit log, so its rows could not be removed.
"""
import re

import pytest
from sqlalchemy import select, text

from jala.accounts.models import User
from jala.extensions import db, limiter
from jala.jobs import OutboxEmail
from jala.loans.models import IllRequest, InterlibraryCard
from tests.support.browser import fits_the_phone, log_in, new_phone, screenshot, serving
from tests.support.catalog import import_lines
from tests.support.factories import make_user

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

TITLE = "鄱阳湖湿地鸟类图鉴"
READER_EMAIL = "e2e-loans-reader@example.edu.cn"
READER_NAME = "借阅读者"
STAFF = {code: f"e2e-loans-{code.lower()}@example.edu.cn" for code in ("NCU", "JXUFE", "ECJTU")}


@pytest.fixture
def loans_site(private_app):
    """A book held only by NCU; a verified JXUFE reader; librarians at NCU, JXUFE and ECJTU."""
    with private_app.app_context():
        limiter.reset()
        import_lines([{"source_id": "loans-e2e-1", "type": "book", "title": TITLE,
                       "authors": ["江西省鸟类学会"], "year": 2019,
                       "holdings": [{"library": "NCU", "status": "available",
                                     "call_number": "Q959.708/3"}]}], library="NCU")
        record_id = db.session.execute(text(
            "SELECT record_id FROM source_records WHERE source_id = 'loans-e2e-1'")).scalar_one()
        make_user(library="JXUFE", email=READER_EMAIL, name=READER_NAME)
        secrets = {code: make_user(library=code, roles=["librarian"], email=email).totp_secret
                   for code, email in STAFF.items()}
        db.session.commit()
    with serving(private_app) as base:
        yield {"base": base, "record_id": record_id, "secrets": secrets}


def step(page, request_id, action, note=None):
    """Click one step's button on a queue page and wait for HTMX to swap the item."""
    item = page.locator(f"#ill-{request_id}")
    form = item.locator(f"form[action$='/{action}']")
    if note is not None:
        form.locator("input[name=note]").fill(note)
    form.locator(f"button[data-action={action}]").click()
    form.wait_for(state="detached")
    assert page.locator(f"#ill-{request_id} [role=alert]").count() == 0


def test_an_interlibrary_loan_and_the_interlibrary_card_on_phones(private_app, browser,
                                                                   loans_site):
    base, record_id = loans_site["base"], loans_site["record_id"]
    reader, lender, home, third = (new_phone(browser) for _ in range(4))
    try:
        # --- the reader asks NCU for its copy, from the record page --------------------------
        log_in(reader, base, READER_EMAIL)
        reader.goto(f"{base}/records/{record_id}")
        row = reader.locator("#borrow li[data-library=NCU]")
        row.locator("details.action summary").click()
        row.locator("textarea[name=note]").fill("第三章")
        fits_the_phone(reader)
        screenshot(reader, "loans-record-360")
        row.locator("button[type=submit]").click()
        reader.wait_for_url(re.compile(r".*/loans/ill/\d+$"))
        request_id = int(reader.url.rsplit("/", 1)[1])
        assert reader.locator(".kicker [data-status=requested]").is_visible()
        assert reader.locator("ol.timeline li").count() == 1
        fits_the_phone(reader)
        screenshot(reader, "loans-ill-requested-360")

        # --- NCU approves and ships it ------------------------------------------------------
        log_in(lender, base, STAFF["NCU"], loans_site["secrets"]["NCU"])
        lender.goto(f"{base}/libraries/NCU/ill")
        item = lender.locator(f"#ill-{request_id}")
        assert item.locator("[data-status=requested]").is_visible()
        assert READER_NAME in item.inner_text() and "第三章" in item.inner_text()
        fits_the_phone(lender)
        screenshot(lender, "loans-lender-queue-360")
        step(lender, request_id, "approve")
        assert item.locator("[data-status=approved]").is_visible()
        step(lender, request_id, "ship", note="EMS 1180")
        assert item.locator("[data-status=shipped]").is_visible()
        assert item.locator("form").count() == 0  # the home library's turn now
        assert lender.url.endswith("/libraries/NCU/ill")  # swapped in place
        fits_the_phone(lender)
        screenshot(lender, "loans-lender-shipped-360")

        # --- JXUFE receives it, lends it to the reader, takes it back ------------------------
        log_in(home, base, STAFF["JXUFE"], loans_site["secrets"]["JXUFE"])
        home.goto(f"{base}/libraries/JXUFE/ill")
        assert home.locator(f"#ill-{request_id} [data-status=shipped]").is_visible()
        step(home, request_id, "receive")
        fits_the_phone(home)
        screenshot(home, "loans-home-received-360")
        step(home, request_id, "lend")
        assert home.locator(f"#ill-{request_id} [data-status=on_loan]").is_visible()
        assert home.locator(f"#ill-{request_id} .due").is_visible()
        reader.goto(f"{base}/loans")
        assert reader.locator(f"#my-ill-{request_id} [data-status=on_loan]").is_visible()
        fits_the_phone(reader)
        screenshot(reader, "loans-my-loans-360")
        step(home, request_id, "return")
        assert home.locator(f"#ill-{request_id} [data-status=returned]").is_visible()

        # --- NCU has it back and closes the loan --------------------------------------------
        lender.reload()  # it is NCU's turn again: back in the "our turn" list
        step(lender, request_id, "receive_back")
        step(lender, request_id, "close")
        assert lender.locator(f"#ill-{request_id} [data-status=closed]").is_visible()
        screenshot(lender, "loans-lender-closed-360")

        reader.goto(f"{base}/loans/ill/{request_id}")
        assert reader.locator(".kicker [data-status=closed]").is_visible()
        assert reader.locator("ol.timeline li").count() == 8
        assert "EMS 1180" in reader.locator("ol.timeline").inner_text()
        fits_the_phone(reader)
        screenshot(reader, "loans-ill-closed-360")
        with private_app.app_context():
            req = db.session.get(IllRequest, request_id)
            assert req.status == "closed"
            kinds = db.session.execute(select(OutboxEmail.kind).where(
                OutboxEmail.to_addr == READER_EMAIL).order_by(OutboxEmail.id)).scalars().all()
            assert kinds == ["loans.ill_approved", "loans.ill_received", "loans.ill_lent"]

        # --- the interlibrary card: apply, approved at home, shown as a QR code -------------
        reader.goto(f"{base}/loans/card")
        reader.click("form[action='/loans/card'] button[type=submit]")
        reader.wait_for_url("**/loans/card")
        assert reader.locator("[data-status=requested]").is_visible()
        home.goto(f"{base}/libraries/JXUFE/cards")
        with private_app.app_context():
            card_id = db.session.execute(select(InterlibraryCard.id).join(
                User, User.id == InterlibraryCard.reader_id).where(
                User.email == READER_EMAIL)).scalar_one()
        card_item = home.locator(f"#card-{card_id}")
        assert READER_NAME in card_item.inner_text()
        fits_the_phone(home)
        screenshot(home, "loans-card-queue-360")
        card_item.locator("button[data-action=approve]").click()
        card_item.locator("[data-status=valid]").wait_for()

        reader.reload()
        qr = reader.locator("[data-testid=card-qr] svg")
        assert qr.is_visible()
        box = qr.bounding_box()
        assert box["width"] >= 160 and box["x"] >= 0 and box["x"] + box["width"] <= 360
        code = reader.locator("[data-testid=card-code]").inner_text().strip()
        assert re.fullmatch(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){3}", code)
        fits_the_phone(reader)
        screenshot(reader, "loans-card-qr-360")

        # --- ECJTU's librarian types the code; the QR code's URL opens the same page ---------
        log_in(third, base, STAFF["ECJTU"], loans_site["secrets"]["ECJTU"])
        third.goto(f"{base}/loans/verify")
        third.fill("input[name=code]", code.lower())
        third.click("form[action='/loans/verify'] button[type=submit]")
        third.wait_for_url("**/loans/verify/*")
        result = third.locator("[data-testid=verify-result]")
        assert result.get_attribute("data-valid") == "yes"
        assert third.locator("[data-testid=verify-name]").inner_text() == READER_NAME
        assert third.locator("[data-testid=verify-loans]").inner_text() == "0"
        assert READER_EMAIL not in third.content()
        fits_the_phone(third)
        screenshot(third, "loans-verify-360")
        plain = code.replace("-", "")
        third.goto(f"{base}/loans/verify/{plain}")  # what scanning the QR code opens
        assert third.locator("[data-testid=verify-result]").get_attribute("data-valid") == "yes"

        # --- and lends the reader a book in person (union borrowing) --------------------------
        third.click("a.button[href^='/libraries/ECJTU/union']")
        third.wait_for_url("**/libraries/ECJTU/union*")
        assert third.input_value("input[name=card_code]") == code
        third.fill("input[name=item_barcode]", "ECJTU-000123")
        fits_the_phone(third)
        screenshot(third, "loans-union-desk-360")
        third.click("#union-lend button[type=submit]")
        third.wait_for_url(f"{base}/libraries/ECJTU/union")
        assert third.locator(".flash-success").count() == 1
        out = third.locator("li.queue-item", has_text="ECJTU-000123")
        assert out.locator("[data-status=on_loan]").is_visible()
        fits_the_phone(third)
        screenshot(third, "loans-union-lent-360")
        third.goto(f"{base}/loans/verify/{plain}")
        assert third.locator("[data-testid=verify-loans]").inner_text() == "1"
    finally:
        for page in (reader, lender, home, third):
            page.context.close()
