"""At 360 px: a reader suggests a title; it is on the alliance's buying list; a librarian of the
reader's library pledges to buy it (HTMX); the procurement centre opens a round, orders it and
receives the title into the union record with the library's holding; the reader is emailed,
searches and finds the record held at their library.
"""
import pytest
from sqlalchemy import select, text

from jala.extensions import db
from jala.jobs import OutboxEmail
from jala.membership import current_chair_library
from tests.support.browser import (
    fits_the_phone,
    log_in,
    new_phone,
    screenshot,
    small_tap_targets,
)
from tests.support.factories import add_record, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

READER_EMAIL = "e2e-joint-reader@example.edu.cn"
LIBRARIAN_EMAIL = "e2e-joint-librarian@example.edu.cn"
CENTRE_EMAIL = "e2e-joint-centre@example.edu.cn"
TITLE = "赣南客家围屋营造技艺"
ISBN = "9787539277134"
LIBRARY_NAME = "江西财经大学图书馆"


@pytest.fixture
def joint_setup(app, smtp):
    """Committed: a JXUFE reader and librarian, a centre admin, the title's record held at NCU."""
    smtp.clear()
    with app.app_context():
        reader = make_user(library="JXUFE", email=READER_EMAIL, name="围屋读者")
        librarian = make_user(library="JXUFE", roles=["librarian"], email=LIBRARIAN_EMAIL,
                              name="采访馆员乙")
        centre = make_user(library=current_chair_library().code, roles=["portal_admin"],
                           email=CENTRE_EMAIL, name="采购中心管理员")
        record = add_record("e2e-joint-weiwu", ["NCU"], title=TITLE, isbn=ISBN,
                            publisher="江西人民出版社", year=2021)
        ids = {"reader": reader.id, "record": record.id}
        secrets = {"librarian": librarian.totp_secret, "centre": centre.totp_secret}
        db.session.commit()
    yield secrets
    with app.app_context():  # the users stay (the audit log names them); the rest goes
        db.session.execute(text(
            "DELETE FROM outbox_emails WHERE to_addr = :e"), {"e": READER_EMAIL})
        titles = db.session.execute(text(
            "SELECT id, round_id FROM procurement_titles WHERE key = :k"),
            {"k": f"isbn:{ISBN}"}).all()
        for title_id, round_id in titles:
            db.session.execute(text("DELETE FROM procurement_pledges WHERE title_id = :t"),
                               {"t": title_id})
            db.session.execute(text("DELETE FROM procurement_titles WHERE id = :t"),
                               {"t": title_id})
            if round_id:
                db.session.execute(text("DELETE FROM procurement_rounds WHERE id = :r"),
                                   {"r": round_id})
        db.session.execute(text("DELETE FROM purchase_suggestions WHERE reader_id = :reader"),
                           ids)
        db.session.execute(text("DELETE FROM records WHERE id = :record"), ids)
        db.session.commit()


def test_a_suggested_title_is_pledged_bought_in_a_round_and_found_by_the_reader(
        app, live_server, browser, smtp, joint_setup):
    base = live_server
    reader, librarian, centre = new_phone(browser), new_phone(browser), new_phone(browser)
    try:
        # --- the reader suggests the title -------------------------------------------------
        log_in(reader, base, READER_EMAIL)
        reader.goto(f"{base}/purchase/suggest?title={TITLE}&isbn={ISBN}")
        reader.locator("form[action='/purchase/suggest'] button[type=submit]").click()
        reader.wait_for_url("**/purchase/suggestions")

        # --- a JXUFE librarian finds it on the buying list and pledges (HTMX) ---------------
        log_in(librarian, base, LIBRARIAN_EMAIL, joint_setup["librarian"])
        librarian.goto(f"{base}/procurement?q={TITLE}")
        line = librarian.locator("li.joint-line", has_text=TITLE)
        assert "读者荐购 1" in line.inner_text() and "需求 1 次" in line.inner_text()
        assert "围屋读者" not in librarian.locator("main").inner_text()
        line.locator("details.joint-pledge summary").click()
        line.locator("input[name=amount]").fill("168")
        fits_the_phone(librarian)
        screenshot(librarian, "joint-procurement-pledge-360")
        line.locator("button[type=submit].primary").click()
        line.locator(".joint-pledges", has_text="168.00").wait_for()
        assert "/procurement?q=" in librarian.url  # swapped in place
        assert "江西财经大学图书馆" in line.inner_text() and "JXUFE" not in line.inner_text()
        fits_the_phone(librarian)
        assert small_tap_targets(librarian, "main .joint-line button, main .joint-line summary, "
                                 "main .joint-filters select, main .joint-filters input") == []
        screenshot(librarian, "joint-procurement-buying-list-360")

        # --- the centre opens a round, orders it, receives the title -----------------------
        log_in(centre, base, CENTRE_EMAIL, joint_setup["centre"])
        centre.goto(f"{base}/procurement/rounds")
        centre.fill("input[name=name]", "2027年春季联合采购")
        centre.locator("label.joint-check", has_text=TITLE).locator("input").check()
        fits_the_phone(centre)
        screenshot(centre, "joint-procurement-new-round-360")
        centre.locator("form[action='/procurement/rounds'] button[type=submit]").click()
        centre.wait_for_url("**/procurement/rounds/*")
        assert centre.locator("[data-status=open]").inner_text() == "认购中"
        centre.locator("form[action$='/order'] button[type=submit]").click()
        centre.locator("[data-status=ordered]").wait_for()
        centre.locator("details.joint-receive summary").click()
        centre.fill("input[name=call_number]", "TU241.5/8")
        fits_the_phone(centre)
        assert small_tap_targets(centre, "main button, main summary, main input") == []
        screenshot(centre, "joint-procurement-round-ordered-360")
        centre.locator("form[action$='/receive'] button[type=submit]").click()
        centre.locator("[data-status=received]").wait_for()
        assert "已入联合目录，收藏于江西财经大学图书馆" in centre.locator("main").inner_text()
        fits_the_phone(centre)
        screenshot(centre, "joint-procurement-round-received-360")

        # --- the reader is emailed, searches at their library and finds the holding ---------
        with app.app_context():
            [mail] = db.session.execute(select(OutboxEmail).where(
                OutboxEmail.to_addr == READER_EMAIL,
                OutboxEmail.kind == "procurement.joint_received")).scalars().all()
            assert TITLE in mail.body_text and LIBRARY_NAME in mail.body_text
        reader.goto(f"{base}/search?q={TITLE}&library=JXUFE")
        hit = reader.locator("li.hit", has_text=TITLE).first
        hit.locator("a").first.click()
        reader.wait_for_url("**/records/*")
        holdings = reader.locator("#holdings").inner_text()
        assert LIBRARY_NAME in holdings and "TU241.5/8" in holdings
        fits_the_phone(reader)
        screenshot(reader, "joint-procurement-record-found-360")
    finally:
        for page in (reader, librarian, centre):
            page.context.close()
