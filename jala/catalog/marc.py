"""MARC21 and UNIMARC/CNMARC records → the JSON Lines record shape of the import contract."""
import re

YEAR_RE = re.compile(r"(1[5-9]\d\d|20\d\d)")
PAGES_RE = re.compile(r"(\d+)\s*(?:页|p|pages|leaves)", re.IGNORECASE)
STATUS = {"available": "available", "check_holdings": "unknown", "unavailable": "on_loan"}


def guess_flavour(record):
    """'unimarc' (also CNMARC) when the title is in 200, else 'marc21'."""
    return "unimarc" if record.get_fields("200") else "marc21"


def _values(record, tags, code):
    out = []
    for field in record.get_fields(*tags):
        out.extend(v.strip() for v in field.get_subfields(code) if v and v.strip())
    return out


def _first(record, tags, code):
    values = _values(record, tags, code)
    return values[0] if values else None


def _year(text):
    match = YEAR_RE.search(text or "")
    return int(match.group(1)) if match else None


def _page_count(text):
    match = PAGES_RE.search(text or "")
    return int(match.group(1)) if match else None


def _holdings(record, call_number_fallback):
    holdings = []
    for field in record.get_fields("AVA"):
        status = STATUS.get((field.get("e") or "").strip().lower(), "unknown")
        holdings.append({"call_number": (field.get("d") or call_number_fallback or "").strip()
                         or None, "location": (field.get("c") or "").strip() or None,
                         "status": status})
    return holdings


def _control_number(record):
    """The record's id in its library's catalogue (001), its source id in the union catalogue."""
    return record["001"].data.strip() if record.get("001") else None


def _clean(record_dict):
    return {k: v for k, v in record_dict.items() if v not in (None, "", [], {})}


def unimarc_to_dict(record):
    """UNIMARC/CNMARC: 010 ISBN, 200 title (+$A pinyin), 210 publication, 606 subjects, 690 CLC."""
    title_field = record.get("200")
    title = subtitle = pinyin = None
    if title_field:
        title = " ".join(title_field.get_subfields("a")).strip() or None
        subtitle = " ".join(title_field.get_subfields("e")).strip() or None
        pinyin = " ".join(title_field.get_subfields("A")).strip() or None
        parts = " ".join(title_field.get_subfields("h", "i")).strip()
        if title and parts:
            title = f"{title} {parts}"
    if title and subtitle:
        title = f"{title}: {subtitle}"
    authors = _values(record, ("700", "701", "702"), "a")
    for field in record.get_fields("700", "701", "702"):
        given = field.get("b")
        if given and field.get("a"):
            authors[authors.index(field.get("a").strip())] = f"{field.get('a').strip()}{given}"
    authors += _values(record, ("710", "711", "712"), "a")
    call_number = _first(record, ("090",), "u") or _first(record, ("905",), "s")
    return _clean({
        "source_id": _control_number(record),
        "type": "book",
        "title": title,
        "title_pinyin": pinyin,
        "authors": authors,
        "authors_pinyin": _values(record, ("700", "701", "702"), "A"),
        "subjects": _values(record, ("600", "601", "605", "606", "607"), "a"),
        "keywords": _values(record, ("610",), "a"),
        "abstract": _first(record, ("330",), "a"),
        "publisher": _first(record, ("210", "214"), "c"),
        "year": _year(_first(record, ("210", "214"), "d")),
        "isbn": _first(record, ("010",), "a"),
        "issn": _first(record, ("011",), "a"),
        "clc": _first(record, ("690",), "a"),
        "language": _first(record, ("101",), "a"),
        "page_count": _page_count(_first(record, ("215",), "a")),
        "series": _first(record, ("225",), "a"),
        "notes": _first(record, ("300",), "a"),
        "holdings": _holdings(record, call_number),
    })


def marc21_to_dict(record):
    """MARC21: 020 ISBN, 022 ISSN, 245 title, 100/700 names, 260/264 publication, 650 subjects."""
    title_field = record.get("245")
    title = None
    if title_field:
        title = " ".join(v.strip(" /:;,.") for v in title_field.get_subfields("a", "b")
                         if v.strip(" /:;,.")) or None
    clc = None
    for field in record.get_fields("084"):
        if (field.get("2") or "").lower() in ("clc", "cct", "") and field.get("a"):
            clc = field.get("a").strip()
            break
    language = None
    if record.get("008") and len(record["008"].data) >= 38:
        language = record["008"].data[35:38].strip() or None
    language = _first(record, ("041",), "a") or language
    call_number = _first(record, ("050", "090"), "a")
    return _clean({
        "source_id": _control_number(record),
        "type": "book",
        "title": title,
        "authors": _values(record, ("100", "110", "111", "700", "710", "711"), "a"),
        "subjects": _values(record, ("600", "610", "650", "651"), "a"),
        "keywords": _values(record, ("653",), "a"),
        "abstract": _first(record, ("520",), "a"),
        "publisher": _first(record, ("260", "264"), "b"),
        "year": _year(_first(record, ("260", "264"), "c")),
        "isbn": _first(record, ("020",), "a"),
        "issn": _first(record, ("022",), "a"),
        "clc": clc,
        "language": language,
        "page_count": _page_count(_first(record, ("300",), "a")),
        "series": _first(record, ("490", "440"), "a"),
        "notes": _first(record, ("500",), "a"),
        "holdings": _holdings(record, call_number),
    })


def marc_to_dict(record, flavour=None):
    """Map a pymarc record by flavour (guessed when not given)."""
    flavour = flavour or guess_flavour(record)
    if flavour in ("unimarc", "cnmarc"):
        return unimarc_to_dict(record)
    return marc21_to_dict(record)
