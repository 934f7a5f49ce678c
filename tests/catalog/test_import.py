import io

import pymarc
import pytest
from sqlalchemy import select

from jala.catalog.importer import import_stream
from jala.catalog.models import Holding, Record, SourceRecord
from jala.catalog.readers import open_records
from jala.extensions import db
from jala.search.engine import SearchRequest, search
from tests.support.catalog import import_file, import_lines, records_titled


def test_bad_lines_are_reported_with_their_number_and_the_rest_imports(ctx):
    stats = import_lines([
        {"source_id": "ok-1", "title": "第一本书"},
        "{not json",
        {"source_id": "no-title"},
        {"title": "no source id"},
        {"source_id": "bad-type", "title": "x", "type": "spaceship"},
        {"source_id": "bad-year", "title": "x", "year": "MMX"},
        {"source_id": "bad-holding", "title": "x", "holdings": [{"library": "HARVARD"}]},
        {"source_id": "bad-status", "title": "x", "holdings": [{"status": "stolen"}]},
        "[1, 2, 3]",
        {"source_id": "ok-2", "title": "第二本书", "year": "2015"},
    ])
    assert (stats.read, stats.created, stats.skipped) == (10, 2, 8)
    reasons = {e["position"]: e["reason"] for e in stats.errors}
    assert "bad JSON" in reasons[2] and reasons[3] == "missing title"
    assert reasons[4] == "missing source_id" and "spaceship" in reasons[5]
    assert "HARVARD" in reasons[7] and "stolen" in reasons[8] and "object" in reasons[9]
    assert records_titled("第二本书")[0].year == 2015


def test_reimporting_the_same_file_changes_nothing(ctx):
    batch = [{"source_id": f"s{i}", "title": f"标题{i}", "authors": ["王五"], "year": 2001}
             for i in range(30)]
    first = import_lines(batch)
    assert first.created == 30
    before = db.session.execute(select(Record.id, Record.updated_at)).all()
    again = import_lines(batch)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 30)
    assert db.session.execute(select(Record.id, Record.updated_at)).all() == before


def test_changed_record_is_updated_in_place(ctx):
    import_lines([{"source_id": "c1", "title": "旧标题"}])
    stats = import_lines([{"source_id": "c1", "title": "新标题"}])
    assert stats.updated == 1 and records_titled("新标题") and not records_titled("旧标题")


def test_isbn_10_and_13_make_one_union_record_with_holdings_of_both_libraries(ctx):
    import_lines([{"source_id": "a", "title": "中国发展报告", "isbn": "7-5037-1744-0",
                   "holdings": [{"call_number": "F124/26", "status": "available"}]}], "NCU")
    stats = import_lines([{"source_id": "b", "title": "中國發展報告 1994",
                           "isbn": "978-7-5037-1744-4"}], "JXAU")
    assert stats.merged == 1
    [record] = records_titled("中国发展报告")
    assert record.holdings_count == 2
    codes = sorted(h.library.code for h in record.holdings)
    assert codes == ["JXAU", "NCU"]
    assert {h.status for h in record.holdings} == {"available", "unknown"}


def test_match_by_title_author_and_year_but_never_by_title_alone(ctx):
    import_lines([{"source_id": "1", "title": "数据结构", "authors": ["严蔚敏"], "year": 2007}])
    same = import_lines([{"source_id": "2", "title": "數據結構", "authors": ["严蔚敏"],
                          "year": 2007}], "ECJTU")
    other_author = import_lines([{"source_id": "3", "title": "数据结构", "authors": ["谭浩强"],
                                  "year": 2007}], "ECJTU")
    title_only = import_lines([{"source_id": "4", "title": "数据结构"}], "JJU")
    assert same.merged == 1 and other_author.created == 1 and title_only.created == 1
    assert len(records_titled("数据结构")) == 3


def test_articles_never_merge_on_a_shared_issn(ctx):
    stats = import_lines([
        {"source_id": "x1", "type": "article", "title": "甲文", "issn": "0317-8471"},
        {"source_id": "x2", "type": "article", "title": "乙文", "issn": "0317-8471"}])
    assert stats.created == 2


