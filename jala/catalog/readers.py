"""Streaming readers: JSON Lines, MARC XML (plain or SRU-wrapped, any namespace), ISO 2709.

Each reader yields ``(position, record_or_error)``: the line number (JSON Lines) or the record
number (MARC), and a dict (JSON Lines), a ``pymarc.Record`` or a ``BadRecord`` saying why; the
first record read in an encoding the file did not declare comes as ``Guessed``, with a note.
The file is read as a stream, so memory stays flat however big it is.

Text is never stored garbled: each record (line, ISO 2709 record) is read as UTF-8, as MARC-8
when it is a MARC21 record that says so (leader/09 blank) and looks it, or as GB18030 when it
is not UTF-8 and reads as Chinese text that way; otherwise it is reported, not guessed at.
"""
import codecs
import io
import json
import re
import xml.etree.ElementTree as ET

import pymarc
from pymarc.marc8_mapping import CODESETS

FORMATS = ("jsonl", "marcxml", "marc")
ENCODINGS = ("utf-8", "gb18030")


class BadRecord:
    """A record that cannot be read, and why."""

    def __init__(self, reason):
        self.reason = reason

    def __repr__(self):
        return f"<BadRecord {self.reason}>"


class Guessed:
    """A record read in an encoding the file did not declare, and the note that says so."""

    def __init__(self, record, note):
        self.record = record
        self.note = note


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


GUESSED_NOTE = ("not UTF-8: read as GB18030 (Chinese), as this record's text reads that way; "
                "the later records like it are read the same way")
# GB2312's characters are the Chinese of everyday text (and of nearly every catalogue record);
# Latin-1, Big5 or Cyrillic bytes misread as GB18030 come out mostly as rarer characters
CHINESE_SHARE = 0.8


def _reads_as_chinese(text):
    """Whether text decoded as GB18030 is Chinese text rather than another encoding misread."""
    wide = [char for char in text if not char.isascii()]
    common = 0
    for char in wide:
        try:
            char.encode("gb2312")
            common += 1
        except UnicodeEncodeError:
            pass
    return common >= CHINESE_SHARE * len(wide)


NOT_TEXT = "neither UTF-8 nor GB18030 Chinese text"


def _not_text(data, exc):
    """Why bytes that are not UTF-8 are not GB18030 Chinese text either (for a report)."""
    return (f"{NOT_TEXT} (byte 0x{data[exc.start]:02X} at byte {exc.start + 1}): "
            "convert it to UTF-8")


def decode_text(data, encoding="utf-8"):
    """``(text, guessed)``: bytes read as ``encoding``; UTF-8 (the default) falls back to GB18030.

    ``guessed`` is true when GB18030 was a guess. Raises ``UnicodeDecodeError`` (its reason
    says why) when the bytes are neither.
    """
    if encoding != "utf-8":
        try:
            return data.decode(encoding), False
        except UnicodeDecodeError as exc:
            raise UnicodeDecodeError(encoding, data, exc.start, exc.end, (
                f"not valid {encoding} (byte 0x{data[exc.start]:02X} at byte "
                f"{exc.start + 1})")) from None
    try:
        return data.decode("utf-8"), False
    except UnicodeDecodeError as exc:
        utf8_error = exc
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        text = None
    if text is None or not _reads_as_chinese(text):
        raise UnicodeDecodeError("utf-8", data, utf8_error.start, utf8_error.end,
                                 _not_text(data, utf8_error))
    return text, True


class _Guesses:
    """Turns the first record read in a guessed encoding into ``Guessed`` (one note a file)."""

    def __init__(self):
        self.noted = False

    def mark(self, record, guessed):
        if guessed and not self.noted:
            self.noted = True
            return Guessed(record, GUESSED_NOTE)
        return record


def read_jsonl(stream, encoding="utf-8"):
    """Yield ``(line number, dict | Guessed | BadRecord)`` for each non-blank line."""
    guesses = _Guesses()
    for number, raw_line in enumerate(stream, start=1):
        try:
            line, guessed = decode_text(raw_line, encoding)
        except UnicodeDecodeError as exc:
            yield number, BadRecord(exc.reason)
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
        yield number, guesses.mark(value, guessed)


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


XML_DECLARED_ENCODING = re.compile(rb"""<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)""")
GB_ENCODINGS = {"gb2312", "gbk", "gb18030", "cp936", "euc-cn", "x-gbk", "x-euc-cn"}


