"""What MARC21 and UNIMARC/CNMARC records write alike: values, dates, roles, parts, holdings."""
import datetime
import re

from jala.catalog.isbd import strip_isbd

YEAR_RE = re.compile(r"(1[5-9]\d\d|20\d\d)")
PAGES_RE = re.compile(r"(\d+)\s*(?:页|p|pages|leaves)", re.IGNORECASE)
STATUS = {"available": "available", "check_holdings": "unknown", "unavailable": "on_loan"}
MONTHS = {name: number for number, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}
_NUMERIC_DATE_RE = re.compile(
    r"(1[5-9]\d\d|20\d\d)\s*[-./年]\s*(\d{1,2})(?:\s*[-./月]\s*(\d{1,2}))?")
_COMPACT_DATE_RE = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d)(\d\d)(\d\d)?(?!\d)")
_MONTH_WORD = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_WORDED_DATE_RES = (  # "May 5, 2004", "5 May 2004", "2004 Oct. 12-14", "2004 May"
    re.compile(_MONTH_WORD + r"\s+(\d{1,2}),?\s+(1[5-9]\d\d|20\d\d)", re.I),
    re.compile(r"(\d{1,2})\s+" + _MONTH_WORD + r",?\s+(1[5-9]\d\d|20\d\d)", re.I),
    re.compile(r"(1[5-9]\d\d|20\d\d),?\s+" + _MONTH_WORD + r"(?:\s+(\d{1,2}))?", re.I),
)
# relator codes and terms (MARC21 $e/$4, UNIMARC $4) of the roles a citation names apart
TRANSLATOR_ROLES = {"trl", "translator", "tr", "trans", "730"}
EDITOR_ROLES = {"edt", "editor", "ed", "eds", "com", "compiler", "comp", "340", "220",
                "主编", "编", "编者", "编辑", "编纂", "汇编", "总主编", "副主编", "选编", "编选"}


def values(record, tags, code):
    """Every non-blank ``code`` subfield of the ``tags`` fields, trimmed."""
    out = []
    for field in record.get_fields(*tags):
        out.extend(v.strip() for v in field.get_subfields(code) if v and v.strip())
    return out


def first(record, tags, code):
    """The first non-blank ``code`` subfield of the ``tags`` fields, or None."""
    found = values(record, tags, code)
    return found[0] if found else None


def first_clean(field, *codes):
    """The first non-blank subfield of ``codes`` in ``field``, without ISBD punctuation."""
    for value in field.get_subfields(*codes) if field else ():
        cleaned = strip_isbd(value)
        if cleaned:
            return cleaned
    return None


def year_of(text):
    """The first year in ``text`` ("c2004.", "1994年"), or None."""
    match = YEAR_RE.search(text or "")
    return int(match.group(1)) if match else None


def page_count(text):
    """The number of pages a physical description gives ("320页", "xxi, 289 p."), or None."""
    match = PAGES_RE.search(text or "")
    return int(match.group(1)) if match else None


def _valid(year, month, day=None):
    try:
        datetime.date(int(year), int(month), int(day or 1))
    except ValueError:
        return None
    return f"{int(year):04d}-{int(month):02d}" + (f"-{int(day):02d}" if day else "")


def full_date(text):
    """A date more precise than a year in ``text``, as ``YYYY-MM[-DD]``, or None.

    Reads 2004-03-15, 2004.3, 2004年3月15日, 20040315, May 5, 2004, 5 May 2004, 2004 Oct. 12.
    """
    text = text or ""
    for pattern in (_NUMERIC_DATE_RE, _COMPACT_DATE_RE):
        match = pattern.search(text)
        if match:
            return _valid(*match.groups())
    for number, pattern in enumerate(_WORDED_DATE_RES):
        match = pattern.search(text)
        if match:
            groups = match.groups()
            month_word, day, year = [(groups[0], groups[1], groups[2]),
                                     (groups[1], groups[0], groups[2]),
                                     (groups[1], groups[2], groups[0])][number]
            return _valid(year, MONTHS[month_word[:3].lower()], day)
    return None


def date_of(text):
    """``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY`` from ``text``, as precise as it says, or None."""
    found = full_date(text)
    if found:
        return found
    year = year_of(text)
    return str(year) if year else None


def role_of(terms):
    """'translator', 'editor' or None (an author, or a role citations do not name apart)."""
    for term in terms:
        word = strip_isbd(term or "").strip(" .,").lower()
        if word in TRANSLATOR_ROLES or (word and "译" in word):
            return "translator"
        if word in EDITOR_ROLES:
            return "editor"
    return None


