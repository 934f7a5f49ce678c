"""At 360 px: results update while typing, filters in a collapsible panel, the record page;
history while typing, the suggestions, and what a search that finds nothing offers."""
from urllib.parse import quote

import pytest
from playwright.sync_api import expect
from sqlalchemy import text

from jala.extensions import db
from jala.search.suggest import take_in
from tests.support.browser import fits_the_phone, screenshot, small_tap_targets
from tests.support.catalog import import_lines
from tests.support.factories import PASSWORD, make_user

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
        take_in()  # what the worker's sweeper does for the suggestions
        db.session.commit()
    yield
    with app.app_context():
        db.session.execute(text(
            "DELETE FROM records WHERE id IN (SELECT record_id FROM source_records "
            "WHERE source_id LIKE 'e2e-%')"))
        db.session.execute(text("DELETE FROM search_suggestions WHERE text = ANY(:texts)"),
                           {"texts": [r["title"] for r in RECORDS] + ["郭光灿"]})
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
    phone.locator("#site-q-list [role=option]").first.wait_for()
    box.press("Escape")  # the suggestions close

    facets = phone.locator("details.facets")
    assert not facets.evaluate("d => d.open")  # collapsed on a phone
    facets.locator("summary").click()
    facets.locator("a", has_text="南昌大学").click()
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


def box_and_results(page):
    """The query in the box, the query the URL and the results are for, and the hit titles."""
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')")
    return (page.locator("#site-q").input_value(),
            page.evaluate("new URLSearchParams(location.search).get('q')"),
            page.locator(".hit-title").all_inner_texts())


def test_typing_gives_one_history_entry_and_back_shows_what_the_box_says(live_server, phone,
                                                                         quantum_catalog):
    phone.goto(live_server + "/search?q=" + quote("量子计算"))
    assert box_and_results(phone) == ("量子计算", "量子计算", ["量子计算的发展"])
    entries = phone.evaluate("history.length")
    searches = []
    phone.on("request", lambda r: "/search?" in r.url and searches.append(r.url))

    box = phone.locator("#site-q")
    box.select_text()
    box.press_sequentially("量子纠缠", delay=450)  # a pause after each character
    phone.wait_for_url("**q=" + quote("量子纠缠"))
    assert box_and_results(phone) == ("量子纠缠", "量子纠缠",
                                      ["量子纠缠与量子通信导论", "量子纠缠态的制备研究"])
    assert 2 <= len(searches) <= 4, "results came while typing, one request a pause at most"
    expect(phone.locator("#results-status")).to_have_text("共 2 条结果")  # for screen readers
    assert phone.evaluate("history.length") == entries + 1, "one entry for the whole query"

    box.press("Enter")  # the search typed is sent: still one entry
    phone.wait_for_function("() => document.getElementById('site-q-list').hidden")
    assert box_and_results(phone)[1] == "量子纠缠"
    assert phone.evaluate("history.length") == entries + 1
    screenshot(phone, "search-exact-360")

    phone.go_back()
    phone.wait_for_url("**q=" + quote("量子计算"))
    phone.locator(".hit-title", has_text="量子计算的发展").wait_for()
    assert box_and_results(phone) == ("量子计算", "量子计算", ["量子计算的发展"])

    phone.go_forward()
    phone.wait_for_url("**q=" + quote("量子纠缠"))
    phone.locator(".hit-title", has_text="量子纠缠态").wait_for()
    assert box_and_results(phone) == ("量子纠缠", "量子纠缠",
                                      ["量子纠缠与量子通信导论", "量子纠缠态的制备研究"])

    # a new query typed after a search was sent is a new entry; Back returns to the one before
    box.fill("量子计算的发展")
    phone.wait_for_url("**q=" + quote("量子计算的发展"))
    assert phone.evaluate("history.length") == entries + 2
    phone.go_back()
    phone.wait_for_url("**q=" + quote("量子纠缠"))
    phone.locator(".hit-title", has_text="量子纠缠态").wait_for()
    assert box_and_results(phone)[:2] == ("量子纠缠", "量子纠缠")


