"""中图法 on the pages: the record's class path, the search's class facet and filter, browsing."""
import re
from html import unescape

import pytest
from sqlalchemy import event, text

from jala import clock
from jala.catalog import clc
from jala.extensions import db
from tests.support.catalog import DEMO, import_file, import_lines

SHELF = [
    {"source_id": "c1", "title": "图书馆自动化系统研究", "clc": "G250.7", "year": 2019},
    {"source_id": "c2", "title": "图书馆数据库建设", "clc": "ＴＰ３１１．１３；Ｇ２５０．７６",
     "year": 2020},
    {"source_id": "c3", "title": "图书馆读者服务", "clc": "G252.1", "year": 2018},
    {"source_id": "c4", "title": "图书馆与出版", "clc": "G23", "year": 2017},
    {"source_id": "c5", "title": "图书馆建筑设计", "clc": "TU242.3", "year": 2016},
    {"source_id": "c6", "title": "图书馆史话", "year": 2015},
    {"source_id": "c7", "title": "高校图书馆发展研究", "clc": "G258.6-53", "year": 2021},
]


@pytest.fixture
def shelf(client):
    import_lines(SHELF)
    return client


def _text(response):
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", response.get_data(True))))


def _facet(body):
    return {entry["value"]: entry["count"] for entry in body["facets"]["clc"]}


def test_search_counts_the_main_classes_then_the_chosen_class_subclasses(shelf):
    body = shelf.get("/api/v1/search?q=图书馆").get_json()
    assert body["total"] == 7 and _facet(body) == {"G": 5, "T": 2}
    body = shelf.get("/api/v1/search?q=图书馆&clc=G").get_json()
    assert body["total"] == 5 and _facet(body) == {"G2": 5}
    body = shelf.get("/api/v1/search?q=图书馆&clc=G25").get_json()
    assert body["total"] == 4 and _facet(body) == {"G250": 2, "G252": 1}
    assert {hit["title"] for hit in body["hits"]} == {
        "图书馆自动化系统研究", "图书馆数据库建设", "图书馆读者服务", "高校图书馆发展研究"}


def test_filter_by_class_finds_every_number_of_a_record_and_no_neighbour(shelf):
    titles = [h["title"] for h in shelf.get("/api/v1/search?q=图书馆&clc=TP3").get_json()["hits"]]
    assert titles == ["图书馆数据库建设"]  # its second number, written in full width
    assert shelf.get("/api/v1/search?q=图书馆&clc=g2507").get_json()["total"] == 2
    assert shelf.get("/api/v1/search?q=图书馆&clc=G2").get_json()["total"] == 5
    assert shelf.get("/api/v1/search?q=图书馆&clc=TU").get_json()["total"] == 1
    assert shelf.get("/api/v1/search?q=图书馆&clc=G22").get_json()["total"] == 0


def test_class_filter_alone_browses_the_class(shelf):
    body = shelf.get("/api/v1/search?clc=G25").get_json()
    assert body["total"] == 4 and _facet(body) == {"G250": 2, "G252": 1}


def test_unknown_class_is_refused_by_the_api_and_set_aside_by_the_page(shelf):
    page = shelf.get("/search?q=图书馆&clc=L12")
    assert page.status_code == 200 and 'data-testid="set-aside"' in page.get_data(True)
    assert "“L12”" in _text(page) and re.search(r"共 ?7 ?条|7 results", _text(page))
    # last: a refusal rolls back the test's transaction, and the records with it
    assert shelf.get("/api/v1/search?q=图书馆&clc=L12").status_code == 400


def test_results_page_names_the_classes_of_the_facet_and_the_chosen_path(shelf):
    text = _text(shelf.get("/search?q=图书馆"))
    assert "G 文化、科学、教育、体育 5" in text and "T 工业技术 2" in text
    page = shelf.get("/search?q=图书馆&clc=G25")
    text = _text(page)
    assert "G2 信息与知识传播 › G25 图书馆学、图书馆事业" in text
    assert "G250 图书馆学 2" in text and "G252 读者工作 1" in text
    assert 'href="/search?q=%E5%9B%BE%E4%B9%A6%E9%A6%86&amp;clc=G250"' in page.get_data(True)