class XmlText:
    """An XML file read as text for the parser, whatever its encoding.

    expat decodes only UTF-8, UTF-16 and single-byte encodings itself ("multi-byte encodings
    are not supported"): given text, it ignores the declaration. The text is decoded in the
    declared encoding (any GB one as GB18030, their superset), else as ``encoding``; UTF-8, the
    default, turns to GB18030 where the first byte that is not UTF-8 comes after ASCII alone
    and the text reads as Chinese that way (``guessed`` is then true).
    """

    CHUNK = 16 * 1024  # what ET.iterparse asks for at a time

    def __init__(self, raw, encoding="utf-8"):
        self.raw = raw
        self.head = raw.read(self.CHUNK)
        declared = XML_DECLARED_ENCODING.search(self.head[:1024])
        name = declared.group(1).decode().lower() if declared else encoding
        if name in GB_ENCODINGS:
            name = "gb18030"
        try:
            codecs.lookup(name)
        except LookupError:
            raise ImportFileError(f"the XML declares an unknown encoding {name!r}") from None
        self.may_guess = name in ("utf-8", "utf8")
        self.decoder = codecs.getincrementaldecoder("utf-8-sig" if self.may_guess else name)()
        self.ascii_so_far = True
        self.guessed = False

    def read(self, size=-1):
        """The next piece of text ('' at the end), as ``ET.iterparse`` asks for it."""
        while True:
            data, self.head = (self.head, b"") if self.head else (self.raw.read(self.CHUNK), b"")
            text = self._decode(data, final=not data)
            if text or not data:
                return text

    def _decode(self, data, final):
        try:
            text = self.decoder.decode(data, final)
        except UnicodeDecodeError as exc:
            if not (self.may_guess and self.ascii_so_far and data[:exc.start].isascii()):
                raise UnicodeDecodeError(exc.encoding, data, exc.start, exc.end,
                                         f"not valid {exc.encoding}: {exc.reason}") from None
            self.decoder = codecs.getincrementaldecoder("gb18030")()
            self.guessed = True
            try:
                text = self.decoder.decode(data, final)
            except UnicodeDecodeError:
                text = None
        if self.guessed and (text is None or not _reads_as_chinese(text)):
            raise UnicodeDecodeError("gb18030", data, 0, len(data),
                                     f"{NOT_TEXT}: convert the file to UTF-8")
        self.ascii_so_far = self.ascii_so_far and data.isascii()
        return text


def read_marcxml(stream, encoding="utf-8"):
    """Yield ``(record number, pymarc.Record | Guessed | BadRecord)`` from MARC XML.

    MARC21 slim, UNIMARC and CNMARC XML alike, plain or in an SRU response. Each element is
    let go once it ends outside a record, and each record once it is read: emptied and taken
    off its parent, or the tree would keep one (empty) element per record.
    """
    number = 0
    open_elements = []  # the path from the root to the element being parsed
    open_records = 0  # how many of them are <record> (a MARC record, or an SRU wrapper)
    text = XmlText(stream, encoding)
    guesses = _Guesses()
    try:
        for event, element in ET.iterparse(text, events=("start", "end")):
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
                    yield number, guesses.mark(_element_to_record(element), text.guessed)
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
    except UnicodeDecodeError as exc:
        yield number + 1, BadRecord(f"the XML breaks off: {exc.reason}")


END_OF_RECORD = b"\x1d"
BETWEEN_RECORDS = b"\r\n \x1a\x00"  # line breaks, padding and end-of-file marks some exports add
# the bytes of ANSEL, MARC-8's default upper half (G1): a record's other bytes are not MARC-8
ANSEL_BYTES = frozenset(code for code in CODESETS[0x45] if code >= 0x80)


class _Unreading:
    """A byte stream that can take back what was read past a record's end."""

    def __init__(self, stream):
        self.stream = stream
        self.taken_back = b""

    def unread(self, data):
        self.taken_back = data + self.taken_back

    def read(self, size):
        given, self.taken_back = self.taken_back[:size], self.taken_back[size:]
        return given + self.stream.read(size - len(given)) if size > len(given) else given

    def skip_past(self, mark):
        """Read up to and past the next ``mark`` (one byte); False if the file ends first."""
        found = self.taken_back.find(mark)
        if found >= 0:
            self.taken_back = self.taken_back[found + 1:]
            return True
        self.taken_back = b""
        while True:
            byte = self.stream.read(1)
            if byte in (mark, b""):
                return bool(byte)


def _record_start(stream):
    """The first five bytes of the next record (its length), or fewer at the end of the file."""
    first5 = stream.read(5).lstrip(BETWEEN_RECORDS)
    while first5 and len(first5) < 5:
        more = stream.read(5 - len(first5))
        if not more:
            break
        first5 = (first5 + more).lstrip(BETWEEN_RECORDS)
    return first5