def test_suggestions_are_a_combobox_for_keys_and_fingers(live_server, phone, quantum_catalog):
    phone.goto(live_server + "/search")
    box = phone.locator("#site-q")
    listbox = phone.locator("#site-q-list")
    box.press_sequentially("量子纠", delay=60)
    listbox.locator("[role=option]").first.wait_for()
    assert box.get_attribute("aria-expanded") == "true"
    assert listbox.locator("[role=option]").all_inner_texts() == [
        "量子纠缠与量子通信导论\n题名", "量子纠缠态的制备研究\n题名"]
    assert small_tap_targets(phone, "#site-q-list [role=option]") == []
    phone.wait_for_url("**q=" + quote("量子纠"))  # the results came too, under the list
    assert box.get_attribute("aria-expanded") == "true"
    fits_the_phone(phone)
    screenshot(phone, "search-suggestions-360")

    box.press("ArrowDown")
    assert box.get_attribute("aria-activedescendant") == "site-q-opt-0"
    box.press("ArrowDown")
    assert box.get_attribute("aria-activedescendant") == "site-q-opt-1"
    assert listbox.locator("[aria-selected=true]").inner_text().startswith("量子纠缠态")
    box.press("Escape")
    assert listbox.is_hidden() and box.get_attribute("aria-expanded") == "false"
    assert box.get_attribute("aria-activedescendant") is None and box.input_value() == "量子纠"
    box.press("ArrowDown")  # opens the list again on the first option
    assert listbox.is_visible() and box.get_attribute("aria-activedescendant") == "site-q-opt-0"
    box.press("Enter")  # picks it and searches
    phone.wait_for_url("**q=" + quote("量子纠缠与量子通信导论"))
    assert box.input_value() == "量子纠缠与量子通信导论" and listbox.is_hidden()
    phone.locator(".hit-title", has_text="量子纠缠与量子通信导论").wait_for()

    box.fill("")
    box.press_sequentially("量子计", delay=60)
    option = listbox.locator("[role=option]", has_text="量子计算的发展")
    option.tap()  # a finger: the list stays open until the tap lands, then the search goes
    phone.wait_for_url("**q=" + quote("量子计算的发展"))
    assert box.input_value() == "量子计算的发展" and listbox.is_hidden()

    box.press_sequentially("x", delay=60)
    phone.locator("main h1, main .count").first.click()  # leaving the box closes the list
    assert listbox.is_hidden() and box.get_attribute("aria-expanded") == "false"


def test_relaxed_results_say_so_and_paging_goes_to_the_top(live_server, phone, app,
                                                           quantum_catalog):
    with app.app_context():
        import_lines([{"source_id": "e2e-photon", "title": "光子纠缠与量子信息", "year": 2016}]
                     + [{"source_id": f"e2e-page-{i}", "type": "report",
                         "title": f"量子计算年度报告第{i}卷", "year": 2000 + i}
                        for i in range(25)])
        db.session.commit()
    phone.goto(live_server + "/search?q=" + quote("纠缠量子"))
    notice = phone.locator("[data-testid=partial-notice]")
    assert "没有完全匹配的结果，以下是部分匹配" in notice.inner_text()
    fits_the_phone(phone)
    screenshot(phone, "search-relaxed-360")
    notice.locator("a").click()
    phone.wait_for_url("**strict=1**")
    phone.locator("[data-testid=no-results]").wait_for()

    phone.goto(live_server + "/search?q=" + quote("量子纠缠"))
    divider = phone.locator("[data-testid=partial-divider]")
    assert divider.inner_text() == "部分匹配"
    titles = phone.locator(".hit-title").all_inner_texts()
    assert titles[-1] == "光子纠缠与量子信息" and divider.evaluate(
        "d => d.previousElementSibling.querySelectorAll('.hit').length") == 2
    screenshot(phone, "search-divider-360")

    phone.goto(live_server + "/search?q=" + quote("量子计算年度报告"))
    entries = phone.evaluate("history.length")
    pager = phone.locator(".pager")
    assert small_tap_targets(phone, ".pager a, .sort a, .notice a") == []
    pager.locator("a").last.click()
    phone.wait_for_url("**page=2**")
    phone.wait_for_function("() => document.activeElement.classList.contains('count')")
    assert phone.evaluate("history.length") == entries + 1
    top = phone.evaluate("document.getElementById('results').getBoundingClientRect().top")
    assert -2 < top < 60, f"the new page starts at the top of the screen, not at {top} px"
    phone.go_back()
    phone.wait_for_url(lambda url: "page=2" not in url)
    phone.locator(".pager").wait_for()
    assert box_and_results(phone)[:2] == ("量子计算年度报告", "量子计算年度报告")


@pytest.fixture
def delivery_reader(app):
    email = "e2e-search-reader@example.edu.cn"
    with app.app_context():
        make_user(library="JXUFE", email=email)
        db.session.commit()
    return email


def test_a_search_that_finds_nothing_leads_to_a_prefilled_delivery_request(
        live_server, phone, delivery_reader):
    query = "鄱阳湖候鸟迁徙志"
    phone.goto(live_server + "/search?q=" + quote(query))
    card = phone.locator("[data-testid=no-results]")
    card.wait_for()
    assert small_tap_targets(phone, "[data-testid=no-results] .button") == []
    fits_the_phone(phone)
    screenshot(phone, "search-no-results-360")

    card.locator("a[href^='/delivery/new']").click()
    phone.wait_for_url("**/login**")  # readers log in first, and come back to the form
    phone.fill("input[name=email]", delivery_reader)
    phone.fill("input[name=password]", PASSWORD)
    phone.click("main form button[type=submit]")
    phone.wait_for_url("**/delivery/new**")
    assert phone.locator("input[name=title]").input_value() == query
    fits_the_phone(phone)
    screenshot(phone, "search-to-delivery-360")
