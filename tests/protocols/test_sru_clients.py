"""SRU against real clients on loopback: srupy speaks SRU 2.0, sruthi SRU 1.2."""
import pymarc
import pytest
import sruthi
from lxml import etree
from srupy import SRUpy

SRU_2 = "{http://docs.oasis-open.org/ns/search-ws/sruResponse}"
DC = "{http://purl.org/dc/elements/1.1/}"


@pytest.fixture(scope="module")
def sru_url(served_catalogue):
    return served_catalogue[0] + "/sru"


def _dc_titles(records):
    return [r.xml.find(f".//{DC}title").text for r in records]


def test_srupy_reads_the_explain_record_of_a_bare_get(sru_url):
    explain = dict(SRUpy(sru_url).explain())
    indexes = {name["_text"] if isinstance(name, dict) else name
               for index in explain["explain"]["indexInfo"]["index"]
               for name in [index["map"]["name"]]}
    assert {"title", "creator", "isbn", "anywhere", "serverChoice"} <= indexes


def test_srupy_pages_through_the_hits_once_each_in_sru_2(sru_url):
    records = list(SRUpy(sru_url).get_records(query="cql.anywhere = 研究", maximumRecords=150))
    links = [r.xml.find(f".//{DC}identifier").text for r in records]
    assert len(links) == len(set(links)) > 100  # srupy asks 100 at a time: two pages
    positions = [int(r.xml.find(f"{SRU_2}recordPosition").text) for r in records]
    assert positions == list(range(1, len(records) + 1))


def test_srupy_finds_titles_by_phrase(sru_url):
    titles = _dc_titles(SRUpy(sru_url).get_records(query='dc.title = "图书馆"',
                                                   maximumRecords=20))
    assert len(titles) >= 4 and all("图书馆" in title for title in titles)


def test_srupy_booleans_and_parentheses(sru_url):
    client = SRUpy(sru_url)
    both = _dc_titles(client.get_records(
        query='(dc.creator = 吴慰慈 or dc.creator = 李明) and dc.title any "概论 创新"',
        maximumRecords=10))
    assert sorted(both) == ["图书馆学概论", "数字图书馆的服务创新研究"]
    left = _dc_titles(client.get_records(query='dc.title = 图书馆 not dc.creator = 李明',
                                         maximumRecords=10))
    assert "数字图书馆的服务创新研究" not in left and "图书馆学概论" in left


def test_sruthi_speaks_sru_1_2_and_gets_marcxml(sru_url):
    records = sruthi.searchretrieve(sru_url, query="bath.isbn = 9780141439518",
                                    record_schema="marcxml")
    assert records.sru_version == "1.2" and records.count == 1
    raw = etree.tostring(next(iter(etree.fromstring(
        _raw(sru_url, "bath.isbn=9780141439518")).iter("{*}record"))).find(".//{*}recordData")[0])
    marc_schema().validate(etree.fromstring(raw))  # the Library of Congress's MARCXML schema
    marc = pymarc.parse_xml_to_array(__import__("io").BytesIO(raw))[0]
    assert marc["245"]["a"] == "Pride and prejudice"
    assert marc["020"]["a"] == "9780141439518"
    assert marc["264"]["a"] == "London"


def marc_schema():
    from tests.protocols.oai_support import schemas

    return schemas()[2]


def _raw(sru_url, query):
    import requests
    return requests.get(sru_url, params={"version": "1.2", "operation": "searchRetrieve",
                                         "query": query, "recordSchema": "marcxml"}).content


def test_sruthi_iterates_all_pages_in_sru_1_2(sru_url):
    client = sruthi.Client(sru_url, maximum_records=7)
    records = client.searchretrieve(query="cql.anywhere all \"研究\"")
    titles = [r["title"] for r in records]
    assert len(titles) == records.count > 7
    assert len(set(titles)) == len(titles)


def test_sruthi_explain_lists_the_indexes(sru_url):
    info = sruthi.explain(sru_url)
    assert {"title", "creator", "subject", "date"} <= set(info.index["dc"])
    assert {"isbn", "issn"} <= set(info.index["bath"])
    assert info.config["maximumRecords"] == 100


@pytest.mark.parametrize(("query", "code"), [
    ("dc.title = (", 10), ("dc.nothing = x", 16), ("(a or b", 13), ("a prox b", 39),
    ('dc.title = "open', 14), ("dc.title < x", 19), ("a and", 10),
])
def test_sruthi_reads_the_diagnostic_of_a_bad_query(sru_url, query, code):
    with pytest.raises(sruthi.errors.SruError, match=f"info:srw/diagnostic/1/{code},"):
        sruthi.searchretrieve(sru_url, query=query)
