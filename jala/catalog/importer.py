"""Importing records into the union catalogue: validate, match, upsert, in batches.

A record is matched to an existing union record by ISBN (ISBN-10 = ISBN-13) or, for journals,
ISSN; otherwise by normalised title + first author + year; never by the title alone. The source
record is kept as imported; re-importing an unchanged record changes nothing (upsert by
library + source_id, compared by content hash). A bad record is reported with its position
and skipped; the rest of the batch and the file go on.
"""
import collections
import concurrent.futures
import contextlib
import functools
import gc
import hashlib
import json
import multiprocessing
import re
import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import psycopg

from jala import clock
from jala.catalog.marc import marc_to_dict
from jala.catalog.models import HOLDING_STATUSES, RECORD_TYPES
from jala.catalog.readers import BadRecord
from jala.extensions import db
from jala.membership import library_ids_by_code
from jala.search.indexing import build_document, extra_fields
from jala.search.normalize import canonical_isbn, canonical_issn
from jala.search.tokens import BinaryTsvector, binary_tsvectors

BATCH_SIZE = 1000
BATCHES_AHEAD = 2
MAX_REPORTED_ERRORS = 1000
KNOWN_FIELDS = {"source_id", "type", "title", "authors", "title_pinyin", "keywords", "subjects",
                "abstract", "publisher", "year", "isbn", "issn", "clc", "journal", "volume",
                "issue", "pages", "page_count", "doi", "language", "discipline", "category",
                "url", "holdings"}
TEXT_LIMITS = {"title": 2000, "abstract": 20000, "publisher": 500, "clc": 100, "journal": 500,
               "volume": 50, "issue": 50, "pages": 50, "doi": 200, "language": 20,
               "discipline": 200, "category": 200, "url": 2000, "title_pinyin": 2000}
RECORD_COLUMNS = ("type", "title", "title_key", "title_pinyin", "authors", "keywords",
                  "subjects", "abstract", "publisher", "year", "isbn", "issn", "clc", "journal",
                  "volume", "issue", "pages", "page_count", "doi", "language", "discipline",
                  "category", "url", "extra", "match_key", "search_text",
                  "pinyin_key")
COPY_COLUMNS = (*RECORD_COLUMNS, "search_vector", "title_vector")


class InvalidRecord(Exception):
    """A record that breaks the import contract."""


@dataclass
class ImportStats:
    """What an import did, and the records it skipped."""

    read: int = 0
    created: int = 0
    merged: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    errors: list = field(default_factory=list)

    def skip(self, position, reason):
        self.skipped += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append({"position": position, "reason": reason})

    def summary(self):
        return (f"{self.read} read: {self.created} new, {self.merged} joined existing records, "
                f"{self.updated} updated, {self.unchanged} unchanged, {self.skipped} skipped")


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
    encoded = encode_source(stored)
    return encoded, hashlib.sha1(encoded.encode()).hexdigest()


def _copy_field(value):
    """One value in COPY's text format, as psycopg's write_row would send it."""
    if value is None:
        return "\\N"
    if not isinstance(value, str):
        return str(value)
    if "\\" in value or "\n" in value or "\r" in value or "\t" in value:
        return (value.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
                .replace("\t", "\\t"))
    return value


# Binary COPY of the records table: the tsvectors are the bulk of a row, and PostgreSQL reads
# them several times faster in binary than as text literals. Every value is length-prefixed.
_LENGTH = struct.Struct(">i").pack
_NULL = _LENGTH(-1)
_INT4 = struct.Struct(">ii").pack
_INT4_ARRAY = struct.Struct(">iiiiii").pack  # length, ndim, has nulls, element oid, size, base
_TEXT_ARRAY = struct.Struct(">iiiii").pack  # ndim, has nulls, element oid, size, base
_TEXT_OID, _INT4_OID = 25, 23
_EMPTY_TEXT_ARRAY = _LENGTH(12) + struct.pack(">iii", 0, 0, _TEXT_OID)
_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\0" + struct.pack(">ii", 0, 0)
_COPY_TRAILER = struct.pack(">h", -1)
_TSVECTOR_OID = 3614
_POSTGRES_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def _binary_text(value):
    if value is None:
        return _NULL
    data = value.encode()
    return _LENGTH(len(data)) + data


