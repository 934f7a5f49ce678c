"""Harvesting a member library's records from an OAI-PMH repository into the catalogue.

A harvest asks ListRecords ``from`` the newest datestamp of the last finished harvest and
feeds every page through the importer (marc21 by the MARC path, oai_dc mapped to the JSON
Lines contract). After each page it commits the records and where it stands (the next
resumptionToken, the newest datestamp so far), so one cut short goes on from there; if the
repository has forgotten that token, the harvest starts its list again (importing is
idempotent). A record the repository reports deleted is counted as skipped: the catalogue
keeps the library's records until it says otherwise.
"""
import io
import xml.etree.ElementTree as ET
from dataclasses import dataclass, fields

import pymarc
import requests
from defusedxml.ElementTree import fromstring
from sqlalchemy import select

from jala import clock
from jala.catalog.importer import ImportStats, import_stream
from jala.catalog.readers import BadRecord, read_marcxml
from jala.errors import RuleViolation
from jala.extensions import db
from jala.membership import get_library
from jala.protocols.oai_models import METADATA_PREFIXES, OaiHarvestSource

OAI = "{http://www.openarchives.org/OAI/2.0/}"
DC = "{http://purl.org/dc/elements/1.1/}"
TIMEOUT = 60
USER_AGENT = "JALA-Portal-harvester/1.0"
# dc:type words → the catalogue's record types (anything else is a book)
DC_TYPES = {"article": "article", "journal": "journal", "thesis": "thesis", "video": "video",
            "movingimage": "video", "sound": "audio", "audio": "audio", "map": "map",
            "image": "other", "dataset": "other", "software": "other", "book": "book",
            "conference": "conference", "report": "report", "newspaper": "newspaper",
            "standard": "standard", "patent": "patent", "score": "score", "ebook": "ebook"}


class HarvestError(RuleViolation):
    """The repository cannot be harvested (unreachable, not OAI-PMH, or an OAI-PMH error)."""


@dataclass
class Page:
    """One ListRecords answer: its ``(identifier, datestamp, item)`` and the next token."""

    items: list
    token: str | None


def harvest_source(library_code, url, *, set_spec="", metadata_prefix="marc21"):
    """The harvest source of a library for this repository, set and format (made if new)."""
    if metadata_prefix not in METADATA_PREFIXES:
        raise RuleViolation(f"metadata prefix must be one of {', '.join(METADATA_PREFIXES)}")
    library = get_library(library_code)
    source = db.session.execute(select(OaiHarvestSource).filter_by(
        library_id=library.id, url=url, set_spec=set_spec or "",
        metadata_prefix=metadata_prefix)).scalar_one_or_none()
    if source is None:
        source = OaiHarvestSource(library_id=library.id, url=url, set_spec=set_spec or "",
                                  metadata_prefix=metadata_prefix, run_counts={})
        db.session.add(source)
        db.session.flush()
    return source


def run_harvest(source, http=None, progress=None):
    """Harvest a source until its list ends; commits after every page. Returns ImportStats."""
    http = http or _session()
    if source.resumption_token is None:
        source.run_from, source.run_datestamp, source.run_counts = source.last_datestamp, None, {}
        db.session.commit()
    restarted = False
    while True:
        try:
            page = fetch_page(http, source)
        except _TokenForgotten:
            if restarted:
                raise HarvestError("the repository refuses its own resumption token") from None
            restarted = True
            source.resumption_token = None
            continue
        if page is None:
            break
        stats = _import_page(page, source)
        source.run_counts = _added(source.run_counts, stats)
        newest = max((stamp for _, stamp, _ in page.items if stamp), default=None)
        if newest and (source.run_datestamp or "") < newest:
            source.run_datestamp = newest
        source.resumption_token = page.token
        db.session.commit()
        if progress:
            progress(_stats(source.run_counts))
        if not page.token:
            break
    return _finish(source)


def _finish(source):
    stats = _stats(source.run_counts)
    if source.run_datestamp and (source.last_datestamp or "") < source.run_datestamp:
        source.last_datestamp = source.run_datestamp
    source.resumption_token = source.run_from = source.run_datestamp = None
    source.run_counts = {}
    source.last_run_at = clock.now()
    source.last_summary = stats.summary()
    source.last_counts = _counts(stats)
    source.last_error = None
    db.session.commit()
    return stats


class _TokenForgotten(Exception):
    pass


def _session():
    http = requests.Session()
    http.headers["User-Agent"] = USER_AGENT
    return http


