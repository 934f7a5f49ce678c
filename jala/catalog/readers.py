"""Streaming readers: JSON Lines, MARC XML (plain or SRU-wrapped, any namespace), ISO 2709.

Each reader yields ``(position, record_or_error)``: the line number (JSON Lines) or the record
number (MARC), and a dict (JSON Lines), a ``pymarc.Record`` or a ``BadRecord`` saying why. The
file is read as a stream, so memory stays flat however big it is.
"""
import io
import json
import xml.etree.ElementTree as ET

import pymarc

FORMATS = ("jsonl", "marcxml", "marc")
ENCODINGS = ("utf-8", "gb18030")


class BadRecord:
    """A record that cannot be read, and why."""

    def __init__(self, reason):
        self.reason = reason

    def __repr__(self):
        return f"<BadRecord {self.reason}>"


class ImportFileError(Exception):
    """The file as a whole cannot be imported (fatal)."""


class CountingReader(io.RawIOBase):
    """Wraps a binary file and counts the bytes read (for progress bars)."""

    def __init__(self, raw):
        self.raw = raw
        self.bytes_read = 0

    def readable(self):
        return True

    def readinto(self, buffer):
        data = self.raw.read(len(buffer))
        buffer[: len(data)] = data
        self.bytes_read += len(data)
        return len(data)


def detect_format(head, filename=""):
    """Guess the format from the first bytes (and the name, when the bytes say little)."""
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    name = filename.lower()
    if stripped.startswith(b"<"):
        return "marcxml"
    if stripped.startswith(b"{"):
        return "jsonl"
    if len(stripped) >= 24 and stripped[:5].isdigit():
        return "marc"
    if name.endswith((".jsonl", ".json", ".ndjson")):
        return "jsonl"
    if name.endswith(".xml"):
        return "marcxml"
    if name.endswith((".mrc", ".marc", ".iso", ".iso2709")):
        return "marc"
    raise ImportFileError("cannot tell the format of this file; use --format")


def read_jsonl(stream, encoding="utf-8"):
    """Yield ``(line number, dict | BadRecord)`` for each non-blank line."""
    for number, raw_line in enumerate(stream, start=1):
        try:
            line = raw_line.decode(encoding)
        except UnicodeDecodeError as exc:
            yield number, BadRecord(f"not valid {encoding}: {exc.reason}")
            continue
        line = line.strip().lstrip("\ufeff")
        if not line:
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, BadRecord(f"bad JSON: {exc.msg} at column {exc.colno}")
            continue
        if not isinstance(value, dict):
            yield number, BadRecord("a line must hold one JSON object")
            continue
        yield number, value


def _local(tag):
    return tag.rsplit("}", 1)[-1]


def _element_to_record(element):
    record = pymarc.Record(force_utf8=True)
    for child in element:
        name = _local(child.tag)
        if name == "leader":
            record.leader = pymarc.Leader((child.text or "").ljust(24)[:24])
        elif name == "controlfield":
            record.add_field(pymarc.Field(tag=child.get("tag", ""), data=child.text or ""))
        elif name == "datafield":
            subfields = [pymarc.Subfield(code=sf.get("code", ""), value=sf.text or "")
                         for sf in child if _local(sf.tag) == "subfield"]
            record.add_field(pymarc.Field(
                tag=child.get("tag", ""),
                indicators=pymarc.Indicators(child.get("ind1", " ") or " ",
                                             child.get("ind2", " ") or " "),
                subfields=subfields))
    return record


def read_marcxml(stream):
    """Yield ``(record number, pymarc.Record | BadRecord)`` from MARC XML in any wrapper.

    MARC21 slim, UNIMARC and CNMARC XML alike, plain or in an SRU response. Each element is
    let go once it ends outside a record, and each record once it is read: emptied and taken
    off its parent, or the tree would keep one (empty) element per record.
    """
    number = 0
    open_elements = []  # the path from the root to the element being parsed
    open_records = 0  # how many of them are <record> (a MARC record, or an SRU wrapper)
    try:
        for event, element in ET.iterparse(stream, events=("start", "end")):
            is_record = _local(element.tag) == "record"
            if event == "start":
                open_elements.append(element)
                open_records += is_record
                continue
            open_elements.pop()
            open_records -= is_record
            if is_record and any(_local(child.tag) in ("leader", "controlfield", "datafield")
                                 for child in element):
                number += 1
                try:
                    yield number, _element_to_record(element)
                except (ValueError, TypeError) as exc:
                    yield number, BadRecord(f"broken MARC record: {exc}")
            elif not is_record and open_records:
                continue  # a part of a record, read with it
            # a record read, an SRU wrapper (its inner record was read already) or an element
            # outside any record: not needed any more
            element.clear()
            if open_elements:
                open_elements[-1].remove(element)
    except ET.ParseError as exc:
        yield number + 1, BadRecord(f"the XML breaks off: {exc}")


def read_marc(stream, encoding="utf-8"):
    """Yield ``(record number, pymarc.Record | BadRecord)`` from ISO 2709."""
    reader = pymarc.MARCReader(stream, to_unicode=True, force_utf8=encoding == "utf-8",
                               file_encoding=encoding, permissive=True, utf8_handling="replace")
    for number, record in enumerate(reader, start=1):
        if record is None:
            reason = reader.current_exception or "unreadable record"
            yield number, BadRecord(f"broken MARC record: {reason}")
        else:
            yield number, record


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
