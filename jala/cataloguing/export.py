"""Union records as MARC for copy cataloguing: MARC 21 (ISO 2709, MARCXML) and CNMARC.

A record goes out as the centre approved it when its MARC is in the wanted flavour (the
latest approved submission, else a library's MARC source record); otherwise its main fields
are written from the union record's columns, by the flavour's mapping (MARC 21 or the
UNIMARC-style CNMARC one). Pure apart from the record's rows already loaded.
"""
import pymarc

from jala import clock
from jala.cataloguing.marc_form import LEADERS, flavour_of, to_pymarc

AGENCY = "JALA"  # the cataloguing agency written in 040 / 801
LANGUAGES = {"zh": "chi", "en": "eng", "ja": "jpn", "ko": "kor", "fr": "fre", "de": "ger",
             "ru": "rus"}


def _sub(tag, ind, *pairs):
    subfields = [pymarc.Subfield(code, str(value)) for code, value in pairs if value]
    if not subfields:
        return None
    return pymarc.Field(tag=tag, indicators=pymarc.Indicators(*ind), subfields=subfields)


def _record(leader, fields):
    record = pymarc.Record(leader=pymarc.Leader(leader), force_utf8=True)
    for field in fields:
        if field is not None:
            record.add_field(field)
    return record


def marc21_of(record):
    """The union record's main fields as MARC 21."""
    year = str(record.year or "")
    lang = LANGUAGES.get((record.language or "")[:2], "und")
    fixed = f"{clock.now():%y%m%d}s{year[:4] or 'uuuu'}    xx            000 0 {lang} d"
    authors = list(record.authors or [])
    fields = [pymarc.Field(tag="001", data=str(record.id)), pymarc.Field(tag="003", data=AGENCY),
              pymarc.Field(tag="008", data=fixed[:40].ljust(40))]
    fields += [_sub("020", "  ", ("a", isbn)) for isbn in record.isbn or ()]
    fields += [_sub("022", "  ", ("a", issn)) for issn in record.issn or ()]
    fields.append(_sub("040", "  ", ("a", AGENCY), ("b", "chi"), ("c", AGENCY)))
    fields.append(_sub("084", "  ", ("a", record.clc), ("2", "clc")))
    if authors:
        fields.append(_sub("100", "1 ", ("a", authors[0])))
    fields.append(_sub("245", ("1" if authors else "0") + "0", ("a", record.title),
                       ("c", "；".join(authors))))
    fields.append(_sub("264", " 1", ("b", record.publisher), ("c", year)))
    fields.append(_sub("300", "  ", ("a", f"{record.page_count}页" if record.page_count
                                     else None)))
    fields.append(_sub("520", "  ", ("a", record.abstract)))
    fields += [_sub("650", " 7", ("a", subject), ("2", "cct")) for subject in
               record.subjects or ()]
    fields += [_sub("700", "1 ", ("a", name)) for name in authors[1:]]
    return _record(LEADERS["marc21"], fields)


def cnmarc_of(record):
    """The union record's main fields as CNMARC (UNIMARC as China's libraries write it)."""
    year = str(record.year or "")[:4]
    processing = f"{clock.now():%Y%m%d}d{year or '    '}    em y0chiy50      ea"
    authors = list(record.authors or [])
    lang = LANGUAGES.get((record.language or "")[:2], "und")
    fields = [pymarc.Field(tag="001", data=str(record.id))]
    fields += [_sub("010", "  ", ("a", isbn)) for isbn in record.isbn or ()]
    fields += [_sub("011", "  ", ("a", issn)) for issn in record.issn or ()]
    fields.append(_sub("100", "  ", ("a", processing[:36].ljust(36))))
    fields.append(_sub("101", "0 ", ("a", lang)))
    fields.append(_sub("200", "1 ", ("a", record.title), ("f", "；".join(authors))))
    fields.append(_sub("210", "  ", ("c", record.publisher), ("d", year)))
    fields.append(_sub("215", "  ", ("a", f"{record.page_count}页" if record.page_count
                                     else None)))
    fields.append(_sub("330", "  ", ("a", record.abstract)))
    fields += [_sub("606", "0 ", ("a", subject)) for subject in record.subjects or ()]
    fields.append(_sub("690", "  ", ("a", record.clc), ("v", "5")))
    fields += [_sub("701" if n else "700", " 0", ("a", name)) for n, name in
               enumerate(authors)]
    fields.append(_sub("801", " 0", ("a", "CN"), ("b", AGENCY), ("c", f"{clock.now():%Y%m%d}")))
    return _record(LEADERS["cnmarc"], fields)


def from_source_raw(raw):
    """A pymarc record from a source record kept as MARC (``Record.as_dict()``), or None."""
    if not isinstance(raw, dict) or "leader" not in raw or "fields" not in raw:
        return None
    record = pymarc.Record(leader=pymarc.Leader(raw["leader"]), force_utf8=True)
    for entry in raw["fields"]:
        for tag, body in entry.items():
            if isinstance(body, str):
                record.add_field(pymarc.Field(tag=tag, data=body))
            else:
                record.add_field(pymarc.Field(
                    tag=tag, indicators=pymarc.Indicators(body.get("ind1", " "),
                                                          body.get("ind2", " ")),
                    subfields=[pymarc.Subfield(code, value) for sub in body["subfields"]
                               for code, value in sub.items()]))
    return record


def marc_for(record, flavour, approved=None, sources=()):
    """The record as MARC in ``flavour``: approved rows, a source's MARC, or its columns.

    ``approved`` is ``(rows, leader, flavour)`` of the latest approved submission, if any;
    ``sources`` the raw source records.
    """
    candidates = []
    if approved is not None:
        rows, leader, approved_flavour = approved
        candidates.append((approved_flavour, to_pymarc(rows, leader, approved_flavour)))
    for raw in sources:
        marc = from_source_raw(raw)
        if marc is not None:
            candidates.append((flavour_of(marc), marc))
    for candidate_flavour, marc in candidates:
        if candidate_flavour == flavour:
            return marc
    return marc21_of(record) if flavour == "marc21" else cnmarc_of(record)


def serialize(marc, download_format):
    """``(bytes, mimetype, file extension)`` of a record for a download format."""
    if download_format == "xml":
        body = (b'<?xml version="1.0" encoding="UTF-8"?>\n'
                b'<collection xmlns="http://www.loc.gov/MARC21/slim">'
                + pymarc.record_to_xml(marc, namespace=False) + b"</collection>\n")
        return body, "application/marcxml+xml", "xml"
    return marc.as_marc(), "application/marc", "mrc"
