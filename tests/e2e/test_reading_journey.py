"""At 360 px: a reader finds a book (its cover in the results), swipes through its preview,
copies its GB/T 7714 citation, saves it to a list and shares the list; a stranger opens the
shared link in a fresh browser.
"""
import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from sqlalchemy import select, text

from jala.extensions import db
from jala.reading import citations, previews
from jala.reading.models import PreviewPage
from tests.support.browser import fits_the_phone, log_in, new_phone, screenshot
from tests.support.catalog import import_lines
from tests.support.factories import make_user
from tests.support.files import Upload, png

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

SOURCE_ID = "reading-e2e-1"
TITLE = "赣鄱书院志"
READER_EMAIL = "e2e-reading-reader@example.edu.cn"
LIBRARIAN_EMAIL = "e2e-reading-librarian@example.edu.cn"
SAMPLES = 4


@pytest.fixture
def reading_setup(app):
    """Committed data: a book held by NCU with a cover and sample pages, and a JXUFE reader."""
    with app.app_context():
        import_lines([{"source_id": SOURCE_ID, "type": "book", "title": TITLE,
                       "authors": ["李梦阳", "王守仁"], "year": 2019, "place": "南昌",
                       "publisher": "江西人民出版社", "isbn": "9787210000000",
                       "holdings": [{"library": "NCU", "status": "available",
                                     "call_number": "K928/7"}]}], library="NCU")
        record_id = db.session.execute(text(
            "SELECT record_id FROM source_records WHERE source_id = :s"), {"s": SOURCE_ID}
        ).scalar_one()
        librarian = make_user(library="NCU", roles=["librarian"], email=LIBRARIAN_EMAIL)
        previews.upload_preview(librarian, record_id, kind="cover",
                               upload=Upload(png(0, 300, 400, (250, 232, 200)), "cover.png"))
        for number in range(1, SAMPLES + 1):
            previews.upload_preview(librarian, record_id, kind="sample",
                                   upload=Upload(png(number, 300, 400), f"{number}.png"),
                                   caption=f"p. {number}")
        reader = make_user(library="JXUFE", email=READER_EMAIL, name="读者小王")
        reader_id = reader.id
        db.session.commit()
    yield {"record_id": record_id}
    with app.app_context():  # the users stay, as in the other journeys; the rest goes
        ids = {"r": record_id, "u": reader_id}
        db.session.execute(text("DELETE FROM saved_lists WHERE owner_id = :u"), ids)
        files = db.session.execute(select(PreviewPage.file_id).where(
            PreviewPage.record_id == record_id)).scalars().all()
        db.session.execute(text("DELETE FROM preview_pages WHERE record_id = :r"), ids)
        if files:
            db.session.execute(text("DELETE FROM stored_files WHERE id = ANY(:f)"),
                               {"f": list(files)})
        db.session.execute(text("DELETE FROM records WHERE id = :r"), ids)
        db.session.commit()