def _binary_int(value):
    return _NULL if value is None else _INT4(4, value)


def _binary_texts(values):
    if not values:
        return _EMPTY_TEXT_ARRAY
    data = [_TEXT_ARRAY(1, 0, _TEXT_OID, len(values), 1)]
    for value in values:
        encoded = value.encode()
        data += (_LENGTH(len(encoded)), encoded)
    data = b"".join(data)
    return _LENGTH(len(data)) + data


def _binary_jsonb(text):
    data = b"\1" + text.encode()  # version 1: the JSON text
    return _LENGTH(len(data)) + data


def _binary_tsvector(value):
    return _LENGTH(len(value)) + value


_BINARY_ENCODERS = tuple(
    _binary_texts if c in ("authors", "keywords", "subjects", "isbn", "issn")
    else _binary_int if c in ("year", "page_count")
    else _binary_jsonb if c == "extra"
    else _binary_tsvector if c in ("search_vector", "title_vector")
    else _binary_text for c in COPY_COLUMNS)


def _binary_timestamp(instant):
    return struct.pack(">iq", 8, (instant - _POSTGRES_EPOCH) // timedelta(microseconds=1))


def _binary_int4_array(values):
    return (_INT4_ARRAY(20 + 8 * len(values), 1, 0, _INT4_OID, len(values), 1)
            + b"".join([_INT4(4, v) for v in values])) if values else \
        _LENGTH(12) + struct.pack(">iii", 0, 0, _INT4_OID)


class _TsvectorDumper(psycopg.adapt.Dumper):
    """Sends a ``BinaryTsvector`` as a binary parameter (the UPDATE of a changed record)."""

    format = psycopg.pq.Format.BINARY
    oid = _TSVECTOR_OID

    def dump(self, obj):
        return obj


def prepare(raw, position, library_id, libraries, stored=None, source=None, columns=True):
    """Check one record against the contract and compute everything the database needs.

    ``stored`` is the record as the library sent it (MARC as a dict), kept for provenance;
    by default the JSON record itself. ``source`` is ``(encoded, content hash)`` of it when the
    caller has them. ``columns`` false leaves out the values an UPDATE would need (a record
    known to be new is written by COPY alone).
    """
    source_id = raw.get("source_id")
    if isinstance(source_id, int) and not isinstance(source_id, bool):
        source_id = str(source_id)
    if not isinstance(source_id, str) or not source_id.strip():
        raise InvalidRecord("missing source_id")
    source_id = source_id.strip()
    if len(source_id) > 200:
        raise InvalidRecord("source_id is longer than 200 characters")
    title = _text(raw.get("title"), "title")
    if not title:
        raise InvalidRecord("missing title")
    record_type = (_text(raw.get("type"), "type") or "book").lower()
    if record_type not in RECORD_TYPES:
        raise InvalidRecord(f"unknown type {record_type!r}")
    fields = {
        "type": record_type,
        "title": title,
        "title_pinyin": _text(raw.get("title_pinyin"), "title_pinyin"),
        "authors": _text_list(raw.get("authors"), "authors"),
        "keywords": _text_list(raw.get("keywords"), "keywords"),
        "subjects": _text_list(raw.get("subjects"), "subjects"),
        "abstract": _text(raw.get("abstract"), "abstract"),
        "publisher": _text(raw.get("publisher"), "publisher"),
        "year": _int(raw.get("year"), "year", 1000, 2100),
        "isbn_list": _identifiers(raw.get("isbn"), canonical_isbn),
        "issn_list": _identifiers(raw.get("issn"), canonical_issn),
        "clc": _text(raw.get("clc"), "clc"),
        "journal": _text(raw.get("journal"), "journal"),
        "volume": _text(raw.get("volume"), "volume"),
        "issue": _text(raw.get("issue"), "issue"),
        "pages": _text(raw.get("pages"), "pages"),
        "page_count": _int(raw.get("page_count"), "page_count", 0, 1_000_000),
        "doi": _text(raw.get("doi"), "doi"),
        "language": (_text(raw.get("language"), "language") or "").lower() or None,
        "discipline": _text(raw.get("discipline"), "discipline"),
        "category": _text(raw.get("category"), "category"),
        "url": _text(raw.get("url"), "url"),
    }
    extra = {k: v for k, v in raw.items() if k not in KNOWN_FIELDS}
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
                  search_vector=document["search_vector"],
                  title_vector=document["title_vector"])
    row = [values[c] for c in COPY_COLUMNS]
    encoded, content_hash = source or _encoded_and_hash(raw if stored is None else stored)
    return Prepared(
        position=position, source_id=source_id, raw=encoded, content_hash=content_hash,
        copy_row=b"".join([encode(v) for encode, v in zip(_BINARY_ENCODERS, row, strict=True)]),
        columns=dict(zip(COPY_COLUMNS, row, strict=True)) if columns else None,
        holdings=holdings, identifiers=identifiers, match_key=document["match_key"],
    )


