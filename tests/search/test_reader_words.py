"""The results pages speak to readers: library names, words for types and languages, one h1."""
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.support.catalog import import_lines
from tests.support.search import BOOKS
from tests.support.web import LIBRARY_CODES as CODES
from tests.support.web import main_of, visible_text


@pytest.fixture
def web(client):
    import_lines(BOOKS)
    import_lines([{"source_id": "mc1", "title": "图书馆古籍保护", "language": "chi",
                   "holdings": [{"library": code} for code in ("NCU", "JXAU", "ECJTU", "JJU")]}],
                 "NCU")
    return client


def test_hits_name_the_holding_libraries_not_their_codes(web):
    page = web.get("/search?q=图书馆学概论").get_data(as_text=True)
    text = visible_text(main_of(page))
    assert "江西财经大学" in text and "南昌大学" in text
    assert not CODES.search(text), CODES.search(text)
    assert 'class="code"' not in main_of(page)


def test_a_hit_held_widely_names_two_libraries_and_links_to_the_rest(web):
    page = web.get("/search?q=图书馆古籍保护").get_data(as_text=True)
    hit = re.search(r'<li class="hit card">.*?</li>\s*</ol>', page, re.S).group(0)
    assert "4 馆收藏" in visible_text(hit) and "另 2 馆" in visible_text(hit)
    assert re.search(r'<a class="more-holders" href="/records/\d+#holdings">', hit)


def test_facets_and_chips_name_libraries_types_and_languages(web):
    page = web.get("/search?q=图书馆&library=NCU&type=book&language=zh").get_data(as_text=True)
    text = visible_text(main_of(page))
    chips = visible_text(re.search(r'<p class="chips">.*?</p>', page, re.S).group(0))
    assert "南昌大学" in chips and "图书" in chips and "中文" in chips
    assert not CODES.search(text) and not re.search(r"\b(book|article|zh|chi)\b", text)
    facets = visible_text(re.search(r'<details class="facets.*?</details>', page, re.S).group(0))
    assert "南昌大学" in facets and "中文" in facets
    assert 'href="/search?q=%E5%9B%BE%E4%B9%A6%E9%A6%86&amp;library=NCU' in page  # URLs: codes


def test_the_language_facet_counts_chi_and_zh_as_one_language(web):
    page = web.get("/search?q=图书馆").get_data(as_text=True)
    facets = visible_text(re.search(r'<details class="facets.*?</details>', page, re.S).group(0))
    assert facets.count("中文") == 1
    chinese = web.get("/api/v1/search?q=图书馆&language=zh").get_json()
    assert {h["title"] for h in chinese["hits"]} >= {"图书馆古籍保护",
                                                     "基于COVID-19疫情的高校图书馆服务调查"}


def test_english_ui_names_types_and_libraries_in_english(web):
    page = web.get("/search?q=图书馆&lang=en").get_data(as_text=True)
    text = visible_text(main_of(page))
    assert "Journal article" in text and "Jiangxi University of Finance and Economics" in text
    assert "Chinese" in text and not CODES.search(text)


@pytest.mark.parametrize("query", ["q=图书馆", "q=赣江水文资料汇编", "type=book",
                                   "q=中国发展报告&type=thesis"])
def test_results_and_no_results_pages_have_exactly_one_h1(web, query):
    page = web.get(f"/search?{query}").get_data(as_text=True)
    assert len(re.findall(r"<h1\b", page)) == 1


def test_the_h1_says_what_was_searched_and_no_timing_is_shown(web):
    page = web.get("/search?q=图书馆").get_data(as_text=True)
    assert re.search(r"<h1[^>]*>“图书馆”的检索结果</h1>", page)
    assert not re.search(r"\d ms\)", visible_text(page))
    partial = web.get("/search?q=图书馆", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert len(re.findall(r"<h1\b", partial)) == 1
    assert web.get("/api/v1/search?q=图书馆").get_json()["took_ms"] >= 0  # the API keeps it


def test_no_results_links_carry_the_query_to_delivery_and_purchase(web):
    page = web.get("/search?q=赣江水文资料汇编").get_data(as_text=True)
    card = re.search(r'<section class="card empty-results".*?</section>', page, re.S).group(0)
    links = [unescape(h) for h in re.findall(r'<a [^>]*href="([^"]*)"', card)]
    delivery = [link for link in links if link.startswith("/delivery/new")]
    assert [parse_qs(urlsplit(link).query) for link in delivery] == [{"q": ["赣江水文资料汇编"]}]
    if "procurement.suggest" in web.application.view_functions:
        purchase = [link for link in links if link.startswith("/purchase/suggest")]
        assert ["赣江水文资料汇编"] in parse_qs(urlsplit(purchase[0]).query).values()
