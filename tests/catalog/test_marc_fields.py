"""MARC fields → the record contract: 880 vernacular forms, ISBD punctuation, types, roles.

Real records nobody on the project wrote (pymarc's test files, tests/catalog/data/pymarc) and
small records built with pymarc's Record API, one for each rule.
"""
from pathlib import Path

import pymarc
import pytest

from jala.catalog.isbd import strip_isbd
from jala.catalog.marc import marc_to_dict
from jala.catalog.vocabulary import language_code

PYMARC_FILES = Path(__file__).parent / "data" / "pymarc"


def fixed(language="chi", **positions):
    """A MARC21 008 for a book of 2004 in ``language``, with ``p23="o"``-style changes."""
    data = list(f"040520s2004    cc {' ' * 17}{language} d")
    for name, char in positions.items():
        data[int(name[1:])] = char
    return "".join(data)


BOOK_008 = fixed()


def _field(tag, spec):
    if isinstance(spec, str):
        return pymarc.Field(tag=tag, data=spec)
    indicators, *subfields = spec
    return pymarc.Field(tag=tag, indicators=pymarc.Indicators(*indicators),
                        subfields=[pymarc.Subfield(code, value) for code, value in subfields])


def marc(leader="00000nam a2200000 a 4500", **fields):
    """A record from ``tag=spec`` (a tag given as ``t245``; a list of specs repeats it)."""
    record = pymarc.Record(force_utf8=True, leader=leader)
    for name, specs in fields.items():
        for spec in specs if isinstance(specs, list) else [specs]:
            record.add_field(_field(name.lstrip("t"), spec))
    return record


def read(name):
    with open(PYMARC_FILES / name, "rb") as raw:
        return [marc_to_dict(r) for r in pymarc.MARCReader(raw, to_unicode=True,
                                                             permissive=True) if r]


# --- 880: the vernacular form of a field --------------------------------------------------------

def test_a_real_record_shows_its_vernacular_title_and_keeps_the_romanised_one():
    [record] = read("bad_eacc_encoding.dat")  # OCLC: 245 $6 880-01 ↔ 880 $6 245-01/$1
    assert record["title"] == "米国の統治の仕組"
    assert record["title-variants"] == ["Beikoku no tōchi no shikumi"]
    assert record["language"] == "jpn" and record["type"] == "ebook"


def test_chinese_title_names_publisher_and_place_are_read_in_the_vernacular():
    record = marc_to_dict(marc(
        t001="c880", t008=BOOK_008,
        t100=("1 ", ("6", "880-02"), ("a", "Li, Qiang,"), ("e", "author.")),
        t245=("10", ("6", "880-01"), ("a", "Zhongguo fa zhan bao gao /"),
              ("c", "Li Qiang zhu.")),
        t264=(" 1", ("6", "880-03"), ("a", "Beijing :"), ("b", "Zhongguo tong ji chu ban she,"),
              ("c", "2004.")),
        t700=("1 ", ("6", "880-04"), ("a", "Wang, Wu,"), ("e", "translator.")),
        t880=[("10", ("6", "245-01/$1"), ("a", "中国发展报告 /"), ("c", "李强著.")),
              ("1 ", ("6", "100-02/$1"), ("a", "李强,"), ("e", "author.")),
              (" 1", ("6", "264-03/$1"), ("a", "北京 :"), ("b", "中国统计出版社,"),
               ("c", "2004.")),
              ("1 ", ("6", "700-04/$1"), ("a", "王五,"), ("e", "translator."))]))
    assert record["title"] == "中国发展报告"
    assert record["title-variants"] == ["Zhongguo fa zhan bao gao"]
    assert record["title_pinyin"] == "Zhongguo fa zhan bao gao"  # searchable in pinyin
    assert record["authors"] == ["李强"] and record["translator"] == ["王五"]
    assert record["authors_pinyin"] == ["Li, Qiang", "Wang, Wu"]
    assert (record["place"], record["publisher"]) == ("北京", "中国统计出版社")
    assert record["place-variants"] == ["Beijing"]
    assert record["publisher-variants"] == ["Zhongguo tong ji chu ban she"]


def test_an_unlinked_vernacular_title_is_still_the_title():
    record = marc_to_dict(marc(t001="u880", t008=BOOK_008,
                               t245=("10", ("a", "Hong lou meng")),
                               t880=("10", ("6", "245-00/$1"), ("a", "红楼梦"))))
    assert record["title"] == "红楼梦" and record["title-variants"] == ["Hong lou meng"]