def _cursor():
    """A cursor on the session's connection, set up for the import's statements."""
    cur = db.session.connection().connection.driver_connection.cursor()
    # an interrupted import is simply run again (it is idempotent): no need to wait for the
    # WAL flush at every batch. JIT compilation never pays for the import's index probes, and
    # the planner's guesses on tables without current statistics would trigger it.
    cur.execute("SET LOCAL synchronous_commit = off; SET LOCAL jit = off")
    # long values (abstracts, their tsvectors, the source records) compressed with lz4 where
    # the server has it: pglz took a sixth of a bulk load's time in PostgreSQL. A value is
    # read back the same whichever way it was compressed.
    cur.execute("SELECT set_config('default_toast_compression', 'lz4', true) FROM pg_settings "
                "WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)")
    cur.adapters.register_dumper(BinaryTsvector, _TsvectorDumper)
    return cur


_UPDATE_RECORD = (
    "UPDATE records SET " + ", ".join(f"{c} = %({c})s" for c in RECORD_COLUMNS)
    + ", search_vector = %(search_vector)b, title_vector = %(title_vector)b,"
    " updated_at = %(now)s WHERE id = %(record_id)s"
)


def _allocate_ids(cur, sequence, count):
    if not count:
        return []
    cur.execute("SELECT nextval(%s) FROM generate_series(1, %s)", (sequence, count))
    return [row[0] for row in cur.fetchall()]


def _source_id_of(raw):
    source_id = raw.get("source_id")
    if isinstance(source_id, int) and not isinstance(source_id, bool):
        return str(source_id)
    return source_id.strip() if isinstance(source_id, str) else None


def _prepare_or_reason(library_id, libraries, args):
    """``prepare`` as the pool runs it: Prepared, why the record is bad, or None if unchanged.

    ``known_hash`` is the content hash the database has for the record, if any; ``known``
    asks for the values an UPDATE needs.
    """
    fields, position, stored, known_hash, known = args
    source = _encoded_and_hash(fields if stored is None else stored)
    if known_hash is not None and source[1] == known_hash:
        return None
    try:
        return prepare(fields, position, library_id, libraries, stored=stored, source=source,
                       columns=known)
    except InvalidRecord as exc:
        return str(exc)


# The lookups of a batch probe an index once per key: "CROSS JOIN LATERAL (… OFFSET 0)" keeps
# the planner to that. A bulk load outgrows the tables' statistics (and there are none before
# the first ANALYZE), and then "key = ANY(…)" or a plain join is planned as a scan of the
# library's rows or of the whole table, once per batch.


def _existing_sources(cur, library_id, source_ids):
    cur.execute("SELECT s.source_id, s.id, s.record_id, s.content_hash "
                "FROM unnest(%s::text[]) AS wanted(source_id) CROSS JOIN LATERAL ("
                "  SELECT source_id, id, record_id, content_hash FROM source_records"
                "  WHERE library_id = %s AND source_id = wanted.source_id OFFSET 0) s",
                (source_ids, library_id))
    return {row[0]: row[1:] for row in cur.fetchall()}


@dataclass
class _Started:
    """A batch looked up and handed to the pool, not written yet."""

    work: list
    prepared: object  # iterator over the results of _prepare_or_reason, in order
    existing: dict
    source_ids: list
    look_again: bool


