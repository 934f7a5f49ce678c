"""UNIMARC and CNMARC bibliographic records → the JSON Lines record shape of the import contract.

CNMARC is UNIMARC as China's libraries write it: the title's pinyin in 200 $A, the names' in
70x $A, roles in $4 as words (主编, 译) as often as codes (340, 730).
"""
import re

from jala.catalog.isbd import join_title, strip_isbd
from jala.catalog.marc_parts import (
    control_number,
    date_of,
    first,
    first_clean,
    full_date,
    holdings,
    page_count,
    role_of,
    unique,
    values,
    without_empty,
    year_of,
)
from jala.catalog.vocabulary import language_code

CJK_RE = re.compile(r"[\u3400-\u9fff]")
PERSON_TAGS, CORPORATE_TAGS = ("700", "701", "702"), ("710", "711", "712")
# leader/06 → type for the kinds of record whose type the leader alone says
TYPE_OF_RECORD = {"c": "score", "d": "score", "e": "map", "f": "map", "g": "video",
                  "i": "audio", "j": "audio", "k": "other", "l": "other", "m": "other",
                  "r": "other"}
# 105 $a/4-7 (form of contents) → type
FORM_OF_CONTENTS = {"m": "thesis", "v": "thesis", "k": "patent", "l": "standard",
                    "p": "report"}
# a role word that ends a statement of responsibility (200 $f/$g): "李强主编", "王五译"
_STATEMENT_ROLE_RE = re.compile(
    r"(总主编|副主编|主编|编著|编译|合译|翻译|译注|编纂|汇编|选编|编选|编|译|著)\W*$")
# the words before names in a statement of responsibility that say their role
_STATEMENT_LEAD_RES = {
    "translator": re.compile(r"\b(translated|trans\.|traduzione|tradotto|traduit|traducción|"
                             r"übersetzt|übers\.)", re.I),
    "editor": re.compile(r"\b(edited|ed\. by|a cura di|herausgegeben|hrsg\.|sous la direction|"
                         r"édité)", re.I),
}
_DEGREE_RE = re.compile(r"(博士|硕士|学士)")


def _coded(record, tag, start, end):
    """Positions ``start:end`` of a coded-data field's $a (100, 105, 106, 110…)."""
    coded = first(record, (tag,), "a") or ""
    return coded[start:end]


def record_type(record):
    """The type a UNIMARC record's leader and coded data (105, 106, 110, 328) say it is."""
    kind, level = record.leader[6:7], record.leader[7:8]
    if kind in TYPE_OF_RECORD:
        return TYPE_OF_RECORD[kind]
    if level in ("s", "i"):
        return "newspaper" if _coded(record, "110", 0, 1) == "c" else "journal"
    if record.get_fields("328"):
        return "thesis"
    form = _coded(record, "105", 4, 8)
    for code, name in FORM_OF_CONTENTS.items():
        if code in form:
            return name
    if _coded(record, "105", 8, 9) == "1":
        return "conference"
    if _coded(record, "106", 0, 1) == "s":
        return "ebook"
    return "book"


def _title(field):
    """``(title, parallel titles, pinyin)`` from 200: $a, its part ($h, $i), then $e."""
    if field is None:
        return None, [], None
    main = " ; ".join(strip_isbd(v) for v in field.get_subfields("a") if strip_isbd(v))
    for code, value in ((s.code, strip_isbd(s.value)) for s in field.subfields):
        if code in ("h", "i") and value and main:
            main = f"{main}. {value}"
    subtitle = " ".join(strip_isbd(v) for v in field.get_subfields("e")) or None
    pinyin = " ".join(field.get_subfields("A")).strip() or None
    parallels = [strip_isbd(v) for v in field.get_subfields("d") if strip_isbd(v)]
    return join_title(main or None, subtitle), parallels, pinyin


def _joined(parts):
    """Parts of a name: run together in Chinese (李 + 强), else after a comma or full stop."""
    parts = [p for p in parts if p]
    if len(parts) < 2:
        return parts[0] if parts else None
    return "".join(parts) if CJK_RE.search(parts[0]) else None


def _person(field):
    surname, forenames = first_clean(field, "a"), first_clean(field, "b")
    return _joined([surname, forenames]) or ", ".join(filter(None, (surname, forenames)))


def _organisation(field):
    units = [strip_isbd(v) for v in field.get_subfields("a", "b")]
    return _joined(units) or ". ".join(unique(units))