# --- ISBD punctuation, subtitles ----------------------------------------------------------------

@pytest.mark.parametrize("raw,clean", [
    ("Title /", "Title"), ("Publisher,", "Publisher"), ("2004.", "2004"), ("Title =", "Title"),
    ("Braddock Communications ;", "Braddock Communications"), ("Acme Inc.", "Acme Inc."),
    ("Herndon, Va. :", "Herndon, Va."), ("Arnold, Paul A.", "Arnold, Paul A."),
    ("3rd ed.", "3rd ed."), ("[Washington, D.C.] :", "[Washington, D.C.]"),
    ("The art of war.", "The art of war"), ("中国发展报告 /", "中国发展报告"),
    (", Isaac", "Isaac"), ("中国发展报告。", "中国发展报告"),
])
def test_isbd_punctuation_is_taken_off_but_abbreviations_keep_their_full_stop(raw, clean):
    assert strip_isbd(raw) == clean


def test_real_records_lose_their_punctuation_and_keep_the_subtitle_after_a_colon():
    records = {r["source_id"]: r for r in read("marc.dat")}
    pragmatic = records["11778504"]  # 245 $aThe pragmatic programmer :$bfrom journeyman …
    assert pragmatic["title"] == "The pragmatic programmer: from journeyman to master"
    assert (pragmatic["place"], pragmatic["publisher"]) == ("Reading, Mass", "Addison-Wesley")
    assert pragmatic["authors"] == ["Hunt, Andrew", "Thomas, David"]
    assert records["13610512"]["edition"] == "2nd ed."  # the abbreviation keeps its stop
    assert records["1598167"]["place"] == "Reading, Mass."
    assert all(not r["title"].endswith(("/", ":", ";", "=")) for r in records.values())


def test_a_parallel_title_is_a_variant_and_a_part_follows_the_title():
    record = marc_to_dict(marc(t001="p", t245=(
        "10", ("a", "中国统计年鉴 ="), ("b", "China statistical yearbook."),
        ("n", "第2卷,"), ("p", "人口 /"), ("c", "国家统计局编."))))
    assert record["title"] == "中国统计年鉴. 第2卷, 人口"
    assert record["title-variants"] == ["China statistical yearbook"]


# --- names: organisations, roles ----------------------------------------------------------------

def test_organisations_are_listed_whole_and_never_split():
    [record] = read("bad_eacc_encoding.dat")
    organisation = "United States. Dept. of State. Bureau of International Information Programs"
    assert record["corporate-authors"] == [organisation, "Braddock Communications"]
    assert organisation in record["authors"]


def test_editors_and_translators_leave_the_authors_by_their_relator():
    record = marc_to_dict(marc(
        t001="r", t100=("1 ", ("a", "Smith, John,"), ("e", "author.")),
        t245=("10", ("a", "Title")),
        t700=[("1 ", ("a", "Doe, Jane,"), ("e", "editor.")),
              ("1 ", ("a", "张三"), ("4", "trl")),
              ("1 ", ("a", "Roe, Richard,"), ("e", "illustrator.")),
              ("12", ("a", "Homer."), ("t", "Iliad."))],  # a related work, not a contributor
        t710=("2 ", ("a", "某某大学."), ("b", "图书馆,"), ("e", "editor."))))
    assert record["authors"] == ["Smith, John", "Roe, Richard"]
    assert record["editor"] == ["Doe, Jane", "某某大学. 图书馆"]
    assert record["translator"] == ["张三"]
    assert record["corporate-authors"] == ["某某大学. 图书馆"]


def test_cnmarc_roles_come_from_4_or_the_statement_of_responsibility():
    [record] = read("testunimarc.dat")  # 200 $g traduzione di Cesare Scaglia; 702 without $4
    assert record["translator"] == ["Scaglia, Cesare"]
    assert record["authors"][0] == "Asimov, Isaac"  # UNIMARC's "$b, Isaac" joined once
    assert record["place"] == "Milano" and record["language"] == "ita"
    cnmarc = marc_to_dict(marc(
        "00000nam0 2200000   450 ", t001="cn",
        t200=("1 ", ("a", "文学理论"), ("f", "李强著"), ("g", "王五译")),
        t205=("  ", ("a", "第2版")),
        t210=("  ", ("a", "北京"), ("c", "人民文学出版社"), ("d", "2010.5")),
        t701=(" 0", ("a", "李强")), t702=(" 0", ("a", "王五")),
        t711=("02", ("a", "国家统计局"), ("4", "编"))))
    assert cnmarc["authors"] == ["李强"] and cnmarc["translator"] == ["王五"]
    assert cnmarc["editor"] == ["国家统计局"] and cnmarc["corporate-authors"] == ["国家统计局"]
    assert (cnmarc["edition"], cnmarc["place"], cnmarc["issued"]) == ("第2版", "北京", "2010-05")