def swipe_left(page, selector, distance=200):
    """A thumb swipe from right to left over an element: real touch events, moved slowly
    and held before lifting, so the strip snaps to the next page rather than flinging."""
    # the thumb lands on the strip in the middle of the screen, not under the tab bar
    page.locator(selector).evaluate("s => s.scrollIntoView({block: 'center'})")
    box = page.locator(selector).bounding_box()
    x, y = box["x"] + box["width"] * 0.8, box["y"] + box["height"] / 2
    session = page.context.new_cdp_session(page)
    try:
        session.send("Input.dispatchTouchEvent",
                     {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
        for step in range(1, 13):
            session.send("Input.dispatchTouchEvent", {
                "type": "touchMove", "touchPoints": [{"x": x - distance * step / 12, "y": y}]})
            page.wait_for_timeout(20)
        page.wait_for_timeout(150)
        session.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    finally:
        session.detach()


def settled_scroll(page, selector):
    """The strip's scrollLeft once the snap has come to rest."""
    return page.evaluate("""sel => new Promise(done => {
        const strip = document.querySelector(sel);
        let last = -1;
        const check = () => {
            if (strip.scrollLeft === last) { done(strip.scrollLeft); }
            else { last = strip.scrollLeft; setTimeout(check, 150); }
        };
        setTimeout(check, 150);
    })""", selector)


def image_loaded(locator, timeout_ms=10_000):
    """Whether the image arrives (decoded, with a width) within the timeout: on a busy machine
    it may still be on its way when the element appears."""
    try:
        locator.page.wait_for_function("img => img.complete && img.naturalWidth > 0",
                                       arg=locator.element_handle(), timeout=timeout_ms)
        return True
    except PlaywrightTimeoutError:
        return False


def test_reader_previews_cites_saves_and_shares_on_a_phone(app, live_server, browser,
                                                          reading_setup):
    base = live_server
    record_id = reading_setup["record_id"]
    reader = new_phone(browser)
    stranger = None
    try:
        reader.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
        log_in(reader, base, READER_EMAIL)

        # --- the cover shows in the search results ---------------------------------------
        reader.goto(f"{base}/search?q={TITLE}")
        title = reader.locator(f"a.hit-title[href='/records/{record_id}']")
        hit = reader.locator(".hit", has=title)
        cover = hit.locator("a.hit-cover img")
        cover.wait_for()
        assert image_loaded(cover)
        box = cover.bounding_box()
        assert box["width"] <= 64 and box["x"] + box["width"] <= 360
        fits_the_phone(reader)
        screenshot(reader, "reading-search-cover-360")
        hit.locator("a.hit-title").click()
        reader.wait_for_url(f"**/records/{record_id}")

        # --- the preview strip: swipe to the next pages ------------------------------------
        strip = reader.locator("ol.preview-strip")
        strip.scroll_into_view_if_needed()
        pages = strip.locator("li.preview-page")
        assert pages.count() == SAMPLES + 1
        assert "1 / 5" in pages.nth(0).inner_text()
        assert image_loaded(pages.nth(0).locator("img"))
        assert pages.nth(3).locator("img").get_attribute("loading") == "lazy"
        assert settled_scroll(reader, "ol.preview-strip") == 0
        fits_the_phone(reader)
        screenshot(reader, "reading-record-preview-360")

        swipe_left(reader, "ol.preview-strip")
        first_stop = settled_scroll(reader, "ol.preview-strip")
        assert first_stop > 0
        # scroll snapping: the strip comes to rest with a page at its start edge
        offsets = strip.evaluate(
            "s => [...s.children].map(li => li.offsetLeft - s.firstElementChild.offsetLeft)")
        assert min(abs(first_stop - o) for o in offsets) <= 2
        swipe_left(reader, "ol.preview-strip")
        assert settled_scroll(reader, "ol.preview-strip") > first_stop
        shown = strip.evaluate("""s => [...s.children].findIndex(li => {
            const r = li.getBoundingClientRect(), box = s.getBoundingClientRect();
            return r.left >= box.left - 2 && r.right <= box.right + 2; })""")
        assert shown >= 2
        assert image_loaded(pages.nth(shown).locator("img"))  # the lazy image arrived
        fits_the_phone(reader)
        screenshot(reader, "reading-record-swiped-360")

        # --- tap a page: the viewer opens at that page, full width --------------------------
        pages.nth(shown).locator("a").click()
        reader.wait_for_url(re.compile(r".*/records/\d+/preview#p-\d+$"))
        target = reader.url.rsplit("#", 1)[1]
        current = reader.locator(f"li#{target}")
        current.locator("img").wait_for()
        at_start = ("id => { const li = document.getElementById(id); return Math.abs("
                    "li.getBoundingClientRect().left - "
                    "li.parentElement.getBoundingClientRect().left) < 2; }")
        reader.wait_for_function(at_start, arg=target)  # the viewer opened at the tapped page
        assert f"{shown + 1} / 5" in current.inner_text()
        assert current.bounding_box()["width"] >= 320  # one page per screen width
        swipe_left(reader, "ol.viewer-strip", distance=300)
        settled_scroll(reader, "ol.viewer-strip")
        next_page = reader.locator("ol.viewer-strip li").nth(shown + 1)
        reader.wait_for_function(at_start, arg=next_page.get_attribute("id"))
        assert image_loaded(next_page.locator("img"))
        fits_the_phone(reader)
        screenshot(reader, "reading-viewer-360")
        reader.go_back()
        reader.wait_for_url(f"**/records/{record_id}")

        # --- cite it in GB/T 7714 and copy the citation -------------------------------------
        with app.app_context():
            from jala.catalog.models import Record

            expected = citations.gbt7714(db.session.get(Record, record_id))
        assert expected == "李梦阳, 王守仁. 赣鄱书院志[M]. 南昌: 江西人民出版社, 2019."
        cite = reader.locator("details.cite-details")
        cite.locator("summary").click()
        box = cite.locator("textarea.citation-text")
        assert box.input_value() == expected
        assert box.get_attribute("readonly") is not None
        copy = cite.locator("button.copy-button")
        assert copy.is_visible()  # the script revealed it
        fits_the_phone(reader)
        copy.click()
        status = cite.locator(".copy-status")
        reader.wait_for_function("el => el.textContent.trim() !== ''",
                                 arg=status.element_handle())
        assert reader.evaluate("navigator.clipboard.readText()") == expected
        screenshot(reader, "reading-cite-360")

        # --- save it to a list (HTMX), open the list and share it --------------------------
        save_box = reader.locator(f"#save-{record_id}")
        save_box.locator("form.save-form button[type=submit]").click()
        save_box.locator(".saved-in").wait_for()
        assert reader.url.endswith(f"/records/{record_id}")  # swapped in place
        fits_the_phone(reader)
        screenshot(reader, "reading-saved-360")
        save_box.locator(".saved-in a").click()
        reader.wait_for_url(re.compile(r".*/lists/\d+$"))
        assert TITLE in reader.locator("main").inner_text()
        assert reader.locator("textarea.citation-text").input_value() == expected + "\n"
        reader.locator("#share-box form button[type=submit]").click()
        link = reader.locator("#share-box a.share-link")
        link.wait_for()
        share_url = link.get_attribute("href")
        assert re.search(r"/shared/lists/[\w-]{43}$", share_url)
        fits_the_phone(reader)
        screenshot(reader, "reading-list-shared-360")

        # --- someone else opens the link in a fresh browser: read-only ----------------------
        stranger = new_phone(browser)
        stranger.goto(share_url)
        assert stranger.locator("main h1").inner_text().startswith(
            reader.locator("main h1").inner_text().split(" (")[0])
        assert TITLE in stranger.locator("main").inner_text()
        assert stranger.locator("main form").count() == 0  # nothing to change
        assert stranger.locator("textarea.citation-text").input_value() == expected + "\n"
        assert "读者小王" not in stranger.content()
        fits_the_phone(stranger)
        screenshot(stranger, "reading-shared-list-360")
        stranger.locator(f"a[href='/records/{record_id}']").click()
        stranger.wait_for_url(f"**/records/{record_id}")
        assert stranger.locator("ol.preview-strip li").count() == SAMPLES + 1

        # --- the owner stops sharing: the link is dead --------------------------------------
        reader.locator("#share-box form button.danger").click()
        reader.locator("#share-box a.share-link").wait_for(state="detached")
        response = stranger.goto(share_url)
        assert response.status == 404
    finally:
        reader.context.close()
        if stranger is not None:
            stranger.context.close()


@pytest.fixture
def staff_setup(app):
    """Committed data: a book held by NCU, and NCU staff who is librarian and library admin."""
    with app.app_context():
        import_lines([{"source_id": "reading-e2e-2", "type": "book", "title": "景德镇陶瓷图录",
                       "year": 2021, "publisher": "江西美术出版社",
                       "holdings": [{"library": "NCU", "status": "available"}]}],
                     library="NCU")
        record_id = db.session.execute(text(
            "SELECT record_id FROM source_records WHERE source_id = 'reading-e2e-2'")
        ).scalar_one()
        staff = make_user(library="NCU", roles=["librarian", "library_admin"],
                          email="e2e-reading-staff@example.edu.cn")
        secret = staff.totp_secret
        db.session.commit()
    yield {"record_id": record_id, "totp_secret": secret}
    with app.app_context():
        ids = {"r": record_id}
        files = db.session.execute(select(PreviewPage.file_id).where(
            PreviewPage.record_id == record_id)).scalars().all()
        db.session.execute(text("DELETE FROM preview_pages WHERE record_id = :r"), ids)
        if files:
            db.session.execute(text("DELETE FROM stored_files WHERE id = ANY(:f)"),
                               {"f": list(files)})
        db.session.execute(text("DELETE FROM records WHERE id = :r"), ids)
        db.session.execute(text(
            "DELETE FROM link_resolvers WHERE library_id = "
            "(SELECT id FROM libraries WHERE code = 'NCU')"))
        db.session.commit()


def test_staff_upload_and_order_preview_pages_and_set_the_resolver_on_a_phone(
        live_server, phone, staff_setup):
    base, record_id = live_server, staff_setup["record_id"]
    log_in(phone, base, "e2e-reading-staff@example.edu.cn", staff_setup["totp_secret"])
    phone.goto(f"{base}/records/{record_id}")
    phone.click(f"a[href='/records/{record_id}/previews']")
    phone.wait_for_url(f"**/records/{record_id}/previews")
    phone.select_option("select[name=kind]", "sample")
    phone.set_input_files("input[name=files]", [
        {"name": f"{n}.png", "mimeType": "image/png", "buffer": png(n, 150, 200)}
        for n in (1, 2, 3)])
    fits_the_phone(phone)
    screenshot(phone, "reading-manage-upload-360")
    phone.click("form[enctype='multipart/form-data'] button[type=submit].primary")
    phone.wait_for_url(f"**/records/{record_id}/previews")
    items = phone.locator("#preview-admin li.preview-admin-item")
    assert items.count() == 3 and phone.locator(".flash-success").count() == 1

    # the third page moves up (HTMX swaps the list in place), then the first goes
    third_id = items.nth(2).get_attribute("id")
    items.nth(2).locator("form:has(input[value=up]) button").click()
    phone.wait_for_function(
        "id => document.querySelectorAll('#preview-admin li')[1].id === id", arg=third_id)
    phone.on("dialog", lambda dialog: dialog.accept())
    first_id = items.nth(0).get_attribute("id")
    items.nth(0).locator("button.danger").click()
    phone.locator(f"#{first_id}").wait_for(state="detached")
    assert items.count() == 2 and items.nth(0).get_attribute("id") == third_id
    fits_the_phone(phone)
    screenshot(phone, "reading-manage-list-360")

    # the library admin's resolver: the record page then leads to it first
    phone.goto(f"{base}/libraries/NCU/link-resolver")
    phone.fill("input[name=base_url]", "https://sfx.ncu.example.edu.cn/sfx")
    phone.fill("input[name=label]", "南大全文")
    fits_the_phone(phone)
    phone.click("form button[type=submit].primary")
    phone.wait_for_url("**/libraries/NCU/link-resolver")
    screenshot(phone, "reading-link-resolver-360")
    phone.goto(f"{base}/records/{record_id}")
    link = phone.locator(".full-text a.button.primary[data-resolver=NCU]")
    assert link.inner_text() == "南大全文"
    # the link is counted by the portal, then goes on to the library's resolver
    assert link.get_attribute("href") == f"/records/{record_id}/full-text/NCU"
    target = phone.request.get(f"{base}/records/{record_id}/full-text/NCU", max_redirects=0)
    assert target.status in (302, 303) and target.headers["location"].startswith(
        "https://sfx.ncu.example.edu.cn/sfx?url_ver=Z39.88-2004&")
    strip = phone.locator("ol.preview-strip li")
    assert strip.count() == 2
    fits_the_phone(phone)
    screenshot(phone, "reading-record-staff-360")
