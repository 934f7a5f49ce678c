"""Records come through intact: every record of real files imports or is reported, and adds up.

The files are pymarc's test files (tests/data/marc/pymarc, MARC21 in MARC-8 and UTF-8, a
cp1251 file, broken records) and the dp2 and CSL samples (/work/shared/data, shipped in
jala/demo); GB18030 and MARC-8 CJK files are made from their real text.
"""
import io
import json
import unicodedata
from pathlib import Path

import pymarc
import pytest
from sqlalchemy import select

from jala.catalog.duplicates import CONTENT_ID_PREFIX
from jala.catalog.importer import import_stream
from jala.catalog.models import SourceRecord
from jala.catalog.readers import BadRecord, open_records
from jala.extensions import db
from tests.support.catalog import DEMO, import_file, records_titled

PYMARC = Path(__file__).resolve().parents[1] / "data" / "marc" / "pymarc"

BAD_ESCAPE_ID = "2429943"  # the 001 of bad_marc8_escape.dat
# every pymarc test file: (records read, records skipped); a skipped one is named with its reason
PYMARC_FILES = {
    "1251.dat": (6, 6), "alphatag.dat": (1, 0), "bad_eacc_encoding.dat": (1, 0),
    "bad_indicator.dat": (1, 0), "bad_marc8_escape.dat": (1, 0), "bad_records.mrc": (9, 8),
    "bad_subfield_code.dat": (1, 0), "diacritic.dat": (1, 0), "marc.dat": (20, 0),
    "marc8-to-unicode.dat": (1, 0), "marc8.dat": (1, 0), "multi_isbn.dat": (1, 0),
    "one.dat": (1, 0), "regression45.dat": (12, 0), "test.dat": (10, 0),
    "testunimarc.dat": (1, 0), "utf8_errors.dat": (1, 0), "utf8_invalid.mrc": (1, 0),
    "utf8_with_leader_flag.dat": (1, 0), "utf8_without_leader_flag.dat": (1, 0),
}


@pytest.fixture
def ctx(db_session):
    return db_session


def adds_up(stats):
    return stats.read == stats.accounted


def skipped_reasons(stats):
    return {error["position"]: error["reason"] for error in stats.errors if not error.get("kept")}


def sources(prefix=""):
    return db.session.execute(select(SourceRecord).where(
        SourceRecord.source_id.startswith(prefix))).scalars().all()


def source(source_id):
    return db.session.execute(select(SourceRecord).where(
        SourceRecord.source_id == source_id)).scalar_one()


def field_values(raw, tag):
    """The text of every ``tag`` field of a kept MARC record (its subfields joined)."""
    out = []
    for field in raw.get("fields", []):
        value = field.get(tag)
        if isinstance(value, dict):
            out.append(" ".join(v for sub in value["subfields"] for v in sub.values()))
        elif value is not None:
            out.append(value)
    return out


def iso2709(records, encoding):
    """ISO 2709 bytes of pymarc records with their text in ``encoding`` (leader/09 blank)."""
    out = b""
    for record in records:
        raw = pymarc.Record(to_unicode=False, leader=str(record.leader))
        raw.leader = raw.leader[:9] + " " + raw.leader[10:]
        for field in record.fields:
            if field.is_control_field():
                raw.add_field(pymarc.Field(tag=field.tag, data=field.data))
                continue
            raw.add_field(pymarc.Field(tag=field.tag, indicators=field.indicators, subfields=[
                pymarc.Subfield(sub.code, sub.value.encode(encoding).decode("latin-1"))
                for sub in field.subfields]))
        out += raw.as_marc()
    return out


def read_records(data, name):
    _, items, _ = open_records(io.BytesIO(data), name)
    return [record for _, record in items]


@pytest.mark.parametrize("name", sorted(PYMARC_FILES))
def test_every_record_of_pymarcs_test_files_imports_or_is_named(ctx, name):
    stats = import_file(PYMARC / name, "JXUFE")
    read, skipped = PYMARC_FILES[name]
    assert (stats.read, stats.skipped) == (read, skipped) and adds_up(stats)
    assert len(skipped_reasons(stats)) == skipped
    for source in sources():
        assert not any("\ufffd" in value for tag in ("245", "240", "260", "880")
                       for value in field_values(source.raw, tag)), source.source_id


