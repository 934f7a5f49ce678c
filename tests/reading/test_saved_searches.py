"""Saved searches: a reader keeps a results page to run it again from 我的."""
import re

import pytest

from jala.errors import NotFound, RuleViolation
from jala.reading import saved_searches
from tests.support.factories import make_user
from tests.support.web import login


def test_a_saved_search_keeps_the_query_and_filters_but_not_the_page():
    kept = saved_searches.normalised("q=图书馆&page=3&per_page=50&type=book&library=NCU")
    assert kept == saved_searches.normalised("library=NCU&type=book&q=图书馆")
    assert "page" not in kept and "per_page" not in kept
    assert saved_searches.normalised("type=book") == ""


def test_saving_twice_keeps_one_and_owners_are_kept_apart(db_session):
    reader, other = make_user(), make_user(library="NCU")
    first = saved_searches.save_search(reader, "q=数字图书馆&type=book")
    again = saved_searches.save_search(reader, "type=book&q=数字图书馆&page=2")
    assert first.id == again.id and first.label == "数字图书馆"
    assert saved_searches.my_saved_searches(other) == []
    with pytest.raises(NotFound):
        saved_searches.delete_saved_search(other, first.id)
    saved_searches.delete_saved_search(reader, first.id)
    assert saved_searches.my_saved_searches(reader) == []


def test_a_search_without_words_cannot_be_saved(db_session):
    with pytest.raises(RuleViolation):
        saved_searches.save_search(make_user(), "type=book")


def test_a_reader_saves_a_search_from_the_results_and_runs_it_from_mine(client, db_session):
    reader = make_user()
    assert login(client, reader).status_code == 303
    results = client.get("/search?q=图书馆&type=article&page=2").get_data(as_text=True)
    assert "保存检索" in results
    token = re.search(r'name="csrf_token" value="([^"]+)"', results).group(1)
    saved = client.post("/searches", data={"csrf_token": token,
                                           "query": "q=图书馆&type=article&page=2"})
    assert saved.status_code == 303
    assert "q=" in saved.headers["Location"] and "page" not in saved.headers["Location"]
    mine = client.get("/me").get_data(as_text=True)
    link = re.search(r'<li class="saved-search"><a href="([^"]+)">图书馆</a>', mine)
    assert link and client.get(link.group(1).replace("&amp;", "&")).status_code == 200


def test_signed_out_readers_see_no_save_button(client):
    assert "保存检索" not in client.get("/search?q=图书馆").get_data(as_text=True)
