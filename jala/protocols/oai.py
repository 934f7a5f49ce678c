"""The OAI-PMH 2.0 provider: the six verbs over the union catalogue, one set per library.

Lists walk the records in (datestamp, id) order from where the last page stopped (keyset), so
a record inserted or changed during a harvest never shifts a page. A list is also frozen at
its first page: it holds what had changed up to then, less ``OAI_SETTLE_SECONDS`` (an import
stamps a batch before it commits it, and a list must not step past rows not committed yet);
what changes later is in the next incremental harvest. The resumption token carries that
state, signed: a token we did not issue, or one past its expiry, is a badResumptionToken.

Deleted records are persistent: a record deleted from the catalogue, or one that leaves a
library's set (the library no longer holds a copy), is kept as a tombstone in
``oai_deletions`` by a trigger on ``records`` (see the migration), whatever path removed it.
"""
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select, text

from jala import clock
from jala.accounts.models import Library
from jala.catalog.models import Record
from jala.extensions import db
from jala.protocols.oai_records import METADATA_FORMATS, XSI_NS, marc21, oai_dc
from jala.protocols.xml_text import xml_text

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
OAI_SCHEMA = "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
PAGE_SIZE = 200
# a list's first page counts its items up to this many; a longer list has no completeListSize
COUNT_LIMIT = 10_000
TOKEN_LIFETIME = timedelta(hours=24)
SETTLE_SECONDS = 60

# the arguments each verb takes: (required, optional); a resumptionToken goes alone
VERBS = {
    "Identify": ((), ()),
    "ListMetadataFormats": ((), ("identifier",)),
    "ListSets": ((), ()),
    "ListIdentifiers": (("metadataPrefix",), ("from", "until", "set")),
    "ListRecords": (("metadataPrefix",), ("from", "until", "set")),
    "GetRecord": (("identifier", "metadataPrefix"), ()),
}
RESUMABLE = ("ListSets", "ListIdentifiers", "ListRecords")
DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SECOND_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")

for _prefix, _namespace in (("", OAI_NS), ("xsi", XSI_NS),
                            ("oai_dc", METADATA_FORMATS["oai_dc"][0]),
                            ("dc", "http://purl.org/dc/elements/1.1/"),
                            ("marc", METADATA_FORMATS["marc21"][0])):
    ET.register_namespace(_prefix, _namespace)


class OaiError(Exception):
    """An OAI-PMH error condition: its code and a message for the harvester's log."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class ListState:
    """Where a list stands: its arguments, its frozen end, and the last item sent."""

    verb: str
    prefix: str | None
    set_spec: str | None
    start: datetime | None
    end: datetime  # exclusive: until's end, or the list's frozen end
    after: tuple | None = None  # (datestamp, id) of the last item sent
    cursor: int = 0
    total: int | None = None


def base_url():
    """The provider's base URL on ``PUBLIC_URL``."""
    return current_app.config["PUBLIC_URL"].rstrip("/") + "/oai"


def repository_host():
    """The host part of our OAI identifiers (``oai:<host>:<record id>``)."""
    return urlsplit(current_app.config["PUBLIC_URL"]).hostname or "localhost"


def oai_identifier(record_id):
    return f"oai:{repository_host()}:{record_id}"