_PART_RES = {
    "volume": (re.compile(r"\b(?:v|vol|volume|bd|t|tome)\.?\s*(\d+[a-z]?)", re.I),
               re.compile(r"第\s*(\d+)\s*卷")),
    "issue": (re.compile(r"\b(?:no|n|nr|issue|number|num|h|heft)\.?\s*(\d+(?:[-/]\d+)?)", re.I),
              re.compile(r"第\s*(\d+)\s*期")),
    "pages": (re.compile(r"\b(?:p|pp|s|pages?)\.?\s*(\d+(?:\s*[-–]\s*\d+)?)", re.I),
              re.compile(r"(\d+(?:\s*[-–]\s*\d+)?)\s*页")),
}
# "2004, 12(3): 45-67" and "12(3):45-67", as GB/T 7714 and most journals write a part
_CITED_PART_RE = re.compile(
    r"(\d+)\((\d{1,3}(?:[-/]\d{1,3})?)\)(?:\s*:\s*(\d+(?:\s*[-–]\s*\d+)?))?")
# 773 $q: "12:3<45"
_ENUMERATION_RE = re.compile(r"^\s*(\d+)(?::(\d+))?(?:<(\d+))?")


def _squash_range(text):
    return re.sub(r"\s*[-–]\s*", "-", text) if text else text


def parts_of(text, enumeration=None):
    """Volume, issue and pages of an item in its host ("Vol. 12, no. 3 (2004), p. 45-67")."""
    out = {}
    text = text or ""
    cited = _CITED_PART_RE.search(text)
    if cited:
        out = {"volume": cited.group(1), "issue": cited.group(2), "pages": cited.group(3)}
    for name, patterns in _PART_RES.items():
        for pattern in patterns:
            match = pattern.search(text)
            if match and not out.get(name):
                out[name] = match.group(1)
    listed = _ENUMERATION_RE.match(enumeration or "")
    if listed:
        for name, value in zip(("volume", "issue", "pages"), listed.groups(), strict=True):
            if value and not out.get(name):
                out[name] = value
    out["pages"] = _squash_range(out.get("pages"))
    return {k: v for k, v in out.items() if v}


# item fields: (tag, call number subfields and their joiner, location, barcode) — MARC21 852
# (location) and 876 (item), Koha's 952, CNMARC/CALIS 905 (馆藏信息: 分类号/书次号)
ITEM_FIELDS = (("852", ("h", "i"), " ", "b", "p"), ("876", (), "", "l", "p"),
               ("952", ("o",), "", "c", "p"), ("905", ("d", "e"), "/", "c", "b"))


def _items(record, call_number_fallback):
    """``{(call number, location): [barcodes]}`` from the item fields, in the record's order."""
    copies = {}
    for tag, call_codes, joiner, location_code, barcode_code in ITEM_FIELDS:
        for field in record.get_fields(tag):
            call = joiner.join(v.strip() for c in call_codes for v in field.get_subfields(c)
                            if v.strip()) or call_number_fallback
            location = (field.get(location_code) or "").strip() or None
            barcodes = [v.strip() for v in field.get_subfields(barcode_code) if v.strip()]
            copies.setdefault(((call or "").strip() or None, location), []).extend(barcodes)
    return copies


def holdings(record, call_number_fallback):
    """The copies: an Alma export's AVA fields, else the item fields with their barcodes.

    AVA gives call number, location and status; 852/876, Koha's 952 and CNMARC's 905 give call
    number, location and the barcodes live status asks the library's system about.
    """
    found = []
    for field in record.get_fields("AVA"):
        status = STATUS.get((field.get("e") or "").strip().lower(), "unknown")
        found.append({"call_number": (field.get("d") or call_number_fallback or "").strip()
                      or None, "location": (field.get("c") or "").strip() or None,
                      "status": status})
    if found:
        return found
    for (call, location), barcodes in _items(record, call_number_fallback).items():
        copy = {"call_number": call, "location": location, "status": "unknown"}
        if barcodes:
            copy["barcodes"] = list(dict.fromkeys(barcodes))
        found.append(copy)
    return found


def control_number(record):
    """The record's id in its library's catalogue (001), its source id in the union catalogue."""
    return record["001"].data.strip() if record.get("001") else None


def without_empty(record_dict):
    """The fields that have a value."""
    return {k: v for k, v in record_dict.items() if v not in (None, "", [], {})}


def unique(names):
    """``names`` without repeats, in order."""
    return list(dict.fromkeys(n for n in names if n))