# --- types --------------------------------------------------------------------------------------

@pytest.mark.parametrize("leader,fixed,extra,kind", [
    ("00000nam a2200000 a 4500", BOOK_008, {}, "book"),
    ("00000nam a2200000 a 4500", BOOK_008, {"t502": ("  ", ("a", "Thesis (Ph.D.)--X, 2004."))},
     "thesis"),
    ("00000nam a2200000 a 4500", fixed(p24="m"), {}, "thesis"),
    ("00000nas a2200000 a 4500", fixed("fre", p21="p"), {}, "journal"),
    ("00000nas a2200000 a 4500", fixed(p21="n"), {}, "newspaper"),
    ("00000ngm a2200000 a 4500", fixed(p33="v"), {}, "video"),
    ("00000nem a2200000 a 4500", BOOK_008, {}, "map"),
    ("00000njm a2200000 a 4500", BOOK_008, {}, "audio"),
    ("00000ncm a2200000 a 4500", BOOK_008, {}, "score"),
    ("00000nmm a2200000 a 4500", BOOK_008, {}, "other"),
    ("00000nam a2200000 a 4500", fixed(p23="o"), {}, "ebook"),
    ("00000nam a2200000 a 4500", fixed(p29="1"), {}, "conference"),
    ("00000nab a2200000 a 4500", BOOK_008, {"t773": ("0 ", ("t", "经济研究"))}, "article"),
])
def test_the_type_comes_from_the_leader_008_and_502(leader, fixed, extra, kind):
    record = marc(leader, t001="t", t008=fixed, t245=("10", ("a", "Title")), **extra)
    assert marc_to_dict(record)["type"] == kind


def test_real_records_are_typed_serial_graphic_and_conference():
    assert read("bad_marc8_escape.dat")[0]["type"] == "journal"
    assert {r["type"] for r in read("regression45.dat")} == {"other"}  # photographs
    conference = next(r for r in read("test.dat") if r["source_id"] == "fol05865950")
    assert conference["type"] == "conference"
    assert (conference["event"], conference["event-place"], conference["event-date"]) == (
        "Perl Conference 4.0", "Monterey, Calif.", "2000")


@pytest.mark.parametrize("leader,coded,kind", [
    ("00000nam0 2200000   450 ", {"t328": ("  ", ("a", "博士学位论文 北京大学 2004"))}, "thesis"),
    ("00000nam0 2200000   450 ", {"t105": ("  ", ("a", "y   m   000yy"))}, "thesis"),
    ("00000nam0 2200000   450 ", {"t105": ("  ", ("a", "y   l   000yy"))}, "standard"),
    ("00000nas0 2200000   450 ", {"t110": ("  ", ("a", "cbz"))}, "newspaper"),
    ("00000nas0 2200000   450 ", {}, "journal"),
    ("00000nem0 2200000   450 ", {}, "map"),
    ("00000ngm0 2200000   450 ", {}, "video"),
    ("00000nim0 2200000   450 ", {}, "audio"),
])
def test_cnmarc_types_come_from_the_leader_and_coded_data(leader, coded, kind):
    record = marc(leader, t001="c", t200=("1 ", ("a", "题名")), **coded)
    assert marc_to_dict(record)["type"] == kind


# --- the fields a citation needs ----------------------------------------------------------------

def test_an_article_takes_its_journal_volume_issue_and_pages_from_773():
    record = marc_to_dict(marc(
        "00000nab a2200000 a 4500", t001="a",
        t245=("10", ("a", "论文题名 /"), ("c", "李强.")),
        t773=("0 ", ("t", "经济研究."), ("g", "2019, 41(2): 1-8"), ("x", "0577-9154"))))
    assert record["type"] == "article" and record["journal"] == "经济研究"
    assert (record["volume"], record["issue"], record["pages"]) == ("41", "2", "1-8")
    assert record["issn"] == "0577-9154" and record["year"] == 2019


def test_a_chapter_names_its_host_book_as_container_title():
    record = marc_to_dict(marc(
        "00000naa a2200000 a 4500", t001="ch", t245=("10", ("a", "A chapter")),
        t773=("0 ", ("t", "The host book /"), ("g", "p. 45-67"), ("z", "9787040247657"))))
    assert record["type"] == "book" and record["container-title"] == "The host book"
    assert record["pages"] == "45-67"


