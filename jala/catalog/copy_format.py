"""PostgreSQL's COPY formats as an import writes them: binary rows of records, text fields.

Binary COPY of the records table: the tsvectors are the bulk of a row, and PostgreSQL reads
them several times faster in binary than as text literals. Every value is length-prefixed.
Source records and holdings go in by COPY's text format (``copy_field``).
"""
import struct
from datetime import UTC, datetime, timedelta

import psycopg

RECORD_COLUMNS = ("type", "title", "title_key", "title_pinyin", "authors", "keywords",
                  "subjects", "abstract", "publisher", "year", "isbn", "issn", "clc", "journal",
                  "volume", "issue", "pages", "page_count", "doi", "language", "discipline",
                  "category", "url", "extra", "match_key", "search_text",
                  "pinyin_key", "initials_key")
COPY_COLUMNS = (*RECORD_COLUMNS, "search_vector", "title_vector")

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


def copy_field(value):
    """One value in COPY's text format, as psycopg's write_row would send it."""
    if value is None:
        return "\\N"
    if not isinstance(value, str):
        return str(value)
    if "\\" in value or "\n" in value or "\r" in value or "\t" in value:
        return (value.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
                .replace("\t", "\\t"))
    return value


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


def binary_copy_row(row):
    """The values of ``COPY_COLUMNS`` (in that order), each in binary COPY format."""
    return b"".join([encode(v) for encode, v in zip(_BINARY_ENCODERS, row, strict=True)])


def _binary_timestamp(instant):
    return struct.pack(">iq", 8, (instant - _POSTGRES_EPOCH) // timedelta(microseconds=1))


def _binary_int4_array(values):
    return (_INT4_ARRAY(20 + 8 * len(values), 1, 0, _INT4_OID, len(values), 1)
            + b"".join([_INT4(4, v) for v in values])) if values else \
        _LENGTH(12) + struct.pack(">iii", 0, 0, _INT4_OID)


NEW_RECORDS_COPY = ("COPY records (id, " + ", ".join(COPY_COLUMNS) + ", holdings_count, "
                    "library_ids, created_at, updated_at) FROM STDIN (FORMAT BINARY)")


def new_records_copy_data(new_ids, items, libraries, now):
    """The whole binary COPY stream of ``NEW_RECORDS_COPY`` for new records.

    The rows come from the workers in COPY's binary format already (``item.copy_row``): only
    the ids, the holding libraries (a sorted list per record) and the time are added here.
    """
    row_start = struct.pack(">h", len(COPY_COLUMNS) + 5) + _LENGTH(8)
    stamps = _binary_timestamp(now) * 2
    return b"".join([_COPY_SIGNATURE, *[
        row_start + record_id.to_bytes(8, "big") + item.copy_row + _INT4(4, len(libs))
        + _binary_int4_array(sorted(libs)) + stamps
        for record_id, item, libs in zip(new_ids, items, libraries, strict=True)],
        _COPY_TRAILER])


class TsvectorDumper(psycopg.adapt.Dumper):
    """Sends a ``BinaryTsvector`` as a binary parameter (the UPDATE of a changed record)."""

    format = psycopg.pq.Format.BINARY
    oid = _TSVECTOR_OID

    def dump(self, obj):
        """The value as it is: it is in tsvector's binary format already."""
        return obj
