"""The search page reads a hand-edited or old address the way a reader meant it: what it cannot
use is left out and named in a sentence, never a bare error page (the API stays strict)."""
import pytest

from tests.support.catalog import import_lines
from tests.support.search import BOOKS
from tests.support.web import main_of, visible_text


@pytest.fixture
def web(client):
    import_lines(BOOKS)
    return client


@pytest.mark.parametrize("extra, named", [
    ("page=abc", "页码 “abc”"), ("year_from=20o5", "起始年 “20o5”"),
    ("library=XYZ", "图书馆 “XYZ”"), ("type=spaceship", "文献类型 “spaceship”"),
    ("sort=random", "排序 “random”"), ("per_page=500", "每页条数 “500”")])
def test_a_value_the_search_cannot_use_is_left_out_and_named(web, extra, named):
    response = web.get(f"/search?q=图书馆&{extra}")
    assert response.status_code == 200
    text = visible_text(main_of(response.get_data(as_text=True)))
    assert "以下条件无法识别，本次检索已忽略" in text and named in text
    assert "条结果" in text  # the search itself ran
    assert web.get(f"/api/v1/search?q=图书馆&{extra}").status_code == 400


def test_a_page_past_what_can_be_paged_is_a_sentence_on_the_search_page(web):
    response = web.get("/search?q=图书馆&page=600&per_page=20")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="site-q"' in page and page.count("<h1") == 1
    assert "回到第一页" in visible_text(main_of(page))


def test_a_page_past_the_last_says_so_and_links_to_the_last(web):
    text = visible_text(main_of(web.get("/search?q=图书馆&page=99").get_data(as_text=True)))
    assert "没有第 99 页" in text and "转到最后一页" in text


def test_one_year_is_one_chip_and_a_range_reads_as_one(web):
    one = visible_text(main_of(web.get("/search?q=图书馆&year_from=2007&year_to=2007")
                               .get_data(as_text=True)))
    assert one.count("2007 年 ✕") == 1 and "2007 ✕" not in one
    span = visible_text(main_of(web.get("/search?q=图书馆&year_from=1990&year_to=1995")
                                .get_data(as_text=True)))
    assert "1990–1995 年 ✕" in span