def test_record_page_shows_each_class_with_its_named_path(shelf):
    record_id = shelf.get("/api/v1/search?q=图书馆数据库建设").get_json()["hits"][0]["id"]
    page = shelf.get(f"/records/{record_id}")
    html, text = page.get_data(True), _text(page)
    assert "TP311.13 数据库理论与系统" in text  # the class beside the type
    assert ("TP311.13 工业技术 › 自动化技术、计算机技术 › 计算技术、计算机技术 › 计算机软件 › "
            "程序设计、软件工程 › 数据库理论与系统") in text
    assert "G250.76 文化、科学、教育、体育 › 信息与知识传播 › 图书馆学、图书馆事业 › 图书馆学 › " \
           "图书馆自动化" in text
    assert 'href="/search?clc=G250.7"' in html


def test_record_page_names_classes_in_english_for_english_readers(shelf):
    record_id = shelf.get("/api/v1/search?q=图书馆自动化系统研究").get_json()["hits"][0]["id"]
    text = _text(shelf.get(f"/records/{record_id}?lang=en"))
    assert "G250.7 Culture, science, education and sport › " in text
    assert "Library science › Library automation" in text


def test_browse_lists_the_22_classes_with_their_records(shelf):
    page = shelf.get("/browse/clc")
    html, text = page.get_data(True), _text(page)
    assert page.status_code == 200
    assert len(re.findall(r'<li class="card">', html)) == 22
    assert "G 文化、科学、教育、体育" in text and "Z 综合性图书" in text
    assert 'href="/search?clc=G"' in html and 'href="/browse/clc/G"' in html
    assert 'href="/browse/clc/A"' not in html  # a class with no records leads nowhere
    assert "6 records of the union catalogue carry a class number" in text or \
        "共 6 条记录标有中图分类号" in text


def test_browse_drills_down_to_the_subclasses_and_links_to_their_records(shelf):
    page = shelf.get("/browse/clc/G2")
    html, text = page.get_data(True), _text(page)
    assert "G 文化、科学、教育、体育 › G2 信息与知识传播" in text
    assert 'href="/search?clc=G25"' in html and 'href="/search?clc=G23"' in html
    assert 'href="/search?clc=G21"' not in html  # no records there: no link to none
    assert 'href="/search?clc=G2"' in html  # all of G2's records
    counts = dict(re.findall(r'href="/search\?clc=(G2\d)">(\d+)', html))
    assert counts == {"G23": "1", "G25": "4"}
    leaf = shelf.get("/browse/clc/G250.7")
    assert leaf.status_code == 200 and 'href="/search?clc=G250.7"' in leaf.get_data(True)


def test_browse_takes_a_code_as_typed_and_refuses_a_class_that_is_not(shelf):
    redirect = shelf.get("/browse/clc/ｇ２５")
    assert redirect.status_code == 301 and redirect.headers["Location"].endswith("/browse/clc/G25")
    assert shelf.get("/browse/clc/L1").status_code == 404


def test_browse_counts_the_real_cnmarc_records(client):
    import_file(DEMO / "dp2-sample_cnmarcxml.xml", "NCU")
    html = client.get("/browse/clc/F1").get_data(True)
    assert re.search(r'href="/search\?clc=F12">(\d+)', html)


def test_browse_counts_are_kept_a_few_minutes_and_new_records_show_at_once(shelf, app):
    counting = []

    def note(_conn, _cursor, statement, *_args):
        if "GROUP BY clc" in statement:
            counting.append(statement)

    def g2_counts():
        html = shelf.get("/browse/clc/G2").get_data(True)
        return dict(re.findall(r'href="/search\?clc=(G2\d)">(\d+)', html))

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        assert g2_counts() == {"G23": "1", "G25": "4"}
        db.session.execute(text("UPDATE records SET clc = 'G23' WHERE clc = 'G252.1'"))
        assert g2_counts() == {"G23": "1", "G25": "4"} and len(counting) == 1  # kept
        clock.advance(clc.COUNTS_KEPT)
        assert g2_counts() == {"G23": "2", "G25": "3"} and len(counting) == 2
        import_lines([{"source_id": "c8", "title": "图书馆与出版业", "clc": "G23"}])
        assert g2_counts() == {"G23": "3", "G25": "3"} and len(counting) == 3
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