def _start_batch(pending, library_id, libraries, pool, unwritten=frozenset()):
    """Look up a batch of ``(position, fields, stored)`` and start preparing it.

    ``unwritten`` holds the source ids of the batches before, not written yet: the lookup
    cannot see what those batches will write, so these records are prepared in full and this
    batch is looked up again when it is written.
    """
    cur = _cursor()
    source_ids = [sid for _, fields, _ in pending if (sid := _source_id_of(fields))]
    existing = _existing_sources(cur, library_id, source_ids)
    work = []
    for position, fields, stored in pending:
        source_id = _source_id_of(fields)
        if source_id in unwritten:
            work.append((fields, position, stored, None, True))
        else:
            known = existing.get(source_id)
            work.append((fields, position, stored,
                         known[2] if known else None, known is not None))
    # the library ids go to the pool once per chunk, not with every record
    prepare_one = functools.partial(_prepare_or_reason, library_id, libraries)
    prepared = pool.map(prepare_one, work, chunksize=64) if pool and len(work) > 64 \
        else map(prepare_one, work)
    return _Started(work, prepared, existing, source_ids,
                    look_again=any(sid in unwritten for sid in source_ids))


def _write_batch(started, library_id, format_name, stats):
    """Match the prepared records of a batch to union records and write them (caller commits).

    The pool prepares records in parallel (tokenising and romanising are the CPU-heavy part
    of an import), the next batch while this one is written.
    """
    cur = _cursor()
    existing = started.existing
    if started.look_again:
        existing = _existing_sources(cur, library_id, started.source_ids)
    now = clock.now()
    stamp = now.isoformat()  # as COPY text
    by_source = {}  # the last occurrence of a source_id in a batch wins
    for args, item in zip(started.work, started.prepared, strict=True):
        if item is None or (not isinstance(item, str) and (
                known := existing.get(item.source_id)) and known[2] == item.content_hash):
            stats.unchanged += 1
        elif isinstance(item, str):
            stats.skip(args[1], item)
        else:
            by_source[item.source_id] = item
    batch = list(by_source.values())

    fresh, changed = [], []
    for item in batch:
        known = existing.get(item.source_id)
        if known is None:
            fresh.append(item)
        else:
            changed.append((item, known[0], known[1]))

    # find union records for the fresh ones: identifiers first, then the match key
    idents = [(k, v) for item in fresh for k, v in item.identifiers]
    by_identifier = {}
    if idents:
        cur.execute("SELECT i.kind, i.value, i.record_id "
                    "FROM unnest(%s::text[], %s::text[]) AS wanted(kind, value) "
                    "CROSS JOIN LATERAL ("
                    "  SELECT kind, value, record_id FROM record_identifiers"
                    "  WHERE kind = wanted.kind AND value = wanted.value OFFSET 0) i",
                    ([k for k, _ in idents], [v for _, v in idents]))
        by_identifier = {(k, v): rid for k, v, rid in cur.fetchall()}
    keys = list(dict.fromkeys(item.match_key for item in fresh if item.match_key))
    by_key = {}  # match key -> the lowest record id with it
    if keys:
        cur.execute("SELECT wanted.key, r.id FROM unnest(%s::text[]) AS wanted(key) "
                    "CROSS JOIN LATERAL ("
                    "  SELECT id FROM records WHERE match_key = wanted.key OFFSET 0) r", (keys,))
        for key, record_id in cur.fetchall():
            by_key[key] = min(record_id, by_key.get(key, record_id))

    targets = {}  # source_id -> record id (known) or index into to_create
    to_create = []
    in_batch = {}
    for item in fresh:
        record_id = next((by_identifier[i] for i in item.identifiers if i in by_identifier),
                         None) or (by_key.get(item.match_key) if item.match_key else None)
        if record_id:
            targets[item.source_id] = record_id
            stats.merged += 1
            continue
        twin = next((in_batch[i] for i in item.identifiers if i in in_batch), None)
        if twin is None and item.match_key:
            twin = in_batch.get(("key", item.match_key))
        if twin is not None:
            targets[item.source_id] = ("new", twin)
            stats.merged += 1
            continue
        index = len(to_create)
        to_create.append(item)
        targets[item.source_id] = ("new", index)
        for ident in item.identifiers:
            in_batch.setdefault(ident, index)
        if item.match_key:
            in_batch.setdefault(("key", item.match_key), index)
        stats.created += 1

    # holding libraries of the new records are known here: write them with the row, so that
    # a bulk load writes each row once (an UPDATE afterwards would double the table)
    new_libraries = [set() for _ in to_create]
    for item in fresh:
        target = targets[item.source_id]
        if isinstance(target, tuple):
            new_libraries[target[1]].update(lib for lib, _, _, _ in item.holdings)
    new_ids = _allocate_ids(cur, "records_id_seq", len(to_create))
    if to_create:
        with cur.copy("COPY records (id, " + ", ".join(COPY_COLUMNS) + ", holdings_count, "
                      "library_ids, created_at, updated_at) FROM STDIN (FORMAT BINARY)") as copy:
            # the rows come from the workers in COPY's binary format already: only the ids,
            # the holding libraries and the time are added here
            row_start = struct.pack(">h", len(COPY_COLUMNS) + 5) + _LENGTH(8)
            stamps = _binary_timestamp(now) * 2
            copy.write(b"".join([_COPY_SIGNATURE, *[
                row_start + record_id.to_bytes(8, "big") + item.copy_row + _INT4(4, len(libs))
                + _binary_int4_array(sorted(libs)) + stamps
                for record_id, item, libs in zip(new_ids, to_create, new_libraries, strict=True)],
                _COPY_TRAILER]))
    existing_targets = {t for t in targets.values() if not isinstance(t, tuple)}
    for source_id, target in targets.items():
        if isinstance(target, tuple):
            targets[source_id] = new_ids[target[1]]

    # a changed source record rewrites its union record when it is that record's only source
    if changed:
        cur.execute("SELECT record_id, count(*) FROM source_records WHERE record_id = ANY(%s) "
                    "GROUP BY record_id", ([rid for _, _, rid in changed],))
        source_counts = dict(cur.fetchall())
        updates = [dict(item.columns, now=now, record_id=rid)
                   for item, _, rid in changed if source_counts.get(rid) == 1]
        if updates:
            cur.executemany(_UPDATE_RECORD, updates)
        for item, _, rid in changed:
            targets[item.source_id] = rid
        stats.updated += len(changed)
        # changed source records are updated where they are, and so are their holdings
        cur.executemany("UPDATE source_records SET raw = %s::jsonb, content_hash = %s, "
                        "format = %s, updated_at = %s WHERE id = %s",
                        [(item.raw, item.content_hash, format_name, now, sid)
                         for item, sid, _ in changed])
        _update_holdings_in_place(cur, changed, targets, now)

    written = fresh + [item for item, _, _ in changed]
    if written:
        # new source records and their holdings go in by COPY
        source_ids = _allocate_ids(cur, "source_records_id_seq", len(fresh))
        ident_rows = [(k, v, targets[item.source_id])
                      for item in written for k, v in item.identifiers]
        referenced = existing_targets | {rid for _, _, rid in changed}
        referenced.update(r for _, _, r in ident_rows)
        referenced.difference_update(new_ids)
        holding_libraries = {lib for item in fresh for lib, _, _, _ in item.holdings}
        with _references_held(cur, referenced, holding_libraries | {library_id}):
            _copy_sources_and_holdings(cur, fresh, source_ids, targets, library_id,
                                       format_name, stamp)
            if ident_rows:
                cur.execute("INSERT INTO record_identifiers (kind, value, record_id) "
                            "SELECT * FROM unnest(%s::text[], %s::text[], %s::bigint[]) "
                            "ON CONFLICT DO NOTHING", ([k for k, _, _ in ident_rows],
                                                       [v for _, v, _ in ident_rows],
                                                       [r for _, _, r in ident_rows]))
    touched = sorted(existing_targets | {rid for _, _, rid in changed})
    if not touched:
        return
    cur.execute(
        "UPDATE records r SET holdings_count = s.n, library_ids = s.libs FROM ("
        "  SELECT record_id, count(DISTINCT library_id) AS n, "
        "         array_agg(DISTINCT library_id ORDER BY library_id) AS libs "
        "  FROM holdings WHERE record_id = ANY(%s) GROUP BY record_id) s "
        "WHERE r.id = s.record_id", (touched,))


