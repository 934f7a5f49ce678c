"""SRU: explain and searchRetrieve, in SRU 2.0 and (for the clients that still speak it) 1.2.

A bare ``GET /sru`` is explain; a request with ``query`` is searchRetrieve. CQL becomes the
portal's own search (``sru_query.portal_query``) and runs on the search engine; records go
out as Dublin Core or MARCXML. Whatever is wrong with a request comes back as a diagnostic
(info:srw/diagnostic/1/…) in an HTTP 200 answer, as SRU clients expect.
"""
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app
from lxml import etree
from sqlalchemy import select

from jala.accounts.models import Library
from jala.errors import RuleViolation
from jala.extensions import db
from jala.protocols.cql import Diagnostic
from jala.protocols.oai_records import DC_NS, marc21, oai_dc
from jala.protocols.sru_query import CONTEXT_SETS, INDEXES, WORD_RELATIONS, portal_query
from jala.protocols.xml_text import xml_text
from jala.search.engine import MAX_PER_PAGE, SearchRequest, search
from jala.urls import external_url

ANSWERED_VERSION = {"1.1": "1.2", "1.2": "1.2", "2.0": "2.0"}  # asked → answered
RESPONSE_NAMESPACE = {"1.2": "http://www.loc.gov/zing/srw/",
                      "2.0": "http://docs.oasis-open.org/ns/search-ws/sruResponse"}
DIAGNOSTIC_NAMESPACE = {"1.2": "http://www.loc.gov/zing/srw/diagnostic/",
                        "2.0": "http://docs.oasis-open.org/ns/search-ws/diagnostic"}
PREFIX = {"1.2": "srw", "2.0": "sru"}
SRW_DC_NAMESPACE = "info:srw/schema/1/dc-schema"
ZEEREX_NAMESPACE = "http://explain.z3950.org/dtd/2.0/"
PRECISION = "info:srw/vocabulary/resultCountPrecision/1/"
DEFAULT_RECORDS = 10
MESSAGES = {
    1: "General system error", 4: "Unsupported operation", 5: "Unsupported version",
    6: "Unsupported parameter value", 7: "Mandatory parameter not supplied",
    10: "Query syntax error", 12: "Too many characters in query",
    13: "Invalid or unsupported use of parentheses", 14: "Invalid or unsupported use of quotes",
    16: "Unsupported index", 19: "Unsupported relation", 20: "Unsupported relation modifier",
    27: "Empty term unsupported", 36: "Term in invalid format for index or relation",
    38: "Too many boolean operators in query", 39: "Proximity not supported",
    46: "Unsupported boolean modifier", 48: "Query feature unsupported",
    61: "First record position out of range", 66: "Unknown schema for retrieval",
    71: "Unsupported record packing", 80: "Sort not supported",
    110: "Stylesheets not supported",
}


def _lxml(element):
    """An ElementTree element (OAI's record builders) as lxml, without what XML forbids."""
    return etree.fromstring(xml_text(ET.tostring(element, encoding="unicode")))


def dc_element(record, libraries):
    """A record as ``<srw_dc:dc>``: SRU's wrapper round the Dublin Core that OAI-PMH sends."""
    root = etree.Element(f"{{{SRW_DC_NAMESPACE}}}dc",
                         nsmap={"srw_dc": SRW_DC_NAMESPACE, "dc": DC_NS})
    url = external_url("catalog.record", record_id=record.public_id)
    root.extend(_lxml(oai_dc(record, url)))
    return root


def marcxml_element(record, libraries):
    """A record as MARC 21 slim, the same as OAI-PMH's marc21 (holdings in 852)."""
    url = external_url("catalog.record", record_id=record.public_id)
    return _lxml(marc21(record, url, libraries))


@dataclass(frozen=True)
class Schema:
    """A record schema: its short name, identifier, title and how a record is written in it."""

    name: str
    identifier: str
    title: str
    element: object


SCHEMAS = (Schema("dc", "info:srw/schema/1/dc-v1.1", "Dublin Core", dc_element),
           Schema("marcxml", "info:srw/schema/1/marcxml-v1.1", "MARC 21 XML", marcxml_element))
