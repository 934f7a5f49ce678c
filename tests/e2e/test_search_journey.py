"""At 360 px: results update while typing, filters in a collapsible panel, the record page."""
import pytest
from sqlalchemy import text

from jala.extensions import db
from tests.support.browser import screenshot
from tests.support.catalog import import_lines

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

RECORDS = [
    {"source_id": "e2e-1", "title": "量子纠缠与量子通信导论", "authors": ["郭光灿"],
     "year": 2020, "isbn": "978-7-04-024765-7",
     "holdings": [{"library": "NCU", "status": "available", "call_number": "O413/88"},
                  {"library": "JXUFE", "status": "on_loan", "call_number": "O413/9"}]},
    {"source_id": "e2e-2", "type": "article", "title": "量子纠缠态的制备研究", "year": 2018,
     "holdings": [{"library": "JJU"}]},
    {"source_id": "e2e-3", "type": "article", "title": "量子计算的发展", "year": 2022},
]


@pytest.fixture
def quantum_catalog(app):
    with app.app_context():
        import_lines(RECORDS)
        db.session.commit()
    yield
    with app.app_context():
        db.session.execute(text(
            "DELETE FROM records WHERE id IN (SELECT record_id FROM source_records "
            "WHERE source_id LIKE 'e2e-%')"))
        db.session.commit()


def test_reader_searches_filters_and_opens_a_record_on_a_phone(live_server, phone,
                                                               quantum_catalog):
    phone.goto(live_server + "/search")
    box = phone.locator("#site-q")
    box.fill("量子纠缠")
    phone.locator(".hit").first.wait_for()  # results arrived through HTMX, no page load
    assert phone.url.endswith("/search?q=%E9%87%8F%E5%AD%90%E7%BA%A0%E7%BC%A0")
    assert phone.locator(".hit").count() == 2
    assert phone.locator(".hit mark").first.inner_text() == "量子纠缠"
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(phone, "search-360")

    facets = phone.locator("details.facets")
    assert not facets.evaluate("d => d.open")  # collapsed on a phone
    facets.locator("summary").click()
    facets.locator("a", has_text="NCU").click()
    phone.wait_for_url("**library=NCU**")
    phone.locator(".hit").first.wait_for()
    assert phone.locator(".hit").count() == 1

    phone.locator(".hit-title").first.click()
    phone.wait_for_url("**/records/**")
    body = phone.locator("main").inner_text()
    assert "量子纠缠与量子通信导论" in body and "O413/88" in body and "南昌大学图书馆" in body
    screenshot(phone, "record-360")


def test_pinyin_and_nothing_found_on_a_phone(live_server, phone, quantum_catalog):
    phone.goto(live_server + "/search?q=liangzi+jisuan")
    assert phone.locator(".hit-title").first.inner_text() == "量子计算的发展"
    phone.goto(live_server + "/search?q=zzzzqqqxx")
    assert phone.locator(".empty-results").is_visible()
    screenshot(phone, "no-results-360")