def fetch_page(http, source):
    """The next page of the source's list, or None when nothing (more) matches."""
    if source.resumption_token:
        params = {"verb": "ListRecords", "resumptionToken": source.resumption_token}
    else:
        params = {"verb": "ListRecords", "metadataPrefix": source.metadata_prefix}
        if source.set_spec:
            params["set"] = source.set_spec
        if source.run_from:
            params["from"] = source.run_from
    try:
        response = http.get(source.url, params=params, timeout=TIMEOUT)
        response.raise_for_status()
        root = fromstring(response.content)
    except (requests.RequestException, ET.ParseError) as exc:
        raise HarvestError(f"{source.url} did not answer with OAI-PMH: {exc}") from exc
    error = root.find(f"{OAI}error")
    if error is not None:
        code = error.get("code")
        if code == "noRecordsMatch":
            return None
        if code == "badResumptionToken" and source.resumption_token:
            raise _TokenForgotten()
        raise HarvestError(f"{source.url} answered {code}: {(error.text or '').strip()}")
    listing = root.find(f"{OAI}ListRecords")
    if listing is None:
        raise HarvestError(f"{source.url} sent no ListRecords")
    items = [_item(record, source.metadata_prefix) for record in listing.iter(f"{OAI}record")]
    token = listing.find(f"{OAI}resumptionToken")
    return Page(items, (token.text or "").strip() or None if token is not None else None)


def _item(record, prefix):
    """``(identifier, datestamp, dict | pymarc.Record | BadRecord)`` of one harvested record."""
    header = record.find(f"{OAI}header")
    identifier = (header.findtext(f"{OAI}identifier") or "").strip()
    stamp = (header.findtext(f"{OAI}datestamp") or "").strip()
    if header.get("status") == "deleted":
        return identifier, stamp, BadRecord(f"{identifier} was deleted at the source")
    metadata = record.find(f"{OAI}metadata")
    content = list(metadata) if metadata is not None else []
    if not content:
        return identifier, stamp, BadRecord(f"{identifier} has no metadata")
    if prefix == "oai_dc":
        return identifier, stamp, dc_to_dict(content[0], identifier)
    return identifier, stamp, _marc_record(content[0], identifier)


def _marc_record(element, identifier):
    """The pymarc record in a MARCXML element; its 001 is the OAI identifier if it has none."""
    _, parsed = next(read_marcxml(io.BytesIO(ET.tostring(element))),
                     (0, BadRecord(f"{identifier} has no MARC record")))
    if isinstance(parsed, pymarc.Record) and not parsed.get("001"):
        parsed.add_ordered_field(pymarc.Field(tag="001", data=identifier))
    return parsed


def dc_to_dict(element, identifier):
    """Unqualified Dublin Core → the JSON Lines record of the import contract."""
    def values(name):
        return [v.text.strip() for v in element.iter(f"{DC}{name}") if v.text and v.text.strip()]

    identifiers = values("identifier")
    record = {"source_id": identifier, "title": next(iter(values("title")), None),
              "authors": values("creator"), "subjects": values("subject"),
              "abstract": "\n".join(values("description")) or None,
              "publisher": next(iter(values("publisher")), None),
              "language": next(iter(values("language")), None),
              "type": next((DC_TYPES[t.lower()] for t in values("type")
                            if t.lower() in DC_TYPES), "book")}
    dates = values("date")
    if dates:
        record["issued"] = dates[0][:10]
        if dates[0][:4].isdigit():
            record["year"] = int(dates[0][:4])
    for value in identifiers:
        upper = value.upper()
        if upper.startswith("ISBN"):
            record.setdefault("isbn", value[4:].strip(" :"))
        elif upper.startswith("ISSN"):
            record.setdefault("issn", value[4:].strip(" :"))
        elif "doi.org/" in value:
            record.setdefault("doi", value.split("doi.org/", 1)[1])
        elif value.startswith(("http://", "https://")):
            record.setdefault("url", value)
    if title_variants := values("title")[1:]:
        record["title-variants"] = title_variants
    return {k: v for k, v in record.items() if v not in (None, "", [])}


def _import_page(page, source):
    first = source.run_counts.get("read", 0) + 1
    items = ((position, item) for position, (_, _, item) in enumerate(page.items, start=first))
    return import_stream(items, source.library.code,
                         format_name="marcxml" if source.metadata_prefix == "marc21" else "jsonl")


def _counts(stats):
    return {f.name: getattr(stats, f.name) for f in fields(stats)
            if isinstance(getattr(stats, f.name), int)}


def _added(counts, stats):
    return {name: counts.get(name, 0) + value for name, value in _counts(stats).items()}


def _stats(counts):
    names = {f.name for f in fields(ImportStats)}
    return ImportStats(**{k: v for k, v in counts.items() if k in names})
