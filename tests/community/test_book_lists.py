"""Book lists: made by a library's librarians from the catalogue, in order, with notes; public
once published, each book with its holdings; nobody changes another library's list."""
import re

import pytest
from sqlalchemy import select

from jala.audit import AuditEntry
from jala.community.recognition import book_lists as lists
from jala.errors import NotAllowed, NotFound, RuleViolation
from jala.extensions import db
from jala.membership import get_library
from tests.support.factories import add_record, copy_at, make_user
from tests.support.web import HTMX, as_user, main_of, post_form


@pytest.fixture
def language():
    """The rules' messages in English."""
    return "en"


@pytest.fixture
def librarian(ctx):
    """A librarian of JXUFE."""
    return make_user(library="JXUFE", roles=("librarian",), name="刘洋")


@pytest.fixture
def books(ctx):
    """Three records: one held by JXUFE (available) and NCU (on loan), two by ECJTU."""
    first = add_record("bl-1", ["JXUFE", "NCU"], title="红楼梦研究新论", authors=["周汝昌"],
                       year=2019)
    copy_at(first, "NCU").status = "on_loan"
    db.session.flush()
    return [first,
            add_record("bl-2", ["ECJTU"], title="乡土中国", authors=["费孝通"], year=2012),
            add_record("bl-3", ["ECJTU"], title="万历十五年", authors=["黄仁宇"], year=2006)]


def _list(librarian, title="读书月推荐：经典与当代"):
    return lists.create_book_list(librarian, library_id=get_library("JXUFE").id, title=title,
                                  theme="读书月", introduction="四月是**读书月**。")


def _titles(book_list):
    db.session.expire(book_list, ["entries"])
    return [entry.record.title for entry in book_list.entries]


# --- making a list --------------------------------------------------------------------------------

def test_a_librarian_builds_a_list_by_searching_the_catalogue(librarian, books):
    book_list = _list(librarian)
    _found_list, hits = lists.find_records(librarian, book_list.id, "乡土中国")
    assert hits and hits[0].id == books[1].id
    lists.add_entry(librarian, book_list.id, hits[0].id, note="社会学入门必读。")
    lists.add_entry(librarian, book_list.id, books[0].id)
    assert _titles(book_list) == ["乡土中国", "红楼梦研究新论"]
    assert book_list.entries[0].note == "社会学入门必读。" and not book_list.is_published
    with pytest.raises(RuleViolation, match="already"):
        lists.add_entry(librarian, book_list.id, books[1].id)


def test_entries_are_reordered_and_removed(librarian, books):
    book_list = _list(librarian)
    entries = [lists.add_entry(librarian, book_list.id, record.id) for record in books]
    lists.move_entry(librarian, entries[2].id, "up")
    assert _titles(book_list) == ["红楼梦研究新论", "万历十五年", "乡土中国"]
    lists.move_entry(librarian, entries[0].id, "down")
    assert _titles(book_list) == ["万历十五年", "红楼梦研究新论", "乡土中国"]
    lists.move_entry(librarian, entries[1].id, "down")  # the last stays last
    assert _titles(book_list) == ["万历十五年", "红楼梦研究新论", "乡土中国"]
    with pytest.raises(RuleViolation):
        lists.move_entry(librarian, entries[0].id, "sideways")
    lists.remove_entry(librarian, entries[0].id)
    assert _titles(book_list) == ["万历十五年", "乡土中国"]


def test_a_list_is_published_with_at_least_one_book(librarian, books):
    book_list = _list(librarian)
    with pytest.raises(RuleViolation, match="at least one"):
        lists.publish_book_list(librarian, book_list.id)
    lists.add_entry(librarian, book_list.id, books[0].id)
    lists.publish_book_list(librarian, book_list.id)
    assert book_list.is_published
    assert lists.recent_book_lists(limit=5) == [book_list]
    lists.unpublish_book_list(librarian, book_list.id)
    assert lists.recent_book_lists() == []
    actions = db.session.execute(select(AuditEntry.action).where(
        AuditEntry.object_type == "book_list").order_by(AuditEntry.id)).scalars().all()
    assert actions == ["book_list.create", "book_list.add_entry", "book_list.publish",
                       "book_list.unpublish"]


