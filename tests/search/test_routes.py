import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask

from jala.search.routes import purchase_suggestion_url
from jala.search.suggest import take_in
from tests.support.catalog import import_lines
from tests.support.search import BOOKS
from tests.support.web import HTMX


@pytest.fixture
def web(client):
    import_lines(BOOKS)
    return client


def test_api_search_matches_the_contract(web):
    body = web.get("/api/v1/search?q=图书馆&per_page=2").get_json()
    assert set(body) >= {"total", "total_relation", "page", "hits", "facets"}
    assert body["total"] == 4 and body["total_relation"] == "eq" and body["page"] == 1
    assert len(body["hits"]) == 2
    hit = body["hits"][0]
    assert set(hit) >= {"id", "title", "authors", "year", "type", "source_id", "sources",
                        "holdings"}
    assert isinstance(hit["id"], str) and hit["title"] == "图书馆"
    assert hit["sources"] == [{"library": "JXUFE", "source_id": "b6"}]
    assert set(body["facets"]) >= {"type", "year", "library", "language", "category",
                                   "discipline"}
    assert all(set(e) == {"value", "count"} for e in body["facets"]["type"])


def test_api_repeated_type_and_library_filters(web):
    body = web.get("/api/v1/search?q=图书馆&type=book&type=thesis&library=NCU&library=JXUFE"
                   ).get_json()
    assert {h["type"] for h in body["hits"]} <= {"book", "thesis"} and body["total"] == 2


def test_api_record_has_every_field_and_holdings(web):
    record_id = web.get("/api/v1/search?q=图书馆学概论").get_json()["hits"][0]["id"]
    body = web.get(f"/api/v1/records/{record_id}").get_json()
    assert body["isbn"] == ["9787040247657"] and body["publisher"] == "国家图书馆出版社"
    assert {(h["library"], h["status"]) for h in body["holdings"]} == {
        ("JXUFE", "available"), ("NCU", "on_loan")}
    assert web.get("/api/v1/records/999999999").status_code == 404
    assert web.get("/api/v1/records/abc").get_json()["status"] == 404


@pytest.mark.parametrize("query", [
    "page=501&per_page=20", "page=0", "per_page=500", "page=abc", "sort=random",
    "library=NOWHERE", "type=spaceship", "year_from=abc"])
def test_api_refuses_bad_parameters_with_a_reason(web, query):
    response = web.get(f"/api/v1/search?q=图书馆&{query}")
    assert response.status_code == 400
    assert response.get_json()["error"]


def test_pages_go_as_deep_as_the_ten_thousandth_result(web):
    assert web.get("/api/v1/search?q=图书馆&page=500&per_page=20").status_code == 200
    assert web.get("/api/v1/search?q=图书馆&page=100&per_page=100").status_code == 200


@pytest.mark.parametrize("q", ["& | !", "'", "\\", ":*", "((", "title:", '"', "a" * 800,
                               "-", "OR", "%00", "<script>alert(1)</script>"])
def test_hostile_queries_are_answered(web, q):
    assert web.get("/api/v1/search", query_string={"q": q}).status_code == 200
    page = web.get("/search", query_string={"q": q})
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in page.get_data(as_text=True)


