"""At 360 px: a librarian builds a book list from the catalogue (search, add with a note,
reorder, publish, all with HTMX); a reader opens it on the phone, sees where each book is held
and follows an entry to its record; the commendations page shows a year's results.
"""
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from jala.community.news.models import News
from jala.community.recognition.models import CommendationYear, Nomination
from jala.extensions import db
from jala.governance.models import AgendaItem, Meeting
from jala.membership import get_library
from tests.support.browser import fits_the_phone, log_in, new_phone, screenshot
from tests.support.catalog import import_lines
from tests.support.factories import make_user

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

LIBRARIAN_EMAIL = "e2e-booklist-librarian@example.edu.cn"
BOOKS = [("booklist-e2e-1", "赣南围屋营造技艺", "刘晓峰", ["JXUFE", "NCU"]),
         ("booklist-e2e-2", "鄱阳湖候鸟图志", "程一鸣", ["ECJTU"])]
LIST_TITLE = "四月读书月：认识江西"
NOTE = "从围屋看**客家**人的迁徙与聚居。"
YEAR = 2019  # a year no other test opens
PERSON = "欧阳书华"


@pytest.fixture
def recognition_setup(app):
    """Committed: two records, a JXUFE librarian, and 2019's published commendations."""
    with app.app_context():
        import_lines([{"source_id": source, "type": "book", "title": title, "authors": [author],
                       "year": 2018, "publisher": "江西人民出版社",
                       "holdings": [{"library": code, "status": "available"} for code in holders]}
                      for source, title, author, holders in BOOKS], library="JXUFE")
        record_ids = db.session.execute(text(
            "SELECT record_id FROM source_records WHERE source_id LIKE 'booklist-e2e-%' "
            "ORDER BY source_id")).scalars().all()
        librarian = make_user(library="JXUFE", roles=["librarian"], email=LIBRARIAN_EMAIL,
                              name="书单馆员")
        ids = {"librarian": librarian.id, "secret": librarian.totp_secret,
               **_published_commendations(librarian)}
        db.session.commit()
    yield {"record_ids": record_ids, **ids}
    with app.app_context():  # the user stays (the audit log names them); the rest goes
        db.session.execute(text("DELETE FROM book_lists WHERE created_by_id = :librarian"), ids)
        db.session.execute(text("DELETE FROM commendation_nominations WHERE year = :y"),
                           {"y": YEAR})
        db.session.execute(text("DELETE FROM commendation_years WHERE year = :y"), {"y": YEAR})
        db.session.execute(text("DELETE FROM news_items WHERE id = :news"), ids)
        # closed items are final for the portal; the test's own item goes with its meeting
        db.session.execute(text("ALTER TABLE agenda_items DISABLE TRIGGER closed_items_are_final"))
        db.session.execute(text("DELETE FROM agenda_items WHERE meeting_id = :meeting"), ids)
        db.session.execute(text("ALTER TABLE agenda_items ENABLE TRIGGER closed_items_are_final"))
        db.session.execute(text("DELETE FROM meetings WHERE id = :meeting"), ids)
        db.session.execute(text("DELETE FROM records WHERE id = ANY(:r)"), {"r": record_ids})
        db.session.commit()


def _published_commendations(author):
    """2019: one individual commended by a closed item that passed (4 of 6), published."""
    held = datetime(YEAR, 12, 10, 2, tzinfo=UTC)
    meeting = Meeting(title="2019年度委员会会议", starts_at=held, place="南昌大学图书馆",
                      status="closed", convened_via="chair", requested_by_id=author.id,
                      presiding_id=author.id, convened_at=held - timedelta(days=7),
                      closed_at=held)
    db.session.add(meeting)
    db.session.flush()
    item = AgendaItem(meeting_id=meeting.id, position=1, kind="commendation",
                      title=f"先进个人：{PERSON}", status="open")
    db.session.add(item)
    db.session.flush()
    item.yes, item.no, item.abstain, item.attending, item.passed = 4, 2, 0, 6, True
    item.status, item.closed_at = "closed", held
    news = News(category="commendation", title="2019年度先进集体、先进个人评选结果",
                body=f"- **{PERSON}**", author_id=author.id, published_at=held)
    db.session.add_all([news, CommendationYear(year=YEAR, opens_on=held.date(),
                                               closes_on=held.date(), opened_by_id=author.id)])
    db.session.flush()
    db.session.add(Nomination(year=YEAR, kind="individual", library_id=get_library("JXUFE").id,
                              person_name=PERSON, person_title="参考馆员",
                              citation="开展信息素养讲座三十场。",
                              nominating_library_id=get_library("JXUFE").id,
                              nominated_by_id=author.id, agenda_item_id=item.id))
    year = db.session.get(CommendationYear, YEAR)
    year.published_at, year.published_by_id, year.news_id = held, author.id, news.id
    db.session.flush()
    return {"meeting": meeting.id, "news": news.id}