def test_the_cover_is_one_of_the_lists_books(librarian, books):
    book_list = _list(librarian)
    lists.add_entry(librarian, book_list.id, books[0].id)
    with pytest.raises(RuleViolation, match="cover"):
        lists.update_book_list(librarian, book_list.id, title="新书单",
                               cover_record_id=books[1].id)
    lists.update_book_list(librarian, book_list.id, title="新书单", cover_record_id=books[0].id)
    assert book_list.cover_record_id == books[0].id and book_list.title == "新书单"


def test_readers_make_no_lists(ctx):
    with pytest.raises(NotAllowed):
        lists.create_book_list(make_user(library="JXUFE"), library_id=get_library("JXUFE").id,
                               title="我的书单")


# --- nobody changes another library's list (IDOR) ---------------------------------------------

def test_a_librarian_of_another_library_cannot_touch_the_list(librarian, books):
    other = make_user(library="ECJTU", roles=("librarian",))
    book_list = _list(librarian)
    entry = lists.add_entry(librarian, book_list.id, books[0].id)
    with pytest.raises(NotAllowed):
        lists.create_book_list(other, library_id=get_library("JXUFE").id, title="冒名书单")
    # a draft of another library does not exist for them; a published list is not theirs
    for published in (False, True):
        if published:
            lists.publish_book_list(librarian, book_list.id)
        refusal = NotAllowed if published else NotFound
        for step in (lambda: lists.add_entry(other, book_list.id, books[1].id),
                     lambda: lists.update_book_list(other, book_list.id, title="改"),
                     lambda: lists.update_entry_note(other, entry.id, "改"),
                     lambda: lists.move_entry(other, entry.id, "down"),
                     lambda: lists.remove_entry(other, entry.id),
                     lambda: lists.publish_book_list(other, book_list.id),
                     lambda: lists.unpublish_book_list(other, book_list.id),
                     lambda: lists.delete_book_list(other, book_list.id),
                     lambda: lists.find_records(other, book_list.id, "乡土")):
            with pytest.raises(refusal):
                step()
    assert _titles(book_list) == ["红楼梦研究新论"] and book_list.title == "读书月推荐：经典与当代"


def test_the_editor_pages_refuse_another_librarian(client, librarian, books):
    other = make_user(library="ECJTU", roles=("librarian",))
    book_list = _list(librarian)
    entry = lists.add_entry(librarian, book_list.id, books[0].id)
    lists.publish_book_list(librarian, book_list.id)
    as_user(client, other)
    assert client.get(f"/booklists/{book_list.id}/edit").status_code == 403
    assert post_form(client, f"/booklists/entries/{entry.id}/remove", {}).status_code == 403
    assert post_form(client, f"/booklists/{book_list.id}/entries",
                     {"record_id": books[1].id}).status_code == 403


def test_a_draft_is_not_found_by_anyone_but_its_librarians(client, librarian, books):
    book_list = _list(librarian)
    as_user(client, make_user(library="ECJTU", roles=("librarian",)))
    assert client.get(f"/booklists/{book_list.id}").status_code == 404
    assert client.get(f"/booklists/{book_list.id}/edit").status_code == 404


# --- reading --------------------------------------------------------------------------------------

def test_the_public_page_shows_each_book_with_its_authors_and_holdings(client, librarian, books):
    book_list = _list(librarian)
    lists.add_entry(librarian, book_list.id, books[0].id, note="新红学的代表作。")
    lists.add_entry(librarian, book_list.id, books[1].id)
    lists.publish_book_list(librarian, book_list.id)
    page = main_of(client.get(f"/booklists/{book_list.id}").get_data(as_text=True))
    assert "红楼梦研究新论" in page and "周汝昌" in page and "新红学的代表作。" in page
    assert f'href="/records/{books[0].id}"' in page and f'href="/records/{books[1].id}"' in page
    # held by JXUFE (on the shelf) and NCU (on loan); the other by ECJTU
    first = page.split(f'id="entry-{book_list.entries[0].id}"')[1].split("</li>")[0]
    assert "江西财经大学" in first and "南昌大学" in first and first.count("ok-dot") == 1
    assert "华东交通大学" in page
    assert "<strong>读书月</strong>" in page  # the introduction's Markdown
    index = client.get("/booklists").get_data(as_text=True)
    assert "读书月推荐：经典与当代" in index