def _iso2709_chunks(stream):
    """Yield each ISO 2709 record's bytes, or a ``BadRecord``; the reading goes on to the end.

    A record whose length is not a number, or does not lead to its end-of-record mark, is
    reported, and the reading takes up again after its first end-of-record mark: a length too
    long does not swallow the next record.
    """
    stream = _Unreading(stream)
    while first5 := _record_start(stream):
        length = int(first5) if first5.isdigit() else 0
        chunk = first5 + stream.read(length - 5) if length > 5 else first5
        if length > 24 and len(chunk) == length and chunk.endswith(END_OF_RECORD):
            yield chunk
            continue
        end = chunk.find(END_OF_RECORD)
        if end < 0 and len(chunk) < length:
            yield BadRecord("broken MARC record: the file ends inside it")
            return
        yield BadRecord(f"broken MARC record: its length ({first5.decode('latin-1')!r}) does "
                        "not lead to an end-of-record mark")
        if end >= 0:
            stream.unread(chunk[end + 1:])
        elif not stream.skip_past(END_OF_RECORD):
            return


def _is_marc21(chunk):
    """Whether a record is MARC21 (a 245 title, no UNIMARC 200), read from its directory."""
    base = int(chunk[12:17]) if chunk[12:17].isdigit() else 0
    tags = {chunk[i:i + 3] for i in range(24, max(base - 1, 24), 12)}
    return b"200" not in tags or b"245" in tags


def _looks_marc8(chunk):
    """Whether a MARC21 record's bytes are MARC-8: escapes to other sets, or ANSEL alone."""
    if b"\x1b" in chunk:
        return True
    try:
        chunk.decode("utf-8")
        return False
    except UnicodeDecodeError:
        return all(byte < 0x80 or byte in ANSEL_BYTES for byte in chunk)


def _record_encoding(chunk, encoding):
    """``(encoding for pymarc, guessed)`` of one record's bytes; UnicodeDecodeError if none.

    "marc-8" when leader/09 is blank in a MARC21 record that looks it: MARC-8 is the only
    encoding MARC21 names besides UTF-8, while UNIMARC and CNMARC records leave leader/09
    blank whatever their encoding (UTF-8 or GB18030, in Chinese catalogues).
    """
    if chunk[9:10] == b" " and _is_marc21(chunk) and _looks_marc8(chunk):
        return "marc-8", False
    if chunk[9:10] == b"a":  # the record says UTF-8: GB18030 only if it is not
        encoding = "utf-8"
    _, guessed = decode_text(chunk, encoding)
    return ("gb18030" if guessed else encoding), guessed


def _parse_iso2709(chunk, encoding):
    """A ``pymarc.Record`` from one record's bytes, its text decoded as ``encoding``."""
    if encoding == "marc-8":
        return pymarc.Record(chunk, to_unicode=True, hide_utf8_warnings=True)
    if encoding == "utf-8":
        return pymarc.Record(chunk, to_unicode=True, force_utf8=True)
    # pymarc reads a record with leader/09 "a" as UTF-8 whatever it is told
    record = pymarc.Record(chunk[:9] + b" " + chunk[10:], to_unicode=True,
                           file_encoding=encoding)
    record.leader = pymarc.Leader(chunk[:24].decode("ascii"))
    return record


def read_marc(stream, encoding="utf-8"):
    """Yield ``(record number, pymarc.Record | Guessed | BadRecord)`` from ISO 2709."""
    guesses = _Guesses()
    for number, chunk in enumerate(_iso2709_chunks(stream), start=1):
        if isinstance(chunk, BadRecord):
            yield number, chunk
            continue
        try:
            record_encoding, guessed = _record_encoding(chunk, encoding)
        except UnicodeDecodeError as exc:
            yield number, BadRecord(exc.reason)
            continue
        try:
            record = _parse_iso2709(chunk, record_encoding)
        except Exception as exc:  # pymarc raises many kinds on a broken record
            yield number, BadRecord(f"broken MARC record: {exc or type(exc).__name__}")
            continue
        yield number, guesses.mark(record, guessed)


def open_records(raw_file, filename, format_name=None, encoding="utf-8"):
    """Wrap a binary file: ``(byte counter, (position, item) iterator, format)``."""
    counter = CountingReader(raw_file)
    stream = io.BufferedReader(counter, buffer_size=1 << 16)
    if format_name is None:
        format_name = detect_format(stream.peek(64)[:64], filename)
    if format_name == "jsonl":
        items = read_jsonl(stream, encoding)
    elif format_name == "marcxml":
        items = read_marcxml(stream, encoding)
    elif format_name == "marc":
        items = read_marc(stream, encoding)
    else:
        raise ImportFileError(f"unknown format {format_name!r}")
    return counter, items, format_name
