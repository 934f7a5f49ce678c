"""A union record as OAI-PMH metadata: unqualified Dublin Core (oai_dc) and MARC21 slim.

MARC21 is built from the record's columns and ``extra`` whatever the record came from
(MARC21, CNMARC or JSON Lines), so a harvester always finds the title in 245.
"""
import xml.etree.ElementTree as ET

OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC_NS = "http://purl.org/dc/elements/1.1/"
MARC_NS = "http://www.loc.gov/MARC21/slim"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"

METADATA_FORMATS = {
    "oai_dc": (OAI_DC_NS, "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"),
    "marc21": (MARC_NS, "http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd"),
}

# leader/06 (type of record) and leader/07 (bibliographic level) of each record type
LEADER_TYPES = {
    "book": "am", "ebook": "am", "thesis": "am", "conference": "am", "report": "am",
    "standard": "am", "patent": "am", "article": "ab", "journal": "as", "newspaper": "as",
    "map": "em", "score": "cm", "audio": "jm", "video": "gm", "other": "mm",
}
# the DCMI Type Vocabulary term of each record type (dc:type also carries our own type)
DCMI_TYPES = {"map": "Image", "video": "MovingImage", "audio": "Sound", "other": "Text"}


def _extra(record, key):
    value = (record.extra or {}).get(key)
    return value if value not in (None, "", []) else None


def _names(record, key):
    value = _extra(record, key)
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value or [] if v]


def _add(parent, tag, text):
    element = ET.SubElement(parent, tag)
    element.text = str(text)
    return element


def oai_dc(record, record_url):
    """The ``oai_dc:dc`` element of a record."""
    root = ET.Element(f"{{{OAI_DC_NS}}}dc", {
        f"{{{XSI_NS}}}schemaLocation": f"{OAI_DC_NS} {METADATA_FORMATS['oai_dc'][1]}"})

    def dc(name, value):
        if value not in (None, ""):
            _add(root, f"{{{DC_NS}}}{name}", value)

    dc("title", record.title)
    for variant in _names(record, "title-variants"):
        dc("title", variant)
    for author in record.authors:
        dc("creator", author)
    for name in _names(record, "editor") + _names(record, "translator"):
        dc("contributor", name)
    for subject in [*record.subjects, *record.keywords]:
        dc("subject", subject)
    if record.clc:
        dc("subject", f"CLC {record.clc}")
    dc("description", record.abstract)
    dc("publisher", record.publisher)
    dc("date", _extra(record, "issued") or record.year)
    dc("type", DCMI_TYPES.get(record.type, "Text"))
    dc("type", record.type)
    dc("format", f"{record.page_count} pages" if record.page_count else None)
    dc("identifier", record_url)
    for isbn in record.isbn:
        dc("identifier", f"ISBN {isbn}")
    for issn in record.issn:
        dc("identifier", f"ISSN {issn}")
    if record.doi:
        dc("identifier", f"https://doi.org/{record.doi}")
    dc("identifier", record.url)
    dc("source", _journal_citation(record) or _extra(record, "container-title"))
    dc("language", record.language)
    return root


def _journal_citation(record):
    if not record.journal:
        return None
    parts = [record.journal]
    if record.volume:
        parts.append(f"vol. {record.volume}")
    if record.issue:
        parts.append(f"no. {record.issue}")
    if record.pages:
        parts.append(f"pp. {record.pages}")
    return ", ".join(parts)


class _Marc:
    """A MARC21 slim ``record`` element being written, field by field."""

    def __init__(self, root):
        self.root = root

    def control(self, tag, data):
        ET.SubElement(self.root, f"{{{MARC_NS}}}controlfield", tag=tag).text = data

    def data(self, tag, subfields, ind1=" ", ind2=" "):
        subfields = [(code, str(value)) for code, value in subfields if value not in (None, "")]
        if not subfields:
            return
        field = ET.SubElement(self.root, f"{{{MARC_NS}}}datafield", tag=tag, ind1=ind1, ind2=ind2)
        for code, value in subfields:
            ET.SubElement(field, f"{{{MARC_NS}}}subfield", code=code).text = value