def test_unknown_fields_are_kept_and_the_source_record_is_stored_as_imported(ctx):
    raw = {"source_id": "u1", "title": "带扩展字段", "price": "CNY 20", "shelf": {"floor": 3}}
    import_lines([raw])
    [record] = records_titled("带扩展字段")
    assert record.extra == {"price": "CNY 20", "shelf": {"floor": 3}}
    source = db.session.execute(select(SourceRecord).where(
        SourceRecord.record_id == record.id)).scalar_one()
    assert source.raw == raw and source.library.code == "JXUFE"


def test_record_without_holdings_gets_one_at_the_source_library(ctx):
    import_lines([{"source_id": "h0", "title": "无馆藏信息"}], "JCU")
    [record] = records_titled("无馆藏信息")
    [holding] = record.holdings
    assert holding.library.code == "JCU" and holding.status == "unknown"


def test_gb18030_json_lines_are_read_as_gb18030_with_or_without_the_encoding_option(ctx):
    data = '{"source_id": "g2", "title": "国标编码的书"}\n'.encode("gb18030")
    _, items, fmt = open_records(io.BytesIO(data), "x.jsonl")  # not UTF-8: read as GB18030
    stats = import_stream(items, "JXUFE", format_name=fmt, commit=False)
    assert stats.created == 1 and stats.errors[0]["reason"].startswith("not UTF-8: read as GB")
    _, items, fmt = open_records(io.BytesIO(data), "x.jsonl", encoding="gb18030")
    stats = import_stream(items, "JXUFE", format_name=fmt, commit=False)
    assert stats.unchanged == 1 and not stats.errors and records_titled("国标编码的书")


@pytest.mark.parametrize("name,library", [("dp2-sample_cnmarcxml.xml", "NCU"),
                                          ("dp2-sample_unimarcxml.xml", "JXAU")])
def test_sru_wrapped_unimarc_and_cnmarc_map_every_field(ctx, marc_dir, name, library):
    stats = import_file(marc_dir / name, library)
    assert stats.read == 10 and stats.skipped == 0
    [record] = records_titled("'94中国发展报告")
    assert record.isbn == ["9787503717444"] and record.publisher == "中国统计出版社"
    assert record.year == 1994 and record.clc == "F124" and "经济发展" in record.subjects
    assert record.title_pinyin.endswith("Zhong Guo Fa Zhan Bao Gao")
    # 701 $4 主编: the chief editors (the 711 $4 编 too), found by name as authors are
    assert record.extra["editor"] == ["叶震", "李强", "国家统计局"] and record.page_count == 320
    assert record.extra["place"] == "北京" and record.language == "chi"
    # the cataloguer's romanisation of the names (701 $A) is kept and searchable
    assert record.extra["authors_pinyin"][:2] == ["Xie Zhen", "Li Qiang"]
    assert record.id in [h.id for h in search(SearchRequest(q="author:xiezhen")).hits]
    assert record.id in [h.id for h in search(SearchRequest(q="ye zhen")).hits]
    holding = next(h for h in record.holdings if h.library.code == library)
    assert holding.call_number == "F124 26" and holding.status == "available"


def test_cnmarc_and_unimarc_copies_of_a_book_are_one_record(ctx, marc_dir):
    import_file(marc_dir / "dp2-sample_cnmarcxml.xml", "NCU")
    stats = import_file(marc_dir / "dp2-sample_unimarcxml.xml", "JXAU")
    assert stats.merged == 10
    [record] = records_titled("'94中国发展报告")
    assert record.holdings_count == 2


def test_marc21_xml_maps_title_publisher_year(ctx, marc_dir):
    stats = import_file(marc_dir / "dp2-sample_marcxml.xml", "ECJTU")
    assert stats.read == 10 and stats.skipped == 0
    record = db.session.execute(select(Record).where(
        Record.publisher == "社会科学文献出版社")).scalars().first()
    assert record.year == 2012


def _marc21(title, isbn, control):
    record = pymarc.Record(force_utf8=True)
    record.add_field(pymarc.Field(tag="001", data=control))
    record.add_field(pymarc.Field(tag="020", indicators=pymarc.Indicators(" ", " "),
                                  subfields=[pymarc.Subfield("a", isbn)]))
    record.add_field(pymarc.Field(tag="245", indicators=pymarc.Indicators("1", "0"),
                                  subfields=[pymarc.Subfield("a", title)]))
    record.add_field(pymarc.Field(tag="260", indicators=pymarc.Indicators(" ", " "),
                                  subfields=[pymarc.Subfield("b", "高等教育出版社"),
                                             pymarc.Subfield("c", "2008.")]))
    record.add_field(pymarc.Field(tag="650", indicators=pymarc.Indicators(" ", "0"),
                                  subfields=[pymarc.Subfield("a", "高等数学")]))
    return record.as_marc()