def _copy_sources_and_holdings(cur, fresh, source_ids, targets, library_id, format_name, stamp):
    with cur.copy("COPY source_records (id, library_id, source_id, record_id, format, raw, "
                  "content_hash, imported_at, updated_at) FROM STDIN") as copy:
        copy.write("".join([
            f"{source_record_id}\t{library_id}\t{_copy_field(item.source_id)}\t"
            f"{targets[item.source_id]}\t{_copy_field(format_name)}\t{_copy_field(item.raw)}\t"
            f"{item.content_hash}\t{stamp}\t{stamp}\n"
            for source_record_id, item in zip(source_ids, fresh, strict=True)]))
    with cur.copy("COPY holdings (record_id, library_id, source_record_id, call_number, status, "
                  "location, updated_at) FROM STDIN") as copy:
        copy.write("".join([
            f"{targets[item.source_id]}\t{lib}\t{sid}\t{_copy_field(call)}\t{status}\t"
            f"{_copy_field(loc)}\t{stamp}\n"
            for item, sid in zip(fresh, source_ids, strict=True)
            for lib, call, status, loc in item.holdings]))


@contextlib.contextmanager
def _references_held(cur, record_ids, library_ids):
    """Write a batch's new rows without a foreign-key check per row, where that is allowed.

    PostgreSQL checks each new source record, holding and identifier row against the record
    and library it points at: a query, and a lock, per row and key, about a fifth of a bulk
    load. The rows written here point at records created in this transaction or at the
    ``record_ids`` and ``library_ids`` given: locking those once (FOR KEY SHARE, as the checks
    would) gives the same guarantee. The per-row checks are then skipped for the block
    (``session_replication_role = replica`` does that, and needs a superuser or PostgreSQL
    15's GRANT SET ON PARAMETER); without that right, or when a row has gone, the checks run
    as usual. The constraints themselves stay.
    """
    if not _may_skip_checks(cur):
        yield
        return
    wanted = sorted(record_ids)
    cur.execute("SELECT (SELECT count(*) FROM (SELECT FROM records WHERE id = ANY(%s) "
                "FOR KEY SHARE) r), (SELECT count(*) FROM (SELECT FROM libraries "
                "WHERE id = ANY(%s) FOR KEY SHARE) l)", (wanted, sorted(library_ids)))
    if cur.fetchone() != (len(wanted), len(library_ids)):
        yield
        return
    cur.execute("SET LOCAL session_replication_role = replica")
    try:
        yield
    finally:
        # (a failed statement has aborted the transaction, and its rollback resets the role)
        if cur.connection.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS:
            cur.execute("SET LOCAL session_replication_role = origin")