def datestamp(moment):
    """A datestamp at seconds granularity, UTC."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def respond(arguments):
    """The OAI-PMH response (bytes) to a request's arguments (a MultiDict)."""
    root = ET.Element(f"{{{OAI_NS}}}OAI-PMH",
                      {f"{{{XSI_NS}}}schemaLocation": f"{OAI_NS} {OAI_SCHEMA}"})
    ET.SubElement(root, f"{{{OAI_NS}}}responseDate").text = datestamp(clock.now())
    request_element = ET.SubElement(root, f"{{{OAI_NS}}}request")
    request_element.text = base_url()
    try:
        verb, args = check_arguments(arguments)
        # the request's arguments are echoed only when they are legal
        request_element.attrib.update({"verb": verb, **args})
        root.append(VERB_HANDLERS[verb](args))
    except OaiError as error:
        if error.code in ("badVerb", "badArgument"):
            request_element.attrib.clear()
        ET.SubElement(root, f"{{{OAI_NS}}}error", code=error.code).text = error.message
    _drop_non_xml_characters(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _drop_non_xml_characters(root):
    """Drop from every text and attribute the characters XML 1.0 cannot carry.

    Imported records (and error messages naming arguments) may hold control characters,
    which ElementTree writes as they are: the answer would not be well-formed XML.
    """
    for element in root.iter():
        if element.text:
            element.text = xml_text(element.text)
        for name, value in element.attrib.items():
            element.set(name, xml_text(value))


def check_arguments(arguments):
    """``(verb, {name: value})`` of a legal request, or the OaiError it deserves."""
    verbs = arguments.getlist("verb")
    if len(verbs) != 1 or verbs[0] not in VERBS:
        raise OaiError("badVerb", "The verb is missing, repeated or not an OAI-PMH verb.")
    verb = verbs[0]
    args = {}
    for name in arguments:
        if name == "verb":
            continue
        values = arguments.getlist(name)
        if len(values) != 1:
            raise OaiError("badArgument", f"The argument {name} is repeated.")
        if xml_text(values[0]) != values[0]:
            raise OaiError("badArgument", f"The argument {name} holds characters XML "
                                          "cannot carry.")
        args[name] = values[0]
    required, optional = VERBS[verb]
    if "resumptionToken" in args and verb in RESUMABLE:
        if len(args) != 1:
            raise OaiError("badArgument", "A resumptionToken goes alone with its verb.")
        return verb, args
    unknown = set(args) - set(required) - set(optional)
    if unknown:
        raise OaiError("badArgument", f"{verb} does not take {', '.join(sorted(unknown))}.")
    missing = [name for name in required if not args.get(name)]
    if missing:
        raise OaiError("badArgument", f"{verb} needs {', '.join(missing)}.")
    return verb, args


def parse_date_range(start, until):
    """``(start, end exclusive)`` of from/until at day or seconds granularity, same for both."""
    bounds = []
    for value in (start, until):
        if value is None:
            bounds.append(None)
            continue
        try:
            if DAY_RE.match(value):
                moment = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
                bounds.append((moment, timedelta(days=1), "day"))
            elif SECOND_RE.match(value):
                moment = datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
                bounds.append((moment, timedelta(seconds=1), "second"))
            else:
                raise ValueError(value)
        except ValueError as exc:
            raise OaiError("badArgument", f"{value} is not a date (YYYY-MM-DD or "
                                          "YYYY-MM-DDThh:mm:ssZ).") from exc
    if all(bounds) and bounds[0][2] != bounds[1][2]:
        raise OaiError("badArgument", "from and until must have the same granularity.")
    if all(bounds) and bounds[0][0] > bounds[1][0]:
        raise OaiError("badArgument", "from is later than until.")
    return (bounds[0][0] if bounds[0] else None,
            _end_of(*bounds[1][:2]) if bounds[1] else None)


def _end_of(moment, granularity):
    """The exclusive end of an until: the next day or second, or the end of time."""
    try:
        return moment + granularity
    except OverflowError:  # until=9999-12-31: nothing can be later
        return datetime.max.replace(tzinfo=UTC)


# --- resumption tokens -------------------------------------------------------------------

def _serializer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="oai-pmh-list")


def _token(state, next_after, next_cursor):
    payload = {"v": state.verb, "p": state.prefix, "s": state.set_spec,
               "f": state.start.isoformat() if state.start else None, "e": state.end.isoformat(),
               "a": [next_after[0].isoformat(), next_after[1]], "c": next_cursor,
               "n": state.total}
    return _serializer().dumps(payload)


def _state_from_token(verb, token):
    try:
        payload = _serializer().loads(token, max_age=TOKEN_LIFETIME.total_seconds())
        if payload["v"] != verb:
            raise ValueError("another verb's token")
        return ListState(verb, payload["p"], payload["s"],
                         datetime.fromisoformat(payload["f"]) if payload["f"] else None,
                         datetime.fromisoformat(payload["e"]),
                         (datetime.fromisoformat(payload["a"][0]), int(payload["a"][1])),
                         int(payload["c"]), payload["n"])
    except SignatureExpired as exc:
        raise OaiError("badResumptionToken", "This resumptionToken has expired.") from exc
    except (BadSignature, KeyError, TypeError, ValueError, IndexError) as exc:
        raise OaiError("badResumptionToken", "This resumptionToken is not one of ours.") from exc


def _resumption_element(parent, state, next_after, next_cursor):
    """The resumptionToken of a page: a token when more follows, empty on the last page."""
    attributes = {"cursor": str(state.cursor)}
    if state.total is not None:
        attributes["completeListSize"] = str(state.total)
    element = ET.SubElement(parent, f"{{{OAI_NS}}}resumptionToken", attributes)
    if next_after:
        element.set("expirationDate", datestamp(clock.now() + TOKEN_LIFETIME))
        element.text = _token(state, next_after, next_cursor)


# --- the verbs ---------------------------------------------------------------------------

