"""Catalogue services used by the CLI, the upload page and the demo: opening files, imports."""
import io

from flask_babel import gettext as _

from jala.catalog.models import Record
from jala.catalog.readers import (
    CountingReader,
    ImportFileError,
    detect_format,
    read_jsonl,
    read_marc,
    read_marcxml,
)
from jala.errors import NotFound
from jala.extensions import db


def open_records(raw_file, filename, format_name=None, encoding="utf-8"):
    """Wrap a binary file: ``(byte counter, (position, item) iterator, format)``."""
    counter = CountingReader(raw_file)
    stream = io.BufferedReader(counter, buffer_size=1 << 16)
    if format_name is None:
        format_name = detect_format(stream.peek(64)[:64], filename)
    if format_name == "jsonl":
        items = read_jsonl(stream, encoding)
    elif format_name == "marcxml":
        items = read_marcxml(stream)
    elif format_name == "marc":
        items = read_marc(stream, encoding)
    else:
        raise ImportFileError(f"unknown format {format_name!r}")
    return counter, items, format_name


def get_record(record_id):
    """A record by its public id (a string of digits), or NotFound."""
    record_id = str(record_id)
    record = None
    if record_id.isdigit() and len(record_id) <= 18:
        record = db.session.get(Record, int(record_id))
    if record is None:
        raise NotFound(_("No record has the id %(id)s.", id=record_id[:40]))
    return record