SCHEMA_NAMES = {name.lower(): schema for schema in SCHEMAS for name in (
    schema.name, schema.identifier, *(("marc21", "marc", "MARC21-xml",
                                       "http://www.loc.gov/MARC21/slim")
                                      if schema.name == "marcxml" else ("dc-v1.1",)))}


@dataclass
class Answer:
    """What one request answers, before it is written as XML."""

    version: str
    operation: str
    args: dict
    total: int = None
    exact: bool = True
    records: list = None  # [(position, record)]
    schema: Schema = None
    escaping: str = "xml"
    next_position: int = None
    diagnostic: Diagnostic = None


# --- reading the request --------------------------------------------------------------------

def _operation(args):
    operation = args.get("operation") or ("searchRetrieve" if "query" in args else "explain")
    if operation not in ("explain", "searchRetrieve"):
        raise Diagnostic(4, operation)
    return operation


def _number(args, name, default, low):
    raw = (args.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isdecimal() or int(raw) < low:
        raise Diagnostic(6, f"{name}={raw}")
    return int(raw)


def _schema(args):
    name = (args.get("recordSchema") or SCHEMAS[0].name).strip()
    schema = SCHEMA_NAMES.get(name.lower())
    if schema is None:
        raise Diagnostic(66, name)
    return schema


def _escaping(args, version):
    """How records are carried: as XML or as an escaped string."""
    if version == "2.0":
        packing = args.get("recordPacking") or "packed"
        if packing != "packed":
            raise Diagnostic(71, f"recordPacking={packing}")
        name = "recordXMLEscaping"
    else:
        name = "recordPacking"
    escaping = args.get(name) or "xml"
    if escaping not in ("xml", "string"):
        raise Diagnostic(71, f"{name}={escaping}")
    return escaping


def _check_unsupported(args):
    if (args.get("queryType") or "cql") != "cql":
        raise Diagnostic(6, f"queryType={args.get('queryType')}")
    if args.get("stylesheet"):
        raise Diagnostic(110, args.get("stylesheet"))


# --- running it -----------------------------------------------------------------------------

def engine_pages(offset, count):
    """The ``(page, per_page)`` requests that cover hits ``offset``…``offset + count - 1``.

    One page when some page size up to the engine's largest holds them all, else two.
    """
    for size in range(max(count, 1), MAX_PER_PAGE + 1):
        if offset // size == (offset + max(count, 1) - 1) // size:
            return [(offset // size + 1, size)]
    return [(offset // count + 1, count), (offset // count + 2, count)]


def _search(query, offset, count):
    """``(hits from offset, total, exact?)`` from the search engine."""
    hits, result = [], None
    pages = engine_pages(offset, count)
    for page, size in pages:
        request = SearchRequest(q=query.q, page=page, per_page=size, year_from=query.year_from,
                                year_to=query.year_to, sort=query.sort, strict=True)
        try:
            result = search(request, channel="sru")
        except RuleViolation as exc:
            raise Diagnostic(61, exc.message) from exc
        hits += result.hits
    first_on_page = (pages[0][0] - 1) * pages[0][1]
    window = hits[offset - first_on_page:offset - first_on_page + count]
    return window, result.total, result.total_relation == "eq"


def search_retrieve(args, version):
    """Run a searchRetrieve request; a Diagnostic for what cannot be run."""
    answer = Answer(version, "searchRetrieve", args)
    if not (args.get("query") or "").strip():
        raise Diagnostic(7, "query")
    start = _number(args, "startRecord", 1, 1)
    count = min(_number(args, "maximumRecords", DEFAULT_RECORDS, 0), MAX_PER_PAGE)
    answer.schema, answer.escaping = _schema(args), _escaping(args, version)
    _check_unsupported(args)
    query = portal_query(args["query"])
    hits, answer.total, answer.exact = _search(query, start - 1, count)
    if start > 1 and start > answer.total:
        answer.diagnostic = Diagnostic(61, f"startRecord={start}, numberOfRecords="
                                           f"{answer.total}")
        return answer
    answer.records = list(enumerate(hits, start=start))
    following = start + len(hits)
    if hits and following <= answer.total:
        answer.next_position = following
    return answer


def answer(args):
    """The answer to an SRU request (explain, searchRetrieve or a diagnostic)."""
    asked = (args.get("version") or "2.0").strip()
    version = ANSWERED_VERSION.get(asked, "2.0")
    operation = "searchRetrieve" if "query" in args else "explain"
    try:
        if asked not in ANSWERED_VERSION:
            raise Diagnostic(5, f"version={asked}; supported: 1.1, 1.2, 2.0")
        operation = _operation(args)
        if operation == "explain":
            return Answer(version, "explain", args, escaping=_escaping(args, version))
        return search_retrieve(args, version)
    except Diagnostic as diagnostic:
        return Answer(version, operation, args, diagnostic=diagnostic)


# --- writing it -----------------------------------------------------------------------------

def _add(parent, namespace, name, text=None):
    element = etree.SubElement(parent, f"{{{namespace}}}{name}")
    if text is not None:
        element.text = xml_text(text)  # echoed arguments and details may hold control characters
    return element


def _diagnostics(parent, answer):
    ns, diag_ns = RESPONSE_NAMESPACE[answer.version], DIAGNOSTIC_NAMESPACE[answer.version]
    diagnostic = answer.diagnostic
    holder = etree.SubElement(_add(parent, ns, "diagnostics"), f"{{{diag_ns}}}diagnostic",
                              nsmap={"diag": diag_ns})
    _add(holder, diag_ns, "uri", f"info:srw/diagnostic/1/{diagnostic.code}")
    _add(holder, diag_ns, "details", diagnostic.detail)
    _add(holder, diag_ns, "message", MESSAGES.get(diagnostic.code, MESSAGES[1]))


def _record(parent, answer, schema_identifier, position, element):
    ns = RESPONSE_NAMESPACE[answer.version]
    record = _add(parent, ns, "record")
    _add(record, ns, "recordSchema", schema_identifier)
    _add(record, ns, "recordXMLEscaping" if answer.version == "2.0" else "recordPacking",
         answer.escaping)
    data = _add(record, ns, "recordData")
    if answer.escaping == "string":
        data.text = etree.tostring(element, encoding="unicode")
    else:
        data.append(element)
    if position is not None:
        _add(record, ns, "recordPosition", position)


def _echo(parent, answer, names):
    ns = RESPONSE_NAMESPACE[answer.version]
    echo = _add(parent, ns, "echoedSearchRetrieveRequest" if answer.operation ==
                "searchRetrieve" else "echoedExplainRequest")
    _add(echo, ns, "version", answer.version)
    for name in names:
        if answer.args.get(name):
            _add(echo, ns, name, answer.args.get(name))


def _search_retrieve_xml(root, answer):
    ns = RESPONSE_NAMESPACE[answer.version]
    if answer.total is not None:
        _add(root, ns, "numberOfRecords", answer.total)
    if answer.records:
        records = _add(root, ns, "records")
        libraries = {library.id: library for library in
                     db.session.execute(select(Library)).scalars()}
        for position, record in answer.records:
            _record(records, answer, answer.schema.identifier, position,
                    answer.schema.element(record, libraries))
    if answer.next_position:
        _add(root, ns, "nextRecordPosition", answer.next_position)
    packing = "recordXMLEscaping" if answer.version == "2.0" else "recordPacking"
    _echo(root, answer, ("query", "startRecord", "maximumRecords", packing, "recordSchema"))
    if answer.diagnostic:
        _diagnostics(root, answer)
    if answer.version == "2.0" and answer.total is not None:
        _add(root, ns, "resultCountPrecision", PRECISION + ("exact" if answer.exact
                                                            else "minimum"))


def _index_info(parent):
    indexes = _add(parent, ZEEREX_NAMESPACE, "indexInfo")
    for name, identifier in CONTEXT_SETS.items():
        _add(indexes, ZEEREX_NAMESPACE, "set").attrib.update({"name": name,
                                                              "identifier": identifier})
    for context, name, field, title in INDEXES:
        index = _add(indexes, ZEEREX_NAMESPACE, "index")
        index.set("search", "true")
        _add(index, ZEEREX_NAMESPACE, "title", title).set("lang", "en")
        _add(_add(index, ZEEREX_NAMESPACE, "map"), ZEEREX_NAMESPACE, "name",
             name).set("set", context)
        config = _add(index, ZEEREX_NAMESPACE, "configInfo")
        relations = ("=", "==", "<", ">", "<=", ">=", "within") if field == "year" \
            else WORD_RELATIONS
        for relation in relations:
            _add(config, ZEEREX_NAMESPACE, "supports", relation).set("type", "relation")


def _config_info(parent):
    config = _add(parent, ZEEREX_NAMESPACE, "configInfo")
    for kind, value in (("numberOfRecords", DEFAULT_RECORDS), ("contextSet", "cql"),
                        ("index", "cql.serverChoice"), ("relation", "="),
                        ("retrieveSchema", SCHEMAS[0].name)):
        _add(config, ZEEREX_NAMESPACE, "default", value).set("type", kind)
    _add(config, ZEEREX_NAMESPACE, "setting", MAX_PER_PAGE).set("type", "maximumRecords")
    for boolean in ("and", "or", "not"):
        _add(config, ZEEREX_NAMESPACE, "supports", boolean).set("type", "booleanModifier")
    _add(config, ZEEREX_NAMESPACE, "supports", "dc.date/sort.descending").set("type", "sort")


def explain_record(version):
    """The ZeeRex record that describes this server: indexes, schemas, defaults."""
    base = urlsplit(current_app.config["PUBLIC_URL"])
    explain = etree.Element(f"{{{ZEEREX_NAMESPACE}}}explain", nsmap={"zr": ZEEREX_NAMESPACE})
    server = _add(explain, ZEEREX_NAMESPACE, "serverInfo")
    server.attrib.update({"protocol": "SRU", "version": version, "transport": base.scheme,
                          "method": "GET POST"})
    _add(server, ZEEREX_NAMESPACE, "host", base.hostname)
    _add(server, ZEEREX_NAMESPACE, "port", base.port or (443 if base.scheme == "https" else 80))
    _add(server, ZEEREX_NAMESPACE, "database", (base.path.rstrip("/") + "/sru").lstrip("/"))
    database = _add(explain, ZEEREX_NAMESPACE, "databaseInfo")
    _add(database, ZEEREX_NAMESPACE, "title", "JALA union catalogue").attrib.update(
        {"lang": "en", "primary": "true"})
    _add(database, ZEEREX_NAMESPACE, "title", "江西高校图书馆联盟联合目录").set("lang", "zh")
    _add(database, ZEEREX_NAMESPACE, "description",
         "The union catalogue of the Jiangxi Academic Library Alliance.").set("lang", "en")
    _index_info(explain)
    schemas = _add(explain, ZEEREX_NAMESPACE, "schemaInfo")
    for schema in SCHEMAS:
        element = _add(schemas, ZEEREX_NAMESPACE, "schema")
        element.attrib.update({"identifier": schema.identifier, "name": schema.name,
                               "retrieve": "true"})
        _add(element, ZEEREX_NAMESPACE, "title", schema.title).set("lang", "en")
    _config_info(explain)
    return explain


def to_xml(answer):
    """The answer as an SRU response document (bytes)."""
    ns = RESPONSE_NAMESPACE[answer.version]
    name = "searchRetrieveResponse" if answer.operation == "searchRetrieve" else \
        "explainResponse"
    root = etree.Element(f"{{{ns}}}{name}", nsmap={PREFIX[answer.version]: ns})
    _add(root, ns, "version", answer.version)
    if answer.operation == "searchRetrieve":
        _search_retrieve_xml(root, answer)
    else:
        if answer.diagnostic is None:
            _record(root, answer, ZEEREX_NAMESPACE, None, explain_record(answer.version))
        packing = "recordXMLEscaping" if answer.version == "2.0" else "recordPacking"
        _echo(root, answer, (packing,))
        if answer.diagnostic:
            _diagnostics(root, answer)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