def marc21(record, record_url, libraries):
    """The MARC21 slim ``marc:record`` of a record; ``libraries`` maps library id → Library."""
    root = ET.Element(f"{{{MARC_NS}}}record", {
        f"{{{XSI_NS}}}schemaLocation": f"{MARC_NS} {METADATA_FORMATS['marc21'][1]}"})
    leader_type = LEADER_TYPES.get(record.type, "am")
    _add(root, f"{{{MARC_NS}}}leader", f"00000n{leader_type} a2200000 i 4500")
    marc = _Marc(root)
    marc.control("001", str(record.id))
    marc.control("003", "JALA")
    marc.control("005", record.updated_at.strftime("%Y%m%d%H%M%S.0"))
    marc.control("008", _fixed_008(record))
    for isbn in record.isbn:
        marc.data("020", [("a", isbn)])
    for issn in record.issn:
        marc.data("022", [("a", issn)])
    number = _extra(record, "number")
    if number:
        marc.data("024", [("a", number), ("2", "local")], ind1="8")
    if record.doi:
        marc.data("024", [("a", record.doi), ("2", "doi")], ind1="7")
    if record.language:
        marc.data("041", [("a", record.language)])
    if record.clc:
        marc.data("084", [("a", record.clc), ("2", "clc")])
    _names_fields(marc, record)
    marc.data("245", [("a", record.title), ("c", "; ".join(record.authors) or None)],
              ind1="1" if record.authors else "0", ind2="0")
    for variant in _names(record, "title-variants"):
        marc.data("246", [("a", variant)], ind1="3", ind2="3")
    marc.data("250", [("a", _extra(record, "edition"))])
    marc.data("264", [("a", _extra(record, "place")), ("b", record.publisher),
                      ("c", _extra(record, "issued") or record.year)], ind2="1")
    if record.page_count:
        marc.data("300", [("a", f"{record.page_count} p.")])
    marc.data("490", [("a", _extra(record, "series"))], ind1="0")
    marc.data("500", [("a", _extra(record, "notes"))])
    if record.type == "thesis":
        marc.data("502", [("b", _extra(record, "degree")), ("c", _extra(record, "institution")),
                          ("d", record.year)])
    marc.data("520", [("a", record.abstract)])
    marc.data("711", [("a", _extra(record, "event")), ("c", _extra(record, "event-place")),
                      ("d", _extra(record, "event-date"))], ind1="2")
    for subject in record.subjects:
        marc.data("650", [("a", subject)], ind2="4")
    for keyword in record.keywords:
        marc.data("653", [("a", keyword)])
    _host_item(marc, record)
    for url in filter(None, [record.url, record.doi and f"https://doi.org/{record.doi}"]):
        marc.data("856", [("u", url)], ind1="4", ind2="0")
    marc.data("856", [("u", record_url), ("z", "JALA union catalogue")], ind1="4", ind2="2")
    for holding in record.holdings:
        library = libraries.get(holding.library_id)
        marc.data("852", [("a", library.code if library else None),
                          ("b", library.name_zh if library else None),
                          ("c", holding.location), ("h", holding.call_number)])
    return root


def _fixed_008(record):
    """008: entered date, single date of publication, language; the rest left blank (fill)."""
    entered = record.created_at.strftime("%y%m%d")
    year = str(record.year) if record.year and 0 < record.year < 10000 else "    "
    language = (record.language or "   ")[:3].ljust(3)
    return f"{entered}{'s' if year.strip() else 'n'}{year.rjust(4)}    xx " + " " * 17 + \
        f"{language} d"


def _names_fields(marc, record):
    """100/110 for the first author, 700/710 for the others, editors and translators."""
    corporate = set(_names(record, "corporate-authors"))
    for position, author in enumerate(record.authors):
        is_corporate = author in corporate
        tag = ("1" if position == 0 else "7") + ("10" if is_corporate else "00")
        marc.data(tag, [("a", author)], ind1="2" if is_corporate else "1")
    for role, key in (("editor", "editor"), ("translator", "translator")):
        for name in _names(record, key):
            marc.data("700", [("a", name), ("e", role)], ind1="1")


def _host_item(marc, record):
    """773: the journal an article is in, or the book a part is in (析出文献)."""
    related = [part for part in (record.volume and f"Vol. {record.volume}",
                                 record.issue and f"no. {record.issue}",
                                 record.pages and f"p. {record.pages}") if part]
    host = record.journal or _extra(record, "container-title")
    if host:
        marc.data("773", [("t", host), ("g", ", ".join(related) or None)], ind1="0")