def test_search_page_and_htmx_partial(web):
    page = web.get("/search?q=图书馆").get_data(as_text=True)
    assert "<html" in page and "<mark>图书馆</mark>" in page
    assert 'id="results"' in page
    partial = web.get("/search?q=图书馆", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in partial and "<mark>图书馆</mark>" in partial


def test_highlight_works_on_traditional_titles(web):
    import_lines([{"source_id": "t1", "title": "圖書館自動化"}], "JJU")
    page = web.get("/search?q=图书馆自动化").get_data(as_text=True)
    assert "<mark>圖書館自動化</mark>" in page


def test_no_results_page_helps(web):
    page = web.get("/search?q=lyapunv").get_data(as_text=True)
    assert "Lyapunov stability" in page  # did you mean


def test_record_page_shows_holdings_by_library(web):
    record_id = web.get("/api/v1/search?q=图书馆学概论").get_json()["hits"][0]["id"]
    page = web.get(f"/records/{record_id}").get_data(as_text=True)
    assert "江西财经大学图书馆" in page and "G250/12" in page and "南昌大学图书馆" in page
    assert web.get("/records/0").status_code == 404


def test_opensearch_description(web):
    response = web.get("/opensearch.xml")
    assert response.mimetype == "application/opensearchdescription+xml"
    assert "{searchTerms}" in response.get_data(as_text=True)
    assert 'rel="search"' in web.get("/").get_data(as_text=True)


def _links(page):
    """The href of every link on a page, unescaped."""
    return [unescape(h) for h in re.findall(r'<a [^>]*href="([^"]*)"', page)]


def _args(link):
    return parse_qs(urlsplit(link).query)


def test_hits_only_from_a_relaxed_match_say_so_with_a_link_to_the_strict_search(web):
    page = web.get("/search?q=发站报告&lang=en").get_data(as_text=True)
    assert "中国发展报告" in page
    notice = re.search(r'<p class="notice" data-testid="partial-notice">(.*?)</p>', page, re.S)
    assert notice and "No exact match; these are partial matches." in notice.group(1)
    strict = [link for link in _links(notice.group(1)) if "strict=1" in link]
    assert len(strict) == 1 and _args(strict[0])["q"] == ["发站报告"]
    assert 'data-testid="partial-divider"' not in page  # the sentence says it for every hit

    strict_page = web.get(strict[0]).get_data(as_text=True)
    assert "中国发展报告" not in strict_page and 'data-testid="no-results"' in strict_page
    assert 'data-testid="partial-notice"' not in strict_page
    back = [link for link in _links(strict_page) if _args(link).get("q") == ["发站报告"]
            and "strict" not in _args(link)]
    assert back, "the strict page offers the partial matches again"


def test_the_sentence_is_in_chinese_by_default(web):
    page = web.get("/search?q=发站报告").get_data(as_text=True)
    assert "没有完全匹配的结果，以下是部分匹配" in page


def test_a_divider_comes_before_the_first_partial_match(web):
    import_lines([{"source_id": "p1", "title": "图书馆服务与高校发展", "year": 2020}])
    page = web.get("/search?q=高校图书馆服务").get_data(as_text=True)
    exact = page.index("基于COVID-19疫情的<mark>高校图书馆服务</mark>调查")
    divider = page.index('data-testid="partial-divider"')
    partial = page.index("图书馆服务与高校发展")
    assert exact < divider < partial
    assert 'data-testid="partial-notice"' not in page
    assert "部分匹配" in page[divider:partial]
    # the second list goes on counting from the first
    assert re.search(r'<ol class="hits" start="2">', page[divider:])


def test_no_divider_when_every_hit_matches_as_typed(web):
    page = web.get("/search?q=图书馆").get_data(as_text=True)
    assert 'data-testid="partial-divider"' not in page
    assert 'data-testid="partial-notice"' not in page


def test_api_says_which_relaxation_found_the_hits(web):
    body = web.get("/api/v1/search?q=发站报告").get_json()
    assert body["relaxed"] == ["pinyin"] and body["strict_total"] == 0
    assert [h["title"] for h in body["hits"]] == ["中国发展报告"]
    strict = web.get("/api/v1/search?q=发站报告&strict=1").get_json()
    assert strict["hits"] == [] and strict["relaxed"] == [] and strict["strict_total"] is None


def test_api_strict_total_is_null_when_nothing_was_relaxed(web):
    import_lines([{"source_id": f"n{i}", "title": f"高校图书馆服务第{i}辑"} for i in range(12)])
    body = web.get("/api/v1/search?q=高校图书馆服务").get_json()
    assert body["relaxed"] == [] and body["strict_total"] is None and body["total"] == 13


def test_api_counts_exact_hits_before_relaxed_ones(web):
    import_lines([{"source_id": "p1", "title": "图书馆服务与高校发展", "year": 2020}])
    body = web.get("/api/v1/search?q=高校图书馆服务").get_json()
    assert body["relaxed"] and body["strict_total"] == 1
    assert body["hits"][0]["title"] == "基于COVID-19疫情的高校图书馆服务调查"


def test_an_empty_box_shows_the_introduction_not_an_empty_result(web):
    page = web.get("/search?q=", headers=HTMX).get_data(as_text=True)
    assert 'data-testid="no-results"' not in page and 'data-testid="result-count"' not in page
    listed = web.get("/search?q=&type=thesis").get_data(as_text=True)
    assert "图书馆" in listed and 'data-testid="result-count"' in listed


def test_the_box_types_for_results_and_submits_for_history(web):
    page = web.get("/search?q=图书馆").get_data(as_text=True)
    form = re.search(r'<form id="site-search"[^>]*>', page).group(0)
    box = re.search(r'<input id="site-q"[^>]*>', page).group(0)
    assert 'hx-push-url="true"' in form and 'hx-sync="this:replace"' in form
    assert 'hx-replace-url="true"' in box and "hx-push-url" not in box
    assert 'delay:300ms' in box and 'hx-sync="closest form:replace"' in box
    assert 'value="图书馆"' in box
    # Back and Forward ask the server for the page: the box and the results come together
    assert re.search(r'<div id="results" hx-history="false">', page)
    restored = web.get("/search?q=图书馆", headers={**HTMX, "HX-History-Restore-Request": "true"})
    assert 'id="site-q"' in restored.get_data(as_text=True)


def test_the_form_works_without_javascript(web):
    page = web.get("/").get_data(as_text=True)
    form = re.search(r'<form id="site-search"[^>]*>', page).group(0)
    assert 'method="get"' in form and 'action="/search"' in form and "hx-get" not in form


def test_paging_links_push_history_and_show_the_top_of_the_results(web):
    import_lines([{"source_id": f"g{i}", "title": f"图书馆年鉴{i}"} for i in range(25)])
    page = web.get("/search?q=图书馆&per_page=10", headers=HTMX).get_data(as_text=True)
    pager = re.search(r'<nav class="pager".*?</nav>', page, re.S).group(0)
    link = re.search(r'<a [^>]*>', pager).group(0)
    assert 'hx-push-url="true"' in link and "show:#results:top" in link
    assert "data-focus-results" in link and "page=2" in link
    facet = re.search(r'<div class="facet">.*?<a [^>]*>', page, re.S).group(0)
    assert 'hx-push-url="true"' in facet


def test_suggestions_are_options_of_a_listbox(web):
    take_in()  # what the worker's sweeper does
    page = web.get("/search/suggest?q=图书").get_data(as_text=True)
    options = re.findall(r'<li id="(site-q-opt-\d+)" role="option" aria-selected="false" '
                         r'data-value="([^"]*)">', page)
    assert [option_id for option_id, _ in options] == ["site-q-opt-0", "site-q-opt-1",
                                                       "site-q-opt-2"]
    # the most held title first, then the subject two records share, then the other title
    assert [value for _, value in options] == ["图书馆学概论", "图书馆学", "图书馆"]
    assert page.count('class="suggestion-kind">题名<') == 2
    assert page.count('class="suggestion-kind">主题<') == 1
    assert "<html" not in page
    assert web.get("/search/suggest?q=").get_data(as_text=True).strip() == ""


def test_the_search_box_is_a_combobox_on_every_page(web):
    for path in ("/", "/search?q=图书馆"):
        page = web.get(path).get_data(as_text=True)
        box = re.search(r'<input id="site-q"[^>]*>', page).group(0)
        assert 'role="combobox"' in box and 'aria-expanded="false"' in box
        assert 'aria-controls="site-q-list"' in box and 'aria-autocomplete="list"' in box
        listbox = re.search(r'<ul id="site-q-list"[^>]*>', page).group(0)
        assert 'role="listbox"' in listbox and "hidden" in listbox
        assert 'hx-get="/search/suggest"' in listbox and "delay:150ms" in listbox
        assert 'hx-sync="this:replace"' in listbox
        assert '/static/js/search.js' in page


def test_api_suggest(web):
    take_in()
    body = web.get("/api/v1/suggest?q=图书馆学").get_json()
    assert body == {"suggestions": [{"text": "图书馆学概论", "kind": "title"},
                                    {"text": "图书馆学", "kind": "subject"}]}
    assert web.get("/api/v1/suggest?q=").get_json() == {"suggestions": []}
    assert web.get("/api/v1/suggest", query_string={"q": "a" * 5000}).status_code == 200


def test_no_results_card_offers_a_prefilled_delivery_request_and_tips(web):
    page = web.get("/search?q=赣江水文资料汇编&lang=en").get_data(as_text=True)
    card = re.search(r'<section class="card empty-results".*?</section>', page, re.S).group(0)
    delivery = [link for link in _links(card) if link.startswith("/delivery/new")]
    assert len(delivery) == 1 and _args(delivery[0]) == {"q": ["赣江水文资料汇编"]}
    assert "Use fewer words" in card and "Check the spelling" in card and "zgfzbg" in card
    assert "Remove the filters" not in card  # there are none to remove
    if "procurement.suggest" in web.application.view_functions:
        assert any(link.startswith("/purchase/suggest?") for link in _links(card))
    else:
        assert not any("/purchase/" in link for link in _links(card))


def test_no_results_card_offers_to_remove_the_filters(web):
    page = web.get("/search?q=中国发展报告&type=thesis&library=NCU").get_data(as_text=True)
    card = re.search(r'<section class="card empty-results".*?</section>', page, re.S).group(0)
    unfiltered = [link for link in _links(card) if link.startswith("/search?")
                  and _args(link).get("q") == ["中国发展报告"]]
    assert len(unfiltered) == 1 and set(_args(unfiltered[0])) == {"q"}
    assert "中国发展报告" in web.get(unfiltered[0]).get_data(as_text=True)


def test_no_results_card_has_the_did_you_mean(web):
    page = web.get("/search?q=lyapunv&strict=1&lang=en").get_data(as_text=True)
    card = re.search(r'<section class="card empty-results".*?</section>', page, re.S).group(0)
    assert "Did you mean" in card
    assert any(_args(link).get("q") == ["Lyapunov stability of nonlinear control"]
               for link in _links(card))


def test_purchase_link_only_once_procurement_takes_suggestions():
    bare = Flask(__name__)
    with bare.test_request_context():
        assert purchase_suggestion_url("量子") is None
    bare.add_url_rule("/purchase/suggest", "procurement.suggest", lambda: "")
    with bare.test_request_context():
        assert purchase_suggestion_url("量子") == "/purchase/suggest?title=%E9%87%8F%E5%AD%90"