def identify(args):
    """Identify: who we are, our earliest datestamp, persistent deletions, seconds granularity."""
    element = ET.Element(f"{{{OAI_NS}}}Identify")
    earliest = db.session.execute(text(
        "SELECT least((SELECT min(updated_at) FROM records), "
        "             (SELECT min(deleted_at) FROM oai_deletions))")).scalar()
    sender = current_app.config.get("MAIL_DEFAULT_SENDER") or "noreply@jala.local"
    admin_email = re.search(r"[^<>\s]+@[^<>\s]+", sender)
    for name, value in (
            ("repositoryName", current_app.config.get("OAI_REPOSITORY_NAME",
                                                      "JALA Portal union catalogue")),
            ("baseURL", base_url()), ("protocolVersion", "2.0"),
            ("adminEmail", admin_email.group(0) if admin_email else "noreply@jala.local"),
            ("earliestDatestamp", datestamp(earliest or clock.now())),
            ("deletedRecord", "persistent"), ("granularity", "YYYY-MM-DDThh:mm:ssZ")):
        ET.SubElement(element, f"{{{OAI_NS}}}{name}").text = value
    return element


def list_metadata_formats(args):
    """ListMetadataFormats: oai_dc and marc21, for every item (or the one asked about)."""
    if "identifier" in args:
        _find_item(args["identifier"])
    element = ET.Element(f"{{{OAI_NS}}}ListMetadataFormats")
    for prefix, (namespace, schema) in METADATA_FORMATS.items():
        format_element = ET.SubElement(element, f"{{{OAI_NS}}}metadataFormat")
        ET.SubElement(format_element, f"{{{OAI_NS}}}metadataPrefix").text = prefix
        ET.SubElement(format_element, f"{{{OAI_NS}}}schema").text = schema
        ET.SubElement(format_element, f"{{{OAI_NS}}}metadataNamespace").text = namespace
    return element


def list_sets(args):
    """ListSets: one set per member library, setSpec = its code (a short list: no tokens)."""
    if "resumptionToken" in args:
        raise OaiError("badResumptionToken", "ListSets never gives out resumption tokens.")
    element = ET.Element(f"{{{OAI_NS}}}ListSets")
    for library in db.session.execute(select(Library).order_by(Library.code)).scalars():
        set_element = ET.SubElement(element, f"{{{OAI_NS}}}set")
        ET.SubElement(set_element, f"{{{OAI_NS}}}setSpec").text = library.code
        ET.SubElement(set_element, f"{{{OAI_NS}}}setName").text = (
            f"{library.name_zh} ({library.name_en})")
    return element


def get_record(args):
    """GetRecord: one item, live or deleted, in a format we disseminate."""
    prefix = _check_prefix(args["metadataPrefix"])
    kind, record_id, stamp = _find_item(args["identifier"])
    element = ET.Element(f"{{{OAI_NS}}}GetRecord")
    libraries = _libraries()
    if kind == "record":
        record = db.session.get(Record, record_id)
        element.append(_record_element(record, prefix, libraries))
    else:
        record_element = ET.SubElement(element, f"{{{OAI_NS}}}record")
        record_element.append(_header(record_id, stamp, [], libraries, deleted=True))
    return element


def list_items(args, verb):
    """ListIdentifiers / ListRecords: a page of the list, and a token for the next."""
    state = _list_state(args, verb)
    page_size = current_app.config.get("OAI_PAGE_SIZE", PAGE_SIZE)
    rows = _list_rows(state, page_size + 1)
    if not rows:
        raise OaiError("noRecordsMatch", "No records match these arguments.")
    more = len(rows) > page_size
    rows = rows[:page_size]
    libraries = _libraries()
    element = ET.Element(f"{{{OAI_NS}}}{verb}")
    records = {}
    if verb == "ListRecords":
        live = [row.id for row in rows if row.kind == "record"]
        records = {r.id: r for r in db.session.execute(
            select(Record).where(Record.id.in_(live))).scalars()} if live else {}
    for row in rows:
        deleted = row.kind != "record"
        if verb == "ListIdentifiers" or deleted:
            header = _header(row.id, row.stamp, row.library_ids, libraries, deleted)
            if verb == "ListIdentifiers":
                element.append(header)
            else:
                ET.SubElement(element, f"{{{OAI_NS}}}record").append(header)
        else:
            element.append(_record_element(records[row.id], state.prefix, libraries))
    if more or state.after is not None:
        _resumption_element(element, state, (rows[-1].stamp, rows[-1].id) if more else None,
                            state.cursor + len(rows))
    return element


def _list_state(args, verb):
    if "resumptionToken" in args:
        return _state_from_token(verb, args["resumptionToken"])
    prefix = _check_prefix(args["metadataPrefix"])
    start, end = parse_date_range(args.get("from"), args.get("until"))
    settle = timedelta(seconds=current_app.config.get("OAI_SETTLE_SECONDS", SETTLE_SECONDS))
    frozen = clock.now() - settle
    state = ListState(verb, prefix, args.get("set"), start,
                      min(end, frozen) if end else frozen)
    state.total = _count_items(state)
    return state


