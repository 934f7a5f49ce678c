"""The record contract's fields end to end: imported, checked, shown on the page and the API."""
from pathlib import Path

from sqlalchemy import select

from jala.catalog.models import Record
from jala.extensions import db
from jala.search.engine import SearchRequest, search
from tests.support.catalog import import_file, import_lines, records_titled
from tests.support.web import main_of, visible_text

LOC_SAMPLE = Path(__file__).parent / "data" / "loc" / "booksall-2016-sample.mrc"


def test_real_lc_records_import_whole_with_vernacular_titles_and_types(ctx):
    stats = import_file(LOC_SAMPLE, "NCU")
    assert (stats.read, stats.skipped) == (40, 0)
    [record] = records_titled("頭戴之硬盔")
    assert record.extra["title-variants"] == ["Tou dai zhi ying kui"]
    assert record.language == "chi" and record.authors == ["吳正德"]
    assert (record.extra["place"], record.publisher) == ("台北縣三芝鄉",
                                                         "財團法人李天禄布袋戲文敎基金會")
    assert record.extra["edition"] == "初版"
    types = db.session.execute(select(Record.type)).scalars().all()
    assert {t: types.count(t) for t in ("thesis", "ebook", "report", "conference")} == {
        "thesis": 5, "ebook": 5, "report": 5, "conference": 5}
    # the romanised title finds the record too
    assert record.id in [h.id for h in search(SearchRequest(q="Tou dai zhi ying kui")).hits]


def test_the_api_gives_place_the_vernacular_title_its_variants_and_one_language_code(client):
    import_file(LOC_SAMPLE, "NCU")
    [record] = records_titled("頭戴之硬盔")
    body = client.get(f"/api/v1/records/{record.id}").get_json()
    assert body["title"] == "頭戴之硬盔" and body["title_variants"] == ["Tou dai zhi ying kui"]
    assert body["place"] == "台北縣三芝鄉" and body["language"] == "chi"
    assert body["edition"] == "初版"


def test_the_record_page_shows_place_edition_editors_and_the_variant_title(client):
    import_lines([{"source_id": "rf-1", "title": "红楼梦", "language": "zh",
                   "title-variants": ["Hong lou meng"], "place": "北京", "edition": "3",
                   "editor": ["李强"], "translator": ["王五"], "authors": ["曹雪芹"]}])
    [record] = records_titled("红楼梦")
    text = visible_text(main_of(client.get(f"/records/{record.id}").get_data(as_text=True)))
    for shown in ("Hong lou meng", "北京", "李强", "王五", "中文"):
        assert shown in text
    assert record.language == "chi"


def test_json_lines_contract_fields_pass_through_checked(ctx):
    stats = import_lines([{
        "source_id": "c-1", "title": "会议论文集", "type": "conference", "edition": 5,
        "place": " 南昌 ", "translator": "王五", "editor": ["李强", " "],
        "corporate-authors": ["中国图书馆学会"], "container-title": "论文集",
        "number": "GB/T 7714—2015", "issued": "2004-03", "accessed": "2024-05-01",
        "event": "全国学术会议", "event-place": "南昌", "event-date": "2004-03-15"}])
    assert stats.created == 1
    [record] = records_titled("会议论文集")
    assert record.extra["edition"] == "5" and record.extra["place"] == "南昌"
    assert record.extra["translator"] == ["王五"] and record.extra["editor"] == ["李强"]
    assert record.year == 2004 and record.extra["event-date"] == "2004-03-15"
    # an editor is found by name as an author is
    assert record.id in [h.id for h in search(SearchRequest(q="李强")).hits]


def test_a_bad_contract_value_is_reported_clearly(ctx):
    stats = import_lines([
        {"source_id": "b-1", "title": "x", "issued": "2004-13"},
        {"source_id": "b-2", "title": "x", "accessed": "yesterday"},
        {"source_id": "b-3", "title": "x", "editor": [1, 2]},
        {"source_id": "b-4", "title": "x", "place": ["北京"]},
        {"source_id": "b-5", "title": "x", "event-date": "2004/03/15"},
    ])
    assert stats.skipped == 5
    reasons = [e["reason"] for e in stats.errors]
    assert reasons[0].startswith("issued must be a date written YYYY, YYYY-MM or YYYY-MM-DD")
    assert "accessed" in reasons[1] and "'yesterday'" in reasons[1]
    assert reasons[2] == "editor must be a list of texts"
    assert reasons[3] == "place must be text" and "event-date" in reasons[4]


def test_languages_are_stored_as_one_code(ctx):
    import_lines([{"source_id": f"lang-{i}", "title": f"语言{i}", "language": code}
                  for i, code in enumerate(["zh", "chi.", "zho", "Chinese", "中文", "||||"])])
    languages = db.session.execute(select(Record.language).where(
        Record.title.like("语言%")).order_by(Record.title)).scalars().all()
    assert languages == ["chi"] * 5 + [None]