def test_marc8_records_are_decoded_diacritics_and_east_asian_characters(ctx):
    for name in ("marc8.dat", "bad_eacc_encoding.dat", "bad_marc8_escape.dat"):
        import_file(PYMARC / name, "JXUFE")
    assert field_values(source("2").raw, "240") == ["De la solitude à la communauté. English."]
    eacc = field_values(source("ocn503001208").raw, "880")
    assert "米国の統治の仕組" in eacc[0]  # (the file breaks off an EACC character after it)
    escape = field_values(source(BAD_ESCAPE_ID).raw, "260")
    assert "La Sociét" in " ".join(escape)  # (its bad escape ends the word, as in pymarc)


def test_a_cp1251_file_is_named_record_by_record_never_stored_garbled(ctx):
    stats = import_file(PYMARC / "1251.dat", "JXUFE")
    assert stats.skipped == 6 and not sources("ru03")
    assert all(reason.startswith("neither UTF-8 nor GB18030 Chinese text (byte 0x")
               for reason in skipped_reasons(stats).values())


def test_999_east_asian_marc8_strings_from_the_library_of_congress_tables_decode(ctx):
    """pymarc's test_marc8.txt: real MARC-8 (EACC) strings with their Unicode in test_utf8.txt."""
    marc8 = (PYMARC / "test_marc8.txt").read_bytes().split(b"\n")
    utf8 = (PYMARC / "test_utf8.txt").read_bytes().split(b"\n")
    pairs = [(m, u.decode()) for m, u in zip(marc8, utf8, strict=False) if b"\x1b$1" in m]
    assert len(pairs) == 999
    out = b""
    for number, (text, _) in enumerate(pairs):
        record = pymarc.Record(to_unicode=False)
        record.add_field(pymarc.Field(tag="001", data=f"eacc-{number}"))
        record.add_field(pymarc.Field(tag="245", indicators=["0", "0"], subfields=[
            pymarc.Subfield("a", text.decode("latin-1"))]))
        out += record.as_marc()
    _, items, fmt = open_records(io.BytesIO(out), "eacc.mrc")
    stats = import_stream(items, "JXUFE", format_name=fmt, commit=False)
    assert (stats.read, stats.created + stats.merged, stats.skipped) == (999, 999, 0)
    titles = {s.source_id: field_values(s.raw, "245")[0] for s in sources("eacc-")}
    assert all(titles[f"eacc-{n}"] == unicodedata.normalize("NFC", expected)
               for n, (_, expected) in enumerate(pairs))


def cnmarc_records():
    return read_records((DEMO / "dp2-sample_cnmarcxml.xml").read_bytes(), "x.xml")


@pytest.mark.parametrize("declaration", ['encoding="GB2312"', 'encoding="UTF-8"', ""])
def test_gb18030_marc_xml_is_read_as_chinese_declared_or_not(ctx, declaration):
    text = (DEMO / "dp2-sample_cnmarcxml.xml").read_text(encoding="utf-8")
    head, rest = text.split("?>", 1)
    data = (f'<?xml version="1.0" {declaration}?>' + rest).encode("gb18030")
    _, items, fmt = open_records(io.BytesIO(data), "gb.xml")
    stats = import_stream(items, "NCU", format_name=fmt, commit=False)
    assert (stats.read, stats.created + stats.merged, stats.skipped) == (10, 10, 0)
    assert records_titled("'94中国发展报告")
    guessed = [e for e in stats.errors if e["reason"].startswith("not UTF-8: read as GB18030")]
    assert len(guessed) == (0 if "GB2312" in declaration else 1)


def test_a_gb18030_iso2709_file_without_the_encoding_option_is_read_as_chinese(ctx):
    data = iso2709(cnmarc_records(), "gb18030")
    assert b"\xd6\xd0\xb9\xfa" in data  # 中国 in GB18030
    _, items, fmt = open_records(io.BytesIO(data), "gb.iso")
    stats = import_stream(items, "NCU", format_name=fmt, commit=False)
    assert (stats.read, stats.created + stats.merged, stats.skipped) == (10, 10, 0)
    [record] = records_titled("'94中国发展报告")
    assert record.publisher == "中国统计出版社"
    assert [e["position"] for e in stats.errors] == [1]  # one note for the file


def test_csl_articles_in_gb18030_keep_their_titles(ctx):
    lines = (DEMO / "csl-dev.jsonl").read_text(encoding="utf-8").splitlines()[:300]
    data = ("\n".join(lines) + "\n").encode("gb18030")
    _, items, fmt = open_records(io.BytesIO(data), "csl.jsonl")
    stats = import_stream(items, "JXUFE", format_name=fmt, commit=False)
    assert (stats.read, stats.skipped) == (300, 0) and adds_up(stats)
    for line in lines[:20]:
        assert records_titled(json.loads(line)["title"])


