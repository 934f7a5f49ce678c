"""Inbound OpenURL with the links real producers send, as Zotero and Google Scholar build them.

No OpenURL producer is published on PyPI or npm (coins-parser only splits COinS spans), so the
context objects below are written key for key as Zotero's ``Zotero.OpenURL.createContextObject``
(version 1.0) and Google Scholar's library links (0.1 style) send them.
"""
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from sqlalchemy import event, text

from jala.catalog.models import Record
from jala.extensions import csrf, db
from tests.support.catalog import import_lines
from tests.support.search import BOOKS

ARTICLE = {"source_id": "a1", "type": "article", "title": "图书馆联盟的资源共享",
           "authors": ["陈红"], "journal": "大学图书馆学报", "issn": "1002-1027", "volume": "36",
           "issue": "2", "pages": "15-21", "year": 2018,
           "doi": "10.16603/j.issn1002-1027.2018.02.003"}
NEIGHBOUR = dict(ARTICLE, source_id="a2", title="高校图书馆的阅读推广", pages="22-30",
                 doi=None)


@pytest.fixture
def catalogue(ctx):
    import_lines(BOOKS + [ARTICLE, NEIGHBOUR])
    return {r.title: r.public_id for r in db.session.query(Record)}


def zotero_book(isbn, title):
    return {"url_ver": "Z39.88-2004", "ctx_ver": "Z39.88-2004",
            "rfr_id": "info:sid/zotero.org:2", "rft_val_fmt": "info:ofi/fmt:kev:mtx:book",
            "rft.genre": "book", "rft.btitle": title, "rft.isbn": isbn}


def zotero_article(**fields):
    kev = {"url_ver": "Z39.88-2004", "ctx_ver": "Z39.88-2004",
           "rfr_id": "info:sid/zotero.org:2", "rft_val_fmt": "info:ofi/fmt:kev:mtx:journal",
           "rft.genre": "article", "rft.atitle": ARTICLE["title"],
           "rft.jtitle": ARTICLE["journal"], "rft.volume": "36", "rft.issue": "2",
           "rft.pages": "15-21", "rft.spage": "15", "rft.epage": "21", "rft.date": "2018",
           "rft.issn": "1002-1027", "rft.aulast": "陈", "rft.aufirst": "红", "rft.au": "陈红"}
    kev.update(fields)
    return {k: v for k, v in kev.items() if v is not None}


def _go(client, kev):
    response = client.get("/openurl?" + urlencode(kev))
    assert response.status_code == 303
    return response.headers["Location"]


def test_an_isbn_lands_on_the_record(client, catalogue):
    location = _go(client, zotero_book("9787040247657", "图书馆学概论"))
    assert location.endswith(f"/records/{catalogue['图书馆学概论']}")
    record_page = client.get(location)
    assert record_page.status_code == 200 and "图书馆学概论" in record_page.get_data(as_text=True)


def test_a_doi_alone_lands_on_the_article(client, catalogue):
    kev = {"url_ver": "Z39.88-2004", "rft_id": "info:doi/" + ARTICLE["doi"].upper()}
    assert _go(client, kev).endswith(f"/records/{catalogue[ARTICLE['title']]}")


def test_issn_volume_issue_and_first_page_land_on_the_article(client, catalogue):
    kev = zotero_article(**{"rft.atitle": None, "rft.au": None, "rft.aulast": None,
                            "rft.aufirst": None})
    assert _go(client, kev).endswith(f"/records/{catalogue[ARTICLE['title']]}")
    kev["rft.spage"] = "22"
    kev["rft.pages"] = "22-30"
    assert _go(client, kev).endswith(f"/records/{catalogue[NEIGHBOUR['title']]}")


def test_google_scholar_0_1_link_lands_on_the_article(client, catalogue):
    kev = {"sid": "google", "auinit": "H", "aulast": "陈", "atitle": ARTICLE["title"],
           "id": "doi:" + ARTICLE["doi"], "title": ARTICLE["journal"], "volume": "36",
           "issue": "2", "date": "2018", "spage": "15", "issn": "10021027"}
    assert _go(client, kev).endswith(f"/records/{catalogue[ARTICLE['title']]}")


def test_an_unknown_citation_becomes_a_search_for_its_title(client, catalogue):
    location = _go(client, zotero_book("9780000000002", "Nothing we hold"))
    parts = urlsplit(location)
    assert parts.path == "/search"
    assert parse_qs(parts.query)["q"] == ['"Nothing we hold"']
    assert client.get(location).status_code == 200


def test_several_matches_become_a_search(client, catalogue):
    kev = zotero_article(**{"rft.atitle": None, "rft.spage": None, "rft.pages": None,
                            "rft.volume": None, "rft.issue": None, "rft.au": None,
                            "rft.aulast": None, "rft.aufirst": None, "rft.jtitle": None})
    assert urlsplit(_go(client, kev)).path == "/search"


@pytest.mark.parametrize("query", ["", "rft.isbn=garbage", "rft_id=info:doi/", "issn=%FF%FE",
                                   "rft.date=abc&rft.spage=x&rft.volume=" + "9" * 500])
def test_garbage_is_never_an_error(client, catalogue, query):
    response = client.get("/openurl?" + query)
    assert response.status_code == 303
    assert client.get(response.headers["Location"]).status_code == 200


def _statements_run(kevs, client):
    """The SQL statements (with their parameters) that the links make the portal run."""
    statements = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))
    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        for kev in kevs:
            _go(client, kev)
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)
    return statements


@pytest.mark.parametrize(("condition", "index"), [("lower(records.doi)", "ix_records_doi_lower"),
                                                  ("records.issn &&", "ix_records_issn")])
def test_doi_and_issn_look_ups_use_an_index(client, catalogue, condition, index):
    kevs = [{"rft_id": "info:doi/10.1/none"}, zotero_article(**{"rft.atitle": None}),
            {"rft.issn": "1002-1027", "rft.genre": "journal"}]
    found = [(statement, parameters) for statement, parameters in _statements_run(kevs, client)
             if condition in statement]
    assert found
    connection = db.session.connection()
    connection.execute(text("SET LOCAL enable_seqscan = off"))
    for statement, parameters in found:
        plan = connection.exec_driver_sql("EXPLAIN " + statement, parameters).scalars().all()
        assert index in "\n".join(plan), plan


def test_only_views_that_take_a_post_are_exempt_from_csrf(app):
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if rule.endpoint.startswith("protocols.") and \
                f"{view.__module__}.{view.__name__}" in csrf._exempt_views:
            assert "POST" in rule.methods, rule.endpoint
