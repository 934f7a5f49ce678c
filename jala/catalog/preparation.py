"""Preparing one imported record: the import contract's checks, and the values to write.

``prepare`` turns a record as a library sent it into a ``Prepared`` one: checked fields, the
index columns (tsvectors, keys), the row for binary COPY, the holdings and the identifiers
it is matched by. It runs in the import's worker processes (tokenising and romanising are the
CPU-heavy part of an import), so it touches no database.
"""
import datetime
import functools
import hashlib
import json
import re
from typing import NamedTuple

from jala.catalog.clc import normalize_clc
from jala.catalog.copy_format import COPY_COLUMNS, binary_copy_row
from jala.catalog.models import HOLDING_STATUSES, RECORD_TYPES
from jala.catalog.vocabulary import language_code
from jala.search.indexing import build_document, extra_fields
from jala.search.normalize import canonical_isbn, canonical_issn
from jala.search.tokens import MAX_LEXEME_BYTES, binary_tsvectors, too_long_words

KNOWN_FIELDS = {"source_id", "type", "title", "authors", "title_pinyin", "keywords", "subjects",
                "abstract", "publisher", "year", "isbn", "issn", "clc", "journal", "volume",
                "issue", "pages", "page_count", "doi", "language", "discipline", "category",
                "url", "holdings"}
TEXT_LIMITS = {"title": 2000, "abstract": 20000, "publisher": 500, "clc": 100, "journal": 500,
               "volume": 50, "issue": 50, "pages": 50, "doi": 200, "language": 20,
               "discipline": 200, "category": 200, "url": 2000, "title_pinyin": 2000,
               "container-title": 2000, "number": 200}


class InvalidRecord(Exception):
    """A record that breaks the import contract."""


class Prepared(NamedTuple):
    """A valid record ready for the database (a tuple, which the pool sends back cheaply)."""

    position: int
    source_id: str
    raw: str
    content_hash: str
    copy_row: bytes  # COPY_COLUMNS in binary COPY format, for a new record
    columns: dict | None  # the same values for an UPDATE (None for a record known to be new)
    holdings: list
    identifiers: list
    match_key: str
    note: str | None = None  # what was left out of the record's index, reported


def _text(value, name):
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise InvalidRecord(f"{name} must be text")
    value = value.strip()
    if len(value) > TEXT_LIMITS.get(name, 1000):
        raise InvalidRecord(f"{name} is longer than {TEXT_LIMITS.get(name, 1000)} characters")
    return value or None


def _text_list(value, name):
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidRecord(f"{name} must be a list of texts")
    return [v.strip()[:500] for v in value if v.strip()][:200]


def _int(value, name, low, high):
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise InvalidRecord(f"{name} must be a whole number")
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(\d{1,6})\s*", value)
        if not match:
            raise InvalidRecord(f"{name} must be a whole number, not {value[:20]!r}")
        value = int(match.group(1))
    if not isinstance(value, int) or not low <= value <= high:
        raise InvalidRecord(f"{name} must be a whole number between {low} and {high}")
    return value


def _clc(value, name):
    return normalize_clc(_text(value, name))


def _language(value, name):
    return language_code(_text(value, name))