def _may_skip_checks(cur):
    """Whether this connection may skip the per-row foreign-key checks of a batch.

    Only when the role may set the replication role, and the tables written have no
    triggers but their foreign keys' (replica mode would silently skip any other trigger).
    """
    privilege = ("has_parameter_privilege('session_replication_role', 'SET')"
                 if cur.connection.info.server_version >= 150000 else "false")
    cur.execute(f"SELECT (current_setting('is_superuser') = 'on' OR {privilege}) AND NOT EXISTS ("
                "  SELECT FROM pg_trigger t LEFT JOIN pg_constraint c ON c.oid = t.tgconstraint"
                "  WHERE t.tgrelid IN ('source_records'::regclass, 'holdings'::regclass, "
                "                      'record_identifiers'::regclass)"
                "  AND t.tgenabled <> 'D' AND coalesce(c.contype, '') <> 'f')")
    return cur.fetchone()[0]


def _update_holdings_in_place(cur, changed, targets, now):
    """Bring the holdings of changed source records up to date without replacing their rows.

    Loans and requests point at a copy's row, so a copy that is still there (same library and
    call number) keeps its id; a copy the library no longer lists is deleted, unless a loan or
    request points at it: then it stays, with its status unknown.
    """
    cur.execute("SELECT id, source_record_id, library_id, coalesce(call_number, '') "
                "FROM holdings WHERE source_record_id = ANY(%s) ORDER BY id",
                ([sid for _, sid, _ in changed],))
    existing = {}
    for holding_id, sid, library_id, call in cur.fetchall():
        existing.setdefault((sid, library_id, call), []).append(holding_id)
    updates, inserts = [], []
    for item, sid, _rid in changed:
        record_id = targets[item.source_id]
        for library_id, call, status, location in item.holdings:
            same = existing.get((sid, library_id, call or ""))
            if same:
                updates.append((record_id, status, location, now, same.pop(0)))
            else:
                inserts.append((record_id, library_id, sid, call, status, location, now))
    if updates:
        cur.executemany("UPDATE holdings SET record_id = %s, status = %s, location = %s, "
                        "updated_at = %s WHERE id = %s", updates)
    gone = [holding_id for ids in existing.values() for holding_id in ids]
    if gone:
        cur.execute("DELETE FROM holdings h WHERE h.id = ANY(%s) "
                    "AND NOT EXISTS (SELECT 1 FROM ill_requests r WHERE r.holding_id = h.id) "
                    "AND NOT EXISTS (SELECT 1 FROM union_loans u WHERE u.holding_id = h.id)",
                    (gone,))
        cur.execute("UPDATE holdings SET status = 'unknown', updated_at = %s WHERE id = ANY(%s)",
                    (now, gone))
    if inserts:
        cur.executemany("INSERT INTO holdings (record_id, library_id, source_record_id, "
                        "call_number, status, location, updated_at) "
                        "VALUES (%s, %s, %s, %s, %s, %s, %s)", inserts)