def _check_prefix(prefix):
    if prefix not in METADATA_FORMATS:
        raise OaiError("cannotDisseminateFormat", f"{prefix} is not a format we disseminate "
                                                  "(oai_dc, marc21).")
    return prefix


def _find_item(identifier):
    """``("record" | "deleted", record id, datestamp)`` of an identifier, or idDoesNotExist."""
    prefix = f"oai:{repository_host()}:"
    local = identifier[len(prefix):] if identifier.startswith(prefix) else ""
    if local.isdecimal() and len(local) <= 18:
        row = db.session.execute(text(
            "SELECT 'record', id, updated_at FROM records WHERE id = :id UNION ALL "
            "SELECT 'deleted', record_id, deleted_at FROM oai_deletions "
            "WHERE record_id = :id AND library_id IS NULL"), {"id": int(local)}).first()
        if row:
            return tuple(row)
    raise OaiError("idDoesNotExist", f"{identifier[:200]} is not an identifier of ours.")


def _libraries():
    return {library.id: library for library in db.session.execute(select(Library)).scalars()}


def _header(record_id, stamp, library_ids, libraries, deleted=False):
    header = ET.Element(f"{{{OAI_NS}}}header", {"status": "deleted"} if deleted else {})
    ET.SubElement(header, f"{{{OAI_NS}}}identifier").text = oai_identifier(record_id)
    ET.SubElement(header, f"{{{OAI_NS}}}datestamp").text = datestamp(stamp)
    for library_id in library_ids or []:
        if library_id in libraries:
            ET.SubElement(header, f"{{{OAI_NS}}}setSpec").text = libraries[library_id].code
    return header


def _record_element(record, prefix, libraries):
    element = ET.Element(f"{{{OAI_NS}}}record")
    element.append(_header(record.id, record.updated_at, record.library_ids, libraries))
    metadata = ET.SubElement(element, f"{{{OAI_NS}}}metadata")
    url = current_app.config["PUBLIC_URL"].rstrip("/") + f"/records/{record.id}"
    metadata.append(oai_dc(record, url) if prefix == "oai_dc"
                    else marc21(record, url, libraries))
    return element


# --- the list query ----------------------------------------------------------------------

def _items_sql(state):
    """The list's items (records, then tombstones) as one relation, and its parameters."""
    params = {"start": state.start, "end": state.end}
    if state.set_spec:
        library_id = db.session.execute(select(Library.id).where(
            Library.code == state.set_spec)).scalar()
        params["library"] = library_id if library_id is not None else -1
        live = "library_ids @> ARRAY[CAST(:library AS integer)]"
        gone = "library_id = :library"
    else:
        live, gone = "true", "library_id IS NULL"
    window = "{col} < :end" + (" AND {col} >= :start" if state.start else "")
    sql = (f"SELECT 'record' AS kind, id, updated_at AS stamp, library_ids FROM records "
           f"WHERE {live} AND {window.format(col='updated_at')} "
           f"UNION ALL SELECT 'deleted', record_id, deleted_at, NULL FROM oai_deletions "
           f"WHERE {gone} AND {window.format(col='deleted_at')}")
    return sql, params


def _count_items(state):
    """The number of items in the list, or None past ``OAI_COUNT_LIMIT``.

    Counting a whole catalogue on every first page would read every record.
    """
    sql, params = _items_sql(state)
    limit = current_app.config.get("OAI_COUNT_LIMIT", COUNT_LIMIT)
    count = db.session.execute(text(f"SELECT count(*) FROM ({sql} LIMIT :count_limit) items"),
                               {**params, "count_limit": limit + 1}).scalar()
    return count if count <= limit else None


def _list_rows(state, limit):
    sql, params = _items_sql(state)
    keyset = ""
    if state.after:
        keyset = "WHERE (stamp, id) > (:after_stamp, :after_id)"
        params.update(after_stamp=state.after[0], after_id=state.after[1])
    return db.session.execute(text(
        f"SELECT * FROM ({sql}) items {keyset} ORDER BY stamp, id LIMIT :limit"),
        {**params, "limit": limit}).all()


VERB_HANDLERS = {
    "Identify": identify,
    "ListMetadataFormats": list_metadata_formats,
    "ListSets": list_sets,
    "GetRecord": get_record,
    "ListIdentifiers": lambda args: list_items(args, "ListIdentifiers"),
    "ListRecords": lambda args: list_items(args, "ListRecords"),
}