def test_numbers_doi_url_thesis_and_full_dates():
    record = marc_to_dict(marc(
        t001="n", t008="040520e20040315cc" + " " * 17 + "chi d",
        t024=("7 ", ("a", "10.1000/xyz123"), ("2", "doi")),
        t088=("  ", ("a", "NASA-TR-1234")),
        t245=("10", ("a", "Thesis title")),
        t250=("  ", ("a", "第2版.")),
        t264=(" 1", ("a", "南昌 :"), ("b", "南昌大学,"), ("c", "2004年3月15日.")),
        t502=("  ", ("b", "博士"), ("c", "南昌大学"), ("d", "2004")),
        t856=("40", ("u", "https://example.org/thesis.pdf"))))
    assert record["doi"] == "10.1000/xyz123" and record["number"] == "NASA-TR-1234"
    assert record["url"] == "https://example.org/thesis.pdf"
    assert (record["degree"], record["institution"]) == ("博士", "南昌大学")
    assert record["issued"] == "2004-03-15" and record["year"] == 2004
    assert record["edition"] == "第2版"


def test_a_patent_number_carries_its_country():
    record = marc_to_dict(marc(t001="pt", t013=("  ", ("a", "1234567A"), ("b", "CN")),
                               t245=("10", ("a", "一种装置"))))
    assert record["number"] == "CN1234567A"


# --- language -----------------------------------------------------------------------------------

@pytest.mark.parametrize("sent,code", [
    ("zh", "chi"), ("chi", "chi"), ("chi.", "chi"), ("zho", "chi"), ("ZH-cn", "chi"),
    ("Chinese", "chi"), ("中文", "chi"), ("汉语", "chi"), ("eng", "eng"), ("en", "eng"),
    ("English", "eng"), ("fra", "fre"), ("deu", "ger"), ("hun", "hun"), ("||||", None),
    ("und", None), ("", None), ("x", None), (None, None),
])
def test_languages_are_one_iso_639_2_b_code(sent, code):
    assert language_code(sent) == code


def test_a_marc_language_is_normalised():
    record = marc_to_dict(marc(t001="l", t008=fixed("zho"),
                               t245=("10", ("a", "T"))))
    assert record["language"] == "chi"
    no_language = marc_to_dict(marc(t001="l2", t008=fixed("|||"),
                                    t245=("10", ("a", "T"))))
    assert "language" not in no_language


# --- item fields: the copies and their barcodes -------------------------------------------------

def test_koha_and_marc21_item_fields_become_holdings_with_their_barcodes():
    record = marc_to_dict(marc(
        t001="kx1", t008=BOOK_008, t245=(" 0", ("a", "图书馆学概论")),
        t952=[("  ", ("c", "中文书库"), ("o", "G250/12"), ("p", "3900101")),
              ("  ", ("c", "中文书库"), ("o", "G250/12"), ("p", "3900102")),
              ("  ", ("c", "保存本库"), ("o", "G250/12"), ("p", "3900103"))]), "marc21")
    assert record["holdings"] == [
        {"call_number": "G250/12", "location": "中文书库", "status": "unknown",
         "barcodes": ["3900101", "3900102"]},
        {"call_number": "G250/12", "location": "保存本库", "status": "unknown",
         "barcodes": ["3900103"]}]
    record = marc_to_dict(marc(
        t001="m1", t008=BOOK_008, t245=(" 0", ("a", "Title")),
        t852=("0 ", ("b", "Main stacks"), ("h", "Z699"), ("i", ".A1 2004"), ("p", "31234"))),
        "marc21")
    assert record["holdings"] == [{"call_number": "Z699 .A1 2004", "location": "Main stacks",
                                   "status": "unknown", "barcodes": ["31234"]}]


def test_cnmarc_905_gives_the_call_number_and_the_barcode():
    record = marc_to_dict(marc(
        leader="00000nam0 2200000   450 ",
        t001="cn1", t200=("1 ", ("a", "中国图书馆事业发展报告")),
        t905=[("  ", ("a", "JXUFE"), ("b", "A0012345"), ("c", "社科书库"), ("d", "G259.2"),
               ("e", "45"))]), "cnmarc")
    assert record["holdings"] == [{"call_number": "G259.2/45", "location": "社科书库",
                                   "status": "unknown", "barcodes": ["A0012345"]}]
