import pytest

from tests.support.catalog import import_lines
from tests.support.search import BOOKS


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