def import_stream(items, library_code, *, format_name, flavour=None, progress=None,
                  batch_size=BATCH_SIZE, commit=True, workers=1):
    """Import ``(position, dict | pymarc.Record | BadRecord)`` items for a library.

    Commits after every batch (so a huge file does not hold one transaction open) unless
    ``commit`` is false. ``progress(stats)`` is called after each batch. ``workers`` > 1
    prepares records in that many processes.
    """
    if workers > 1:
        context = multiprocessing.get_context("fork")
        # the workers leave what they inherit out of their garbage collections (gc.freeze):
        # scanning it would cost time and unshare the pages
        with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context,
                                                    initializer=gc.freeze) as pool:
            return _import_stream(items, library_code, format_name, flavour, progress,
                                  batch_size, commit, pool)
    return _import_stream(items, library_code, format_name, flavour, progress, batch_size,
                          commit, None)


def _import_stream(items, library_code, format_name, flavour, progress, batch_size, commit,
                   pool):
    libraries = library_ids_by_code()
    library_id = libraries.get((library_code or "").strip().upper())
    if library_id is None:
        raise InvalidRecord(f"{library_code!r} is not a member library")
    stats = ImportStats()
    pending = []
    # batches started and not written yet: the pool prepares the later ones while the first is
    # written, two ahead so that it never runs out of work while a batch is read or written
    started = collections.deque()
    ahead = BATCHES_AHEAD if pool else 1

    def flush(last=False):
        if pending:
            unwritten = {sid for batch in started for sid in batch.source_ids}
            started.append(_start_batch(list(pending), library_id, libraries, pool, unwritten))
            pending.clear()
        while started and (last or len(started) > ahead):
            _write_batch(started.popleft(), library_id, format_name, stats)
            if commit:
                db.session.commit()
        if progress:
            progress(stats)

    for position, item in items:
        stats.read += 1
        if isinstance(item, BadRecord):
            stats.skip(position, item.reason)
            continue
        if isinstance(item, dict):
            pending.append((position, item, None))
        else:
            try:
                pending.append((position, marc_to_dict(item, flavour), item.as_dict()))
            except (ValueError, TypeError, AttributeError) as exc:
                stats.skip(position, f"broken MARC record: {exc}")
                continue
        if len(pending) >= batch_size:
            flush()
    flush(last=True)
    return stats
