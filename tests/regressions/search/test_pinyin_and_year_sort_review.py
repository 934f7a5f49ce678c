"""Proofs from the review of the run-together pinyin, year sort and author pinyin changes."""
import pytest
from sqlalchemy import text

from jala.extensions import db
from jala.search import engine, indexing
from jala.search.engine import SearchRequest, search
from jala.search.indexing import reindex
from tests.support.catalog import import_lines


def titles(result):
    return [hit.title for hit in result.hits]


def index_columns():
    return db.session.execute(text(
        "SELECT id, title_key, search_text, pinyin_key, search_vector::text, "
        "title_vector::text FROM records ORDER BY id")).all()


# --- romanize_name: a CJK character pypinyin cannot read ----------------------------------

def test_an_author_with_a_character_pypinyin_cannot_read_does_not_abort_the_import(ctx):
    # 㐂 (U+3402) is CJK Ext. A: CJK_RE matches it, lazy_pinyin(errors="ignore") gives ()
    stats = import_lines([{"source_id": "n1", "title": "某书", "authors": ["王㐂"]},
                          {"source_id": "n2", "title": "另一本书", "authors": ["李明"]}])
    assert stats.created == 2


# --- reindex and extra->'authors_pinyin' / extra->>'series' --------------------------------

@pytest.mark.parametrize("value", [True, 5])
def test_reindex_survives_a_non_list_authors_pinyin_in_extra(ctx, value):
    import_lines([{"source_id": "e1", "title": "湘军志", "authors": ["曾国藩"],
                   "authors_pinyin": value}])
    assert reindex() >= 1


@pytest.mark.parametrize("extra", [
    {"authors_pinyin": "Zeng Guofan"},        # a string, not a list: the importer ignores it
    {"series": ["丛书甲编", "Series B"]},      # a list, not a string: the importer ignores it
])
def test_reindex_rebuilds_what_the_importer_built(ctx, extra):
    import_lines([{"source_id": "e2", "title": "湘军志", "authors": ["曾国藩"], **extra}])
    before = index_columns()
    reindex()
    assert index_columns() == before


def test_reindex_does_not_overwrite_a_record_changed_while_its_batch_was_read(ctx, monkeypatch):
    import_lines([{"source_id": "c1", "title": "旧的标题"}])
    real, done = indexing.build_document, []

    def concurrently_reimported(fields):
        if not done:  # an import commits a new title between reindex's SELECT and UPDATE
            done.append(True)
            import_lines([{"source_id": "c1", "title": "崭新题名"}])
        return real(fields)

    monkeypatch.setattr(indexing, "build_document", concurrently_reimported)
    reindex()
    assert titles(search(SearchRequest(q="崭新题名"))) == ["崭新题名"]


# --- sort by year over every match ----------------------------------------------------------

def test_year_sort_pages_neither_repeat_nor_skip_records_of_the_same_year(ctx, monkeypatch):
    import_lines([{"source_id": f"t{i}", "title": f"湖泊研究 第{i}卷", "year": 2010}
                  for i in range(3)])
    monkeypatch.setattr(engine, "FIRST_CANDIDATES", 2)
    seen = [search(SearchRequest(q="湖泊", sort="year", per_page=1, page=p)).hits[0].title
            for p in (1, 2, 3)]
    assert sorted(seen) == sorted(f"湖泊研究 第{i}卷" for i in range(3))


def test_year_sort_keeps_the_pinyin_key_matches_the_relevance_sort_finds(ctx, monkeypatch):
    # 'zhonggu' typed so far: the tsquery meets 中古 (zhong gu), the key meets 中国 (zhongguo…)
    import_lines([{"source_id": "g1", "title": "中古文学史", "year": 1990},
                  {"source_id": "g2", "title": "中古汉语研究", "year": 1991},
                  {"source_id": "g3", "title": "中国经济年鉴", "year": 2020}])
    monkeypatch.setattr(engine, "FIRST_CANDIDATES", 2)
    relevance = [t for p in (1, 2, 3)
                 for t in titles(search(SearchRequest(q="zhonggu", per_page=1, page=p)))]
    assert "中国经济年鉴" in relevance  # found through its pinyin key
    newest = search(SearchRequest(q="zhonggu", per_page=1, sort="year"))
    assert titles(newest) == ["中国经济年鉴"]  # the newest match, yet sorting by year drops it


# --- long pinyin queries -------------------------------------------------------------------

# a romanised citation, as Western bibliographies write it, of a title that begins otherwise
LONG_TITLE = ("关于中华人民共和国国民经济和社会发展第十三个五年规划纲要实施情况"
              "中期评估报告及其附件说明")
LONG_QUERY = ("zhonghuarenmingongheguo guominjingji he shehuifazhan dishisange wunianguihua "
              "gangyao shishiqingkuang zhongqipinggu baogao jiqi fujianshuoming")


def test_a_long_title_typed_in_spaced_pinyin_is_found(ctx):
    import_lines([{"source_id": "l1", "title": LONG_TITLE, "year": 2019}])
    assert len(LONG_QUERY.replace(" ", "")) > 120 and len(LONG_QUERY.split()) <= 12
    # each word is pinyin on its own; only the run's total length (130 > 120) is refused
    assert titles(search(SearchRequest(q=LONG_QUERY))) == [LONG_TITLE]


def test_the_count_includes_the_pinyin_key_matches_it_pages_through(ctx, monkeypatch):
    # k = 2: one title match, one author match (钟古, zhong gu) fill it; 中国经济年鉴 comes
    # through the pinyin key alone. The count is then taken over the tsquery only.
    import_lines([{"source_id": "k1", "title": "中古文学史", "year": 1990},
                  {"source_id": "k2", "title": "山水诗选", "authors": ["钟古"], "year": 1995},
                  {"source_id": "k3", "title": "中国经济年鉴", "year": 2020}])
    monkeypatch.setattr(engine, "FIRST_CANDIDATES", 2)
    first = search(SearchRequest(q="zhonggu", per_page=1))
    shown = {t for p in range(1, first.pages + 1)
             for t in titles(search(SearchRequest(q="zhonggu", per_page=1, page=p)))}
    assert (first.total, first.total_relation) == (3, "eq")
    assert len(shown) == 3