def test_iso2709_with_a_broken_record_in_the_middle(ctx, tmp_path):
    good1 = _marc21("高等数学 上册", "978-7-04-024765-7", "m1")
    good2 = _marc21("线性代数", "7-5639-1624-5", "m2")
    body = b"nam  2200037   4500" + b"garbage" * 3 + b"\x1d"
    broken = f"{len(body) + 5:05d}".encode() + body  # a right length, a nonsense directory
    path = tmp_path / "books.mrc"
    path.write_bytes(good1 + broken + good2)
    stats = import_file(path, "NIT")
    assert stats.created == 2 and stats.skipped == 1
    assert stats.errors[0]["position"] == 2 and "MARC" in stats.errors[0]["reason"]
    [record] = records_titled("高等数学 上册")
    assert record.isbn == ["9787040247657"] and record.year == 2008
    assert record.subjects == ["高等数学"]


def test_truncated_xml_reports_where_it_broke(ctx, marc_dir, tmp_path):
    text = (marc_dir / "dp2-sample_cnmarcxml.xml").read_text(encoding="utf-8-sig")
    path = tmp_path / "cut.xml"
    path.write_text(text[: len(text) // 2], encoding="utf-8")
    stats = import_file(path, "NCU")
    assert stats.created >= 3 and stats.skipped == 1
    assert "XML" in stats.errors[-1]["reason"]


def test_holdings_are_replaced_when_a_source_record_changes(ctx):
    import_lines([{"source_id": "hh", "title": "换馆藏", "holdings": [
        {"library": "JXUFE", "status": "available"}, {"library": "JXUFE", "status": "on_loan"}]}])
    import_lines([{"source_id": "hh", "title": "换馆藏", "holdings": [
        {"library": "JXUFE", "status": "on_loan"}]}])
    [record] = records_titled("换馆藏")
    statuses = db.session.execute(select(Holding.status).where(
        Holding.record_id == record.id)).scalars().all()
    assert statuses == ["on_loan"]


def test_values_with_tabs_backslashes_quotes_and_line_breaks_are_stored_as_sent(ctx):
    # rows go to PostgreSQL as COPY text written by the importer itself
    tricky = ["tab\there", "back\\slash", 'quote"d', "line\nbreak", "NULL", "{a,b}", "\\N"]
    import_lines([{"source_id": "esc\t1", "title": "转义\\标题\t测试", "authors": tricky,
                   "keywords": ["", *tricky], "abstract": "第一行\r\n第二行\\n", "note": tricky,
                   "holdings": [{"call_number": "TP\t3\\1", "location": "二楼\n东"}]}])
    [record] = records_titled("转义\\标题\t测试")
    assert record.authors == tricky and record.keywords == tricky
    assert record.abstract == "第一行\r\n第二行\\n" and record.extra == {"note": tricky}
    [source] = record.sources
    assert source.source_id == "esc\t1" and source.raw["note"] == tricky
    assert [(h.call_number, h.location) for h in record.holdings] == [("TP\t3\\1", "二楼\n东")]


@pytest.mark.parametrize("workers", [1, 2])
def test_a_record_repeated_in_the_next_batch_is_skipped_and_the_first_kept(ctx, workers):
    # the next batch is looked up and prepared while the one before is being written
    batch = [{"source_id": f"r{i}", "title": f"重复{i}"} for i in range(100)]
    stats = import_lines(batch + batch[:50] + [dict(r, title="改了") for r in batch[50:60]]
                         + batch[60:100], batch_size=100, workers=workers)
    assert (stats.read, stats.created, stats.skipped) == (200, 100, 100)
    assert stats.errors[55]["reason"] == ("duplicate source_id 'r55': line 56 has it too; "
                                          "this line is skipped")
    assert not records_titled("改了") and records_titled("重复55")
    again = import_lines(batch, batch_size=100, workers=workers)
    assert again.unchanged == 100