def test_latin1_text_is_not_taken_for_gb18030(ctx):
    data = '{"source_id": "l1", "title": "Müller und Söhne"}\n'.encode("latin-1")
    _, items, fmt = open_records(io.BytesIO(data), "x.jsonl")
    stats = import_stream(items, "JXUFE", format_name=fmt, commit=False)
    assert stats.skipped == 1 and "neither UTF-8 nor GB18030" in stats.errors[0]["reason"]


def test_a_record_without_001_gets_a_stable_id_from_its_content(ctx):
    records = read_records((PYMARC / "test.dat").read_bytes(), "test.dat")
    for record in records:
        record.remove_fields("001", "005")
    data = b"".join(record.as_marc() for record in records)
    first = import_stream(open_records(io.BytesIO(data), "x.mrc")[1], "JXUFE",
                          format_name="marc", commit=False)
    assert (first.read, first.created + first.merged) == (10, 10)
    assert len(sources(CONTENT_ID_PREFIX)) == 10
    assert first.errors[0]["reason"].startswith("no 001 (control number): imported as no-001:")
    again = import_stream(open_records(io.BytesIO(data), "x.mrc")[1], "JXUFE",
                          format_name="marc", commit=False)
    assert again.unchanged == 10 and len(sources(CONTENT_ID_PREFIX)) == 10


def test_two_records_with_one_001_in_a_file_the_second_is_named_and_skipped(ctx):
    # pymarc's marc8.dat and marc8-to-unicode.dat: one record (001 "2"), MARC-8 and UTF-8
    data = (PYMARC / "marc8.dat").read_bytes() + (PYMARC / "test.dat").read_bytes() \
        + (PYMARC / "marc8-to-unicode.dat").read_bytes()
    _, items, fmt = open_records(io.BytesIO(data), "x.mrc")
    stats = import_stream(items, "JXUFE", format_name=fmt, commit=False)
    assert (stats.read, stats.created + stats.merged, stats.skipped) == (12, 11, 1)
    assert skipped_reasons(stats) == {
        12: "duplicate 001 '2': record 1 has it too; this record is skipped"}
    assert stats.summary() == "12 read: 11 new, 0 joined, 0 updated, 0 unchanged, 1 skipped"


def test_a_record_without_001_read_twice_is_named_as_the_same_record(ctx):
    record = read_records((PYMARC / "test.dat").read_bytes(), "test.dat")[0]
    record.remove_fields("001", "005")
    data = record.as_marc() * 2
    stats = import_stream(open_records(io.BytesIO(data), "x.mrc")[1], "JXUFE",
                          format_name="marc", commit=False)
    assert skipped_reasons(stats) == {
        2: "the same record as record 1 (and neither has a 001); this record is skipped"}


def _with_length(record, length):
    return f"{length:05d}".encode() + record[5:]


def _titles_and_reasons(data):
    read = read_records(data, "x.mrc")
    return ([r.title for r in read if isinstance(r, pymarc.Record)],
            [r.reason for r in read if isinstance(r, BadRecord)])


def _three_records():
    made = []
    for title in ("One", "Two", "Three"):
        record = pymarc.Record()
        record.add_field(pymarc.Field(tag="001", data=title.lower()),
                         pymarc.Field(tag="245", indicators=["0", "0"],
                                      subfields=[pymarc.Subfield("a", title)]))
        made.append(record.as_marc())
    return made


@pytest.mark.parametrize("wrong", [+20, +1, -1, -20])
def test_a_wrong_record_length_loses_that_record_only_and_says_so(wrong):
    one, two, three = _three_records()
    titles, reasons = _titles_and_reasons(_with_length(one, len(one) + wrong) + two + three)
    assert titles == ["Two", "Three"]
    assert len(reasons) == 1 and "does not lead to an end-of-record mark" in reasons[0]


@pytest.mark.parametrize("length", [0, 6, 24, 99999])
def test_a_length_field_too_small_or_too_large_never_stops_the_reading(length):
    one, two, three = _three_records()
    titles, reasons = _titles_and_reasons(one + _with_length(two, length) + three)
    assert titles == ["One", "Three"] and len(reasons) == 1


def test_a_file_that_ends_inside_a_record_says_so_after_the_others():
    one, two, _ = _three_records()
    titles, reasons = _titles_and_reasons(one + two[:-10])
    assert titles == ["One"] and reasons == ["broken MARC record: the file ends inside it"]