def _statement_role(record, name):
    """The role a statement of responsibility (200 $f, $g) gives ``name``, or None.

    ``name`` is the entry element (a surname): "$g王五译", "$gtraduzione di Cesare Scaglia".
    """
    field = record.get("200")
    for statement in field.get_subfields("f", "g") if field else ():
        for group in re.split(r"[;；]", statement):
            if name not in group:
                continue
            for role, pattern in _STATEMENT_LEAD_RES.items():
                if pattern.search(group.split(name)[0]):
                    return role
            match = _STATEMENT_ROLE_RE.search(group)
            return role_of([match.group(1)]) if match else None
    return None


def _names(record):
    """Authors, editors and translators (by $4, else by 200's statement), and organisations."""
    found = {"authors": [], "editor": [], "translator": [], "corporate-authors": []}
    for field in record.get_fields(*PERSON_TAGS, *CORPORATE_TAGS):
        corporate = field.tag in CORPORATE_TAGS
        name = _organisation(field) if corporate else _person(field)
        if not name:
            continue
        role = (role_of(field.get_subfields("4"))
                or _statement_role(record, first_clean(field, "a") or name))
        found[role or "authors"].append(name)
        if corporate:
            found["corporate-authors"].append(name)
    return {k: unique(v) for k, v in found.items()}


def _event(record):
    """A meeting (71x with first indicator 1): name, place ($e) and date ($f)."""
    for field in record.get_fields(*CORPORATE_TAGS):
        if field.indicator1 == "1":
            return {"event": _organisation(field), "event-place": first_clean(field, "e"),
                    "event-date": date_of(field.get("f"))}
    return {}


def _thesis(record):
    """Degree and institution from 328 ($b, $e; or a note like '博士学位论文 北京大学')."""
    field = record.get("328")
    if field is None:
        return {}
    note = field.get("a") or ""
    named = _DEGREE_RE.search(note)
    degree = first_clean(field, "b") or (named.group(1) if named else None)
    institution = first_clean(field, "e")
    if not institution and note:
        rest = re.sub(r".*学位论文|\d{4}.*$", "", note).strip(" ,，.-—")
        institution = rest or None
    return {"degree": degree, "institution": institution}


def _identifiers(record):
    """DOI and other numbers (017 $a by its $2), and the URL (856 $u)."""
    doi = numbers = None
    for field in record.get_fields("017"):
        if (field.get("2") or "").strip().lower() == "doi":
            doi = doi or first_clean(field, "a")
        else:
            numbers = numbers or first_clean(field, "a")
    urls = values(record, ("856",), "u")
    return {"doi": doi, "number": numbers, "url": urls[0] if urls else None}


def unimarc_to_dict(record):
    """UNIMARC/CNMARC: 010 ISBN, 200 title, 205 edition, 210 publication, 7xx names, 690 CLC."""
    title, parallels, pinyin = _title(record.get("200"))
    names = _names(record)
    kind = record_type(record)
    date = first(record, ("210", "214"), "d")
    call_number = first(record, ("090",), "u") or first(record, ("905",), "s")
    edition = record.get("205")
    fields = {
        "source_id": control_number(record), "type": kind, "title": title,
        "title-variants": parallels, "title_pinyin": pinyin, **names,
        "authors_pinyin": values(record, PERSON_TAGS, "A"),
        "subjects": values(record, ("600", "601", "605", "606", "607"), "a"),
        "keywords": values(record, ("610",), "a"),
        "abstract": first(record, ("330",), "a"),
        "place": first_clean(record.get("210") or record.get("214"), "a"),
        "publisher": first_clean(record.get("210") or record.get("214"), "c"),
        "year": year_of(date) or year_of(_coded(record, "100", 9, 13)),
        "issued": full_date(date),
        "edition": " ".join(filter(None, (first_clean(edition, "a"), first_clean(edition, "b"))))
        if edition else None,
        "isbn": first(record, ("010",), "a"),
        "issn": first(record, ("011",), "a"),
        "clc": first(record, ("690",), "a"),
        "language": language_code(first(record, ("101",), "a")),
        "page_count": page_count(first(record, ("215",), "a")),
        "series": first(record, ("225",), "a"),
        "notes": first(record, ("300",), "a"),
        **_event(record), **_identifiers(record),
        "holdings": holdings(record, call_number),
    }
    if kind == "thesis":
        fields.update(_thesis(record))
    return without_empty(fields)