def _date(value, name):
    """A date as the contract writes it (YYYY, YYYY-MM or YYYY-MM-DD; a year may be a number)."""
    text = _text(value, name)
    if text is None:
        return None
    match = re.fullmatch(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", text)
    try:
        if not match or not 1000 <= int(match.group(1)) <= 2100:
            raise ValueError
        datetime.date(*(int(part or 1) for part in match.groups()))
    except ValueError:
        raise InvalidRecord(f"{name} must be a date written YYYY, YYYY-MM or YYYY-MM-DD, "
                            f"not {text[:20]!r}") from None
    return text


# The contract's fields besides source_id, type, title, ISBN, ISSN and holdings, each with its
# check, in the order they are checked: a record with several faults is reported by the first.
FIELD_CHECKS = {
    "title_pinyin": _text, "authors": _text_list, "keywords": _text_list,
    "subjects": _text_list, "abstract": _text, "publisher": _text,
    "year": functools.partial(_int, low=1000, high=2100),
    "clc": _clc, "journal": _text, "volume": _text, "issue": _text, "pages": _text,
    "page_count": functools.partial(_int, low=0, high=1_000_000),
    "doi": _text, "language": _language, "discipline": _text, "category": _text, "url": _text,
}
# the contract's CSL-JSON-style fields, kept in ``extra``: checked, and stored as checked
EXTRA_CHECKS = {
    "place": _text, "edition": _text, "translator": _text_list, "editor": _text_list,
    "corporate-authors": _text_list, "title-variants": _text_list, "container-title": _text,
    "number": _text, "issued": _date, "accessed": _date, "event": _text, "event-place": _text,
    "event-date": _date, "institution": _text, "degree": _text,
}


def _checked_extra(extra):
    """``extra`` with the contract's fields checked (InvalidRecord at the first bad one)."""
    for name, check in EXTRA_CHECKS.items():
        if name in extra:
            value = check(extra[name], name)
            if value in (None, []):
                del extra[name]
            else:
                extra[name] = value
    return extra


def _identifiers(value, canonical):
    values = value if isinstance(value, list) else [value] if value else []
    out = []
    for item in values:
        if isinstance(item, (str, int)):
            found = canonical(str(item))
            if found and found not in out:
                out.append(found)
    return out


def _holdings(value, default_library, libraries):
    if value in (None, []):
        return [(default_library, None, "unknown", None)]
    if not isinstance(value, list):
        raise InvalidRecord("holdings must be a list")
    out = []
    for item in value:
        if not isinstance(item, dict):
            raise InvalidRecord("each holding must be an object")
        code = str(item.get("library") or "").strip().upper() or None
        library_id = libraries.get(code) if code else default_library
        if library_id is None:
            raise InvalidRecord(f"holding at unknown library {code!r}")
        status = str(item.get("status") or "unknown").strip().lower()
        if status not in HOLDING_STATUSES:
            raise InvalidRecord(f"holding status {status!r} is not one of "
                                + ", ".join(HOLDING_STATUSES))
        out.append((library_id, _text(item.get("call_number"), "call_number"), status,
                    _text(item.get("location"), "location")))
    return out


def encode_source(stored):
    """The source record as kept (canonical JSON), and so the text its content hash is of."""
    return json.dumps(stored, ensure_ascii=False, sort_keys=True)


def _encoded_and_hash(stored):
    """The source record as kept and its content hash; InvalidRecord if it is not storable.

    PostgreSQL keeps no NUL character in text or JSON, and a lone surrogate (half of a UTF-16
    pair, which a JSON escape can carry) is not Unicode text at all.
    """
    encoded = encode_source(stored)
    try:
        data = encoded.encode()
    except UnicodeEncodeError:
        where, char = _unstorable(stored, _LONE_SURROGATE)
        raise InvalidRecord(f"{where} holds a lone surrogate (U+{ord(char):04X}), "
                            "which is not Unicode text") from None
    if "\\u0000" in encoded:  # (JSON escapes the NUL character)
        where, _ = _unstorable(stored, _NUL)
        if where is not None:
            raise InvalidRecord(f"{where} holds a NUL character (U+0000)")
    return encoded, hashlib.sha1(data).hexdigest()


_NUL = re.compile("\x00")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _unstorable(value, pattern, path=()):
    """``(where, character)``: the first text in a record that ``pattern`` finds, and where.

    ``where`` names the field by its keys ("title", "245/a" in MARC); ``(None, None)`` when
    nothing is found.
    """
    if isinstance(value, str):
        found = pattern.search(value)
        return ("/".join(path) or "a value", found.group()) if found else (None, None)
    if isinstance(value, dict):
        children = [(str(k), k) for k in value] + [(str(k), v) for k, v in value.items()]
    elif isinstance(value, list):
        children = [("", v) for v in value]
    else:
        return None, None
    for key, child in children:
        deeper = path + (_shown(key),) if key not in ("", "fields", "subfields") else path
        where, char = _unstorable(child, pattern, deeper)
        if where is not None:
            return where, char
    return None, None


def _shown(key):
    """A key as a report may show it: NUL and surrogates escaped (the report is JSON too)."""
    return "".join(c if c.isprintable() and not 0xD800 <= ord(c) <= 0xDFFF
                   else f"\\u{ord(c):04x}" for c in key)


def _index_note(fields):
    """What the search index leaves out of a record (words too long for it), or None."""
    cut = []
    for name, value in fields.items():
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str):
                cut += [(name, word) for word in too_long_words(text)]
    if not cut:
        return None
    name, word = cut[0]
    more = f" and {len(cut) - 1} more" if len(cut) > 1 else ""
    return (f"imported, but a word of {len(word.encode())} bytes in {name}{more} is left out "
            f"of the search index (it holds words of up to {MAX_LEXEME_BYTES:,} bytes)")


