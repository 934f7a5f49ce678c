"""SRU requests through the test client: diagnostics, paging arithmetic, CQL read like cql-java."""
import cql
import pytest
from lxml import etree

from jala.protocols import sru
from jala.protocols.cql import Diagnostic, parse_cql
from jala.protocols.sru import engine_pages
from jala.protocols.sru_query import portal_query
from tests.support.catalog import import_lines
from tests.support.search import BOOKS

NS = {"sru": "http://docs.oasis-open.org/ns/search-ws/sruResponse",
      "srw": "http://www.loc.gov/zing/srw/",
      "d2": "http://docs.oasis-open.org/ns/search-ws/diagnostic",
      "d1": "http://www.loc.gov/zing/srw/diagnostic/"}


@pytest.fixture
def catalogue(ctx):
    import_lines(BOOKS)


def _sru(client, **args):
    response = client.get("/sru", query_string=args)
    assert response.status_code == 200, response.status_code
    return etree.fromstring(response.data)


def _diagnostic(root):
    uri = root.xpath("//d2:uri/text() | //d1:uri/text()", namespaces=NS)
    return int(uri[0].rsplit("/", 1)[1]) if uri else None


@pytest.mark.parametrize(("args", "code"), [
    ({"query": "dc.nothing = x"}, 16), ({"query": "x", "startRecord": "0"}, 6),
    ({"query": "x", "maximumRecords": "-1"}, 6), ({"query": "x", "recordSchema": "mods"}, 66),
    ({"query": "x", "version": "3.0"}, 5), ({"operation": "scan", "version": "1.2"}, 4),
    ({"operation": "searchRetrieve", "version": "1.2"}, 7),
    ({"query": "x", "recordXMLEscaping": "json"}, 71), ({"query": "x", "queryType": "xcql"}, 6),
    ({"query": "x", "stylesheet": "a.xsl"}, 110), ({"query": "a sortBy dc.title"}, 80),
    ({"query": "图书馆", "startRecord": "50"}, 61),
    ({"query": "图书馆", "startRecord": "20000"}, 61),
    ({"query": "a not (b and c)"}, 48), ({"query": "a or dc.date = 2000"}, 48),
    ({"query": "dc.date = 20xx"}, 36), ({"query": 'dc.title = ""'}, 27),
])
def test_bad_requests_get_their_diagnostic(client, catalogue, args, code):
    assert _diagnostic(_sru(client, **args)) == code


def test_version_1_2_is_answered_in_the_1_2_namespace(client, catalogue):
    root = _sru(client, version="1.2", operation="searchRetrieve", query="dc.title=图书馆")
    assert root.tag == f"{{{NS['srw']}}}searchRetrieveResponse"
    assert root.findtext("srw:version", namespaces=NS) == "1.2"


def test_paging_positions_and_next_record_position(client, catalogue):
    root = _sru(client, query="图书馆", startRecord="2", maximumRecords="2")
    assert root.findtext("sru:numberOfRecords", namespaces=NS) == "4"
    assert root.xpath("//sru:recordPosition/text()", namespaces=NS) == ["2", "3"]
    assert root.findtext("sru:nextRecordPosition", namespaces=NS) == "4"
    last = _sru(client, query="图书馆", startRecord="4", maximumRecords="2")
    assert last.find("sru:nextRecordPosition", namespaces=NS) is None
    counted = _sru(client, query="图书馆", maximumRecords="0")
    assert counted.findtext("sru:numberOfRecords", namespaces=NS) == "4"
    assert counted.find("sru:records", namespaces=NS) is None


def test_dates_narrow_the_search(client, catalogue):
    root = _sru(client, query="图书馆 and dc.date within \"2010 2016\"")
    assert root.xpath("//dc:title/text()", namespaces={
        "dc": "http://purl.org/dc/elements/1.1/"}) == ["数字图书馆的服务创新研究"]


@pytest.mark.parametrize("garbage", [
    "((((", "\\", '"\\"', "a and or b", "> = x", "dc.title =/ x", "x/y", "a = = b",
    "图书馆 " * 400, " or ".join(f"t{i}" for i in range(40)),
    "(a or b) and (c or d) and (e or f) and (g or h) and (i or j) and (k or l) and (m or n)",
])
def test_no_query_is_a_server_error(client, catalogue, garbage):
    root = _sru(client, query=garbage)
    assert root.find("sru:numberOfRecords", namespaces=NS) is not None or _diagnostic(root)


def test_a_nul_byte_is_refused_before_sru_and_never_a_server_error(client, catalogue):
    assert client.get("/sru", query_string={"query": "a\x00"}).status_code == 400


@pytest.mark.parametrize(("args", "code"), [
    ({"query": "a\x01"}, None), ({"query": "a", "startRecord": "\x01"}, 6),
    ({"query": "a", "recordSchema": "\x01"}, 66), ({"query": "a", "maximumRecords": "1\x01"}, 6),
    ({"version": "1.2", "recordPacking": "\x02"}, 71),
])
def test_control_characters_are_answered_in_well_formed_xml(client, catalogue, args, code):
    root = _sru(client, **args)
    assert _diagnostic(root) == code
    echoed = root.xpath("//sru:echoedSearchRetrieveRequest/sru:query/text()", namespaces=NS)
    assert echoed in ([], ["a"])


def test_the_fallback_answer_echoes_nothing_of_the_request(client, catalogue, monkeypatch):
    def fail(args, version):
        raise RuntimeError("broken")
    monkeypatch.setattr(sru, "search_retrieve", fail)
    root = _sru(client, query="a")
    assert _diagnostic(root) == 1
    assert root.xpath("//sru:echoedSearchRetrieveRequest/sru:query", namespaces=NS) == []


def test_a_query_far_too_long_is_refused_unread(client, catalogue):
    assert _diagnostic(_sru(client, query="a and " * 2000 + "a")) == 12


def test_parentheses_nested_too_deeply_are_a_syntax_error(client, catalogue):
    assert _diagnostic(_sru(client, query="(" * 600 + "a" + ")" * 600)) == 10


def test_engine_pages_cover_any_window():
    for offset in range(0, 250, 7):
        for count in (1, 3, 10, 37, 100):
            pages = engine_pages(offset, count)
            first = (pages[0][0] - 1) * pages[0][1]
            last = pages[-1][0] * pages[-1][1]
            assert first <= offset and offset + count <= last and len(pages) <= 2


CQL_CASES = ["a", "dc.title = x", 'dc.title any "a b" and (x or y) not z', "a prox/distance<2 b",
             "> dc = \"info:x\" dc.title = a", "a sortBy dc.date/sort.descending",
             "(a", "a and", "a = ", "a) b", '"unterminated', "dc.title =/relevant/stem x",
             "(a or b) and c"]


@pytest.mark.parametrize("query", CQL_CASES)
def test_our_cql_grammar_agrees_with_cql_parser(query):
    try:
        cql.parse(query)
        theirs = True
    except Exception:  # cql-parser's errors are of several types
        theirs = False
    try:
        parse_cql(query)
        ours = True
    except Diagnostic:
        ours = False
    assert ours == theirs


def test_cql_becomes_the_portal_query_language():
    assert portal_query('dc.title = "中国 历史" and (dc.creator any "li wang" or '
                        "bath.isbn = 9787020002207) not fish").q == \
        'title:"中国 历史" author:"li" OR author:"wang" OR isbn:"9787020002207" -"fish"'
