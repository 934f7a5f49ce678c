"""The record page speaks to readers; the raw record (原始记录) is for library staff only."""
import re

import pytest

from tests.support.factories import add_record, make_portal_admin, make_user
from tests.support.web import LIBRARY_CODES as CODES
from tests.support.web import login, main_of, visible_text


@pytest.fixture
def book(client):
    return add_record("rp-1", ["NCU", "JXAU"], title="江西方志研究", language="chi",
                      series="江西文化丛书", notes="据馆藏原书影印。",
                      authors_pinyin=["Li Ming"])


def test_a_reader_sees_words_for_type_language_and_status(client, book):
    page = client.get(f"/records/{book.id}").get_data(as_text=True)
    text = visible_text(main_of(page))
    assert "图书" in text and "中文" in text and "可借" in text
    assert not re.search(r"\b(book|chi|available)\b", text)
    assert "南昌大学图书馆" in text and "江西农业大学图书馆" in text
    assert not CODES.search(text)
    assert "江西文化丛书" in text  # the series is for readers


def test_the_record_page_shows_english_words_in_the_english_ui(client, book):
    page = client.get(f"/records/{book.id}?lang=en").get_data(as_text=True)
    text = visible_text(main_of(page))
    assert "Book" in text and "Chinese" in text and "available" in text
    assert "Nanchang University Library" in text


def test_a_reader_sees_no_source_ids_notes_or_raw_json(client, book):
    reader = make_user(library="NCU")
    for who in (None, reader):
        if who:
            login(client, who)
        page = main_of(client.get(f"/records/{book.id}").get_data(as_text=True))
        assert "rp-1" not in page and "据馆藏原书影印" not in page and "Li Ming" not in page
        assert "/api/v1/records/" not in page and "/raw" not in page
        assert 'class="code"' not in page and "原始记录" not in page
    assert client.get(f"/records/{book.id}/raw").status_code == 403


def test_a_visitor_asking_for_the_raw_record_is_sent_to_log_in(client, book):
    response = client.get(f"/records/{book.id}/raw")
    assert response.status_code in (302, 303) and "/login" in response.headers["Location"]


def test_committee_members_are_not_library_staff_for_the_raw_record(client, book):
    member = make_user(library="NCU", roles=("committee_member",))
    login(client, member)
    assert client.get(f"/records/{book.id}/raw").status_code == 403


@pytest.mark.parametrize("staff", [lambda: make_user(library="JXUFE", roles=("librarian",)),
                                   lambda: make_user(library="NCU", roles=("library_admin",)),
                                   make_portal_admin])
def test_staff_open_the_raw_record_from_the_record_page(client, book, staff):
    login(client, staff())
    page = client.get(f"/records/{book.id}").get_data(as_text=True)
    assert f'href="/records/{book.id}/raw"' in page and "原始记录" in page
    raw = client.get(f"/records/{book.id}/raw").get_data(as_text=True)
    assert len(re.findall(r"<h1\b", raw)) == 1 and "原始记录" in raw
    assert "rp-1" in raw and "据馆藏原书影印" in raw and "南昌大学图书馆" in raw
    assert f'href="/api/v1/records/{book.id}"' in raw
    assert "\\u" not in raw  # Chinese as Chinese, not escapes