def source_id_of(raw):
    """The record's source id as the database keeps it, or None (checked by ``prepare``)."""
    source_id = raw.get("source_id")
    if isinstance(source_id, int) and not isinstance(source_id, bool):
        return str(source_id)
    return source_id.strip() if isinstance(source_id, str) else None


def _checked_source_id(raw):
    source_id = source_id_of(raw)
    if not source_id:
        raise InvalidRecord("missing source_id")
    if len(source_id) > 200:
        raise InvalidRecord("source_id is longer than 200 characters")
    return source_id


def prepare(raw, position, library_id, libraries, stored=None, source=None, columns=True):
    """Check one record against the contract and compute everything the database needs.

    ``stored`` is the record as the library sent it (MARC as a dict), kept for provenance;
    by default the JSON record itself. ``source`` is ``(encoded, content hash)`` of it when the
    caller has them. ``columns`` false leaves out the values an UPDATE would need (a record
    known to be new is written by COPY alone).
    """
    source_id = _checked_source_id(raw)
    title = _text(raw.get("title"), "title")
    if not title:
        raise InvalidRecord("missing title")
    record_type = (_text(raw.get("type"), "type") or "book").lower()
    if record_type not in RECORD_TYPES:
        raise InvalidRecord(f"unknown type {record_type!r}")
    fields = {"type": record_type, "title": title}
    fields.update((name, check(raw.get(name), name)) for name, check in FIELD_CHECKS.items())
    fields["isbn_list"] = _identifiers(raw.get("isbn"), canonical_isbn)
    fields["issn_list"] = _identifiers(raw.get("issn"), canonical_issn)
    extra = _checked_extra({k: v for k, v in raw.items() if k not in KNOWN_FIELDS})
    if fields["year"] is None and "issued" in extra:
        fields["year"] = int(extra["issued"][:4])
    fields.update(extra_fields(extra))
    holdings = _holdings(raw.get("holdings"), library_id, libraries)
    with binary_tsvectors():
        document = build_document(fields)
    identifiers = []
    if record_type not in ("article",):
        identifiers += [("isbn", v) for v in fields["isbn_list"]]
    if record_type == "journal":
        identifiers += [("issn", v) for v in fields["issn_list"]]
    values = dict(fields, isbn=fields["isbn_list"], issn=fields["issn_list"],
                  extra=json.dumps(extra, ensure_ascii=False) if extra else "{}",
                  title_key=document["title_key"], match_key=document["match_key"],
                  search_text=document["search_text"], pinyin_key=document["pinyin_key"],
                  initials_key=document["initials_key"],
                  search_vector=document["search_vector"],
                  title_vector=document["title_vector"])
    row = [values[c] for c in COPY_COLUMNS]
    encoded, content_hash = source or _encoded_and_hash(raw if stored is None else stored)
    return Prepared(
        position=position, source_id=source_id, raw=encoded, content_hash=content_hash,
        copy_row=binary_copy_row(row),
        columns=dict(zip(COPY_COLUMNS, row, strict=True)) if columns else None,
        holdings=holdings, identifiers=identifiers, match_key=document["match_key"],
        note=_index_note(fields),
    )


def prepare_or_reason(library_id, libraries, args):
    """``prepare`` as the pool runs it: Prepared, why the record is bad, or None if unchanged.

    ``args`` is ``(fields, position, stored, known_hash, known)``: ``known_hash`` is the
    content hash the database has for the record, if any; ``known`` asks for the values an
    UPDATE needs.
    """
    fields, position, stored, known_hash, known = args
    try:
        source = _encoded_and_hash(fields if stored is None else stored)
        if known_hash is not None and source[1] == known_hash:
            return None
        return prepare(fields, position, library_id, libraries, stored=stored, source=source,
                       columns=known)
    except InvalidRecord as exc:
        return str(exc)
