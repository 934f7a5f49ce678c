"""Catalogue records for tests: imports inside the test's transaction, the MARC samples."""
import io
import json
from pathlib import Path

from sqlalchemy import select

from jala.catalog.importer import import_stream
from jala.catalog.models import Record
from jala.catalog.readers import open_records
from jala.extensions import db

DEMO = Path(__file__).resolve().parents[2] / "jala" / "demo"  # the MARC samples ship here


def import_lines(records, library="JXUFE", encoding="utf-8", batch_size=50, workers=1):
    """Import JSON records (dicts or raw lines) inside the test's transaction."""
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]
    data = ("\n".join(lines) + "\n").encode(encoding)
    _, items, fmt = open_records(io.BytesIO(data), "test.jsonl", encoding=encoding)
    return import_stream(items, library, format_name=fmt, commit=False, batch_size=batch_size,
                         workers=workers)


def import_file(path, library, **kwargs):
    """Import a file (its format detected, or ``format_name``) inside the test's transaction."""
    with open(path, "rb") as raw:
        _, items, fmt = open_records(raw, str(path), kwargs.pop("format_name", None),
                                     kwargs.pop("encoding", "utf-8"))
        return import_stream(items, library, format_name=fmt, commit=False, **kwargs)


def records_titled(title):
    """The union records with exactly this title."""
    return db.session.execute(select(Record).where(Record.title == title)).scalars().all()