def test_html_and_script_in_notes_and_introduction_are_neutralised(client, librarian, books):
    book_list = lists.create_book_list(
        librarian, library_id=get_library("JXUFE").id, title="<b>书单</b>",
        introduction='<script>alert("intro")</script> [链接](javascript:alert(1))')
    lists.add_entry(librarian, book_list.id, books[0].id,
                    note='<img src=x onerror=alert(2)> <a href="javascript:alert(3)">点</a>')
    lists.publish_book_list(librarian, book_list.id)
    page = client.get(f"/booklists/{book_list.id}").get_data(as_text=True)
    assert "<script>alert" not in page and "<img src=x" not in page and "<b>书单" not in page
    assert not re.search(r"<a [^>]*href=\"javascript", page)
    assert not re.search(r"<img [^>]*onerror", page)
    assert "&lt;script&gt;" in page and "&lt;b&gt;书单&lt;/b&gt;" in page


def test_a_librarian_adds_a_found_book_with_htmx(client, librarian, books):
    book_list = _list(librarian)
    as_user(client, librarian)
    found = client.get(f"/booklists/{book_list.id}/find?q=乡土中国", headers=HTMX)
    assert found.status_code == 200 and "乡土中国" in found.get_data(as_text=True)
    added = post_form(client, f"/booklists/{book_list.id}/entries",
                      {"record_id": books[1].id, "note": "入门"}, headers=HTMX,
                      token_from=f"/booklists/{book_list.id}/edit")
    html = added.get_data(as_text=True)
    assert added.status_code == 200 and 'id="entries"' in html and "乡土中国" in html
    assert f'id="found-{books[1].id}" hx-swap-oob="true"' in html
    again = post_form(client, f"/booklists/{book_list.id}/entries", {"record_id": books[1].id},
                      headers=HTMX, token_from=f"/booklists/{book_list.id}/edit")
    assert "already" in again.get_data(as_text=True)
    assert _titles(book_list) == ["乡土中国"]


def test_the_editor_works_without_javascript(client, librarian, books):
    as_user(client, librarian)
    created = post_form(client, "/booklists/new", {
        "library_id": get_library("JXUFE").id, "title": "毕业季书单", "theme": "毕业",
        "introduction": "送给毕业生。"}, token_from="/booklists/new")
    assert created.status_code == 303
    edit = created.headers["Location"]
    page = client.get(edit + "?q=万历十五年").get_data(as_text=True)
    assert "万历十五年" in page
    list_id = int(edit.split("/")[-2])
    assert post_form(client, f"/booklists/{list_id}/entries", {"record_id": books[2].id},
                     token_from=edit).status_code == 303
    assert post_form(client, f"/booklists/{list_id}/publish", {}, token_from=edit
                     ).status_code == 303
    assert "毕业季书单" in client.get("/booklists").get_data(as_text=True)


def _in_chinese(client):
    assert post_form(client, "/language", {"lang": "zh_Hans"}).status_code == 303
    return client


def test_the_editor_calls_a_books_words_recommendation_when_adding_and_on_the_list(
        client, librarian, books):
    book_list = _list(librarian)
    lists.add_entry(librarian, book_list.id, books[0].id, note="值得一读")
    _in_chinese(as_user(client, librarian))
    page = main_of(client.get(f"/booklists/{book_list.id}/edit?q=乡土中国").get_data(as_text=True))
    assert '<summary class="button">推荐语</summary>' in page
    assert "推荐语（选填）" in page and "留言" not in page


def test_the_draft_message_shows_only_while_the_list_is_empty(client, librarian, books):
    as_user(client, librarian)
    created = post_form(client, "/booklists/new", {
        "library_id": get_library("JXUFE").id, "title": "新书单"}, token_from="/booklists/new")
    edit = created.headers["Location"]
    draft_message = "The book list is saved as a draft. Now add its books."
    assert client.get(edit).get_data(as_text=True).count(draft_message) == 1
    list_id = int(edit.split("/")[-2])
    added = post_form(client, f"/booklists/{list_id}/entries", {"record_id": books[1].id},
                      headers=HTMX, token_from=edit)
    assert added.status_code == 200 and draft_message not in added.get_data(as_text=True)
    assert draft_message not in client.get(edit).get_data(as_text=True)