def _add_from_the_catalogue(page, title, note=None):
    """Search the catalogue from the editor and add the first hit (HTMX swaps the books)."""
    page.fill("#bl-q", title)
    page.click("#find button[type=submit]")
    hit = page.locator(".bl-found-item", has_text=title).first
    hit.wait_for()
    if note:
        hit.locator("textarea[name=note]").fill(note)
    hit.locator("form.bl-add button[type=submit]").click()
    page.locator("#entries .bl-edit-entry", has_text=title).wait_for()
    hit.locator(".badge.ok").wait_for()  # the hit now says it is on the list


def test_a_librarian_publishes_a_book_list_and_a_reader_follows_it_to_a_record(
        app, live_server, browser, recognition_setup):
    base = live_server
    librarian = new_phone(browser)
    reader = new_phone(browser)
    try:
        # --- the librarian builds the list -------------------------------------------------
        log_in(librarian, base, LIBRARIAN_EMAIL, recognition_setup["secret"])
        librarian.goto(base + "/booklists")
        librarian.click("main a.button.primary[href='/booklists/new']")
        librarian.wait_for_url("**/booklists/new")
        librarian.fill("input[name=title]", LIST_TITLE)
        librarian.fill("input[name=theme]", "读书月")
        librarian.fill("textarea[name=introduction]", "四月是联盟的**读书月**。")
        fits_the_phone(librarian)
        librarian.click("form[action='/booklists/new'] button[type=submit]")
        librarian.wait_for_url(re.compile(r".*/booklists/\d+/edit$"))
        list_id = int(librarian.url.rstrip("/").split("/")[-2])
        edit_url = librarian.url

        _add_from_the_catalogue(librarian, BOOKS[1][1])
        _add_from_the_catalogue(librarian, BOOKS[0][1], NOTE)
        assert librarian.url == edit_url  # swapped in place
        titles = librarian.locator("#entries .bl-edit-title a")
        assert titles.all_inner_texts() == [BOOKS[1][1], BOOKS[0][1]]
        # the second book first: ↑ on it (HTMX swaps the list)
        second = librarian.locator("#entries .bl-edit-entry", has_text=BOOKS[0][1])
        second.locator("button.bl-move[aria-label]").first.click()
        librarian.wait_for_function(
            "t => document.querySelector('#entries .bl-edit-title a').textContent === t",
            arg=BOOKS[0][1])
        assert titles.all_inner_texts() == [BOOKS[0][1], BOOKS[1][1]]
        fits_the_phone(librarian)
        screenshot(librarian, "booklist-editor-360")
        librarian.click("form.bl-publish button[type=submit]")
        librarian.wait_for_url(f"**/booklists/{list_id}")
        assert librarian.locator(".flash-success").count() == 1

        # --- a reader opens it on the phone and follows the first book ------------------------
        reader.goto(base + "/booklists")
        fits_the_phone(reader)
        screenshot(reader, "booklists-360")
        reader.click(f"main a[href='/booklists/{list_id}']")
        reader.wait_for_url(f"**/booklists/{list_id}")
        entries = reader.locator(".bl-entry")
        assert entries.count() == 2
        first = entries.nth(0).inner_text()
        assert BOOKS[0][1] in first and BOOKS[0][2] in first and "客家" in first
        assert "江西财经大学" in first and "南昌大学" in first
        assert "华东交通大学" in entries.nth(1).inner_text()
        assert entries.nth(0).locator("strong", has_text="客家").count() == 1  # the note's Markdown
        fits_the_phone(reader)
        screenshot(reader, "booklist-360")
        link = entries.nth(0).locator(".bl-title a")
        box = link.bounding_box()
        assert box["height"] >= 44
        link.click()
        reader.wait_for_url(f"**/records/{recognition_setup['record_ids'][0]}")
        assert BOOKS[0][1] in reader.locator("h1").inner_text()

        # --- the commendations page shows the year's results -----------------------------------
        reader.goto(base + "/commendations")
        year = reader.locator(f"#year-{YEAR}")
        assert PERSON in year.inner_text() and "参考馆员" in year.inner_text()
        fits_the_phone(reader)
        screenshot(reader, "commendations-360")
        reader.goto(base + "/libraries/JXUFE")
        assert PERSON in reader.locator("#commendations").inner_text()
        fits_the_phone(reader)
        screenshot(reader, "library-commendations-360")
    finally:
        librarian.context.close()
        reader.context.close()
