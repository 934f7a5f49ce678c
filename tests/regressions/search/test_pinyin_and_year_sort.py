"""Search: sorting by year pages through every match (the pinyin-key matches too), long titles
typed in spaced pinyin are found, and the count covers what it pages through (from the review
of the run-together pinyin and year sort changes)."""
from jala.search import engine
from jala.search.engine import SearchRequest, search
from tests.support.catalog import import_lines
from tests.support.search import titles

# --- sort by year over every match ----------------------------------------------------------

def test_year_sort_pages_neither_repeat_nor_skip_records_of_the_same_year(ctx, monkeypatch):
    import_lines([{"source_id": f"t{i}", "title": f"湖泊研究 第{i}卷", "year": 2010}
                  for i in range(3)])
    monkeypatch.setattr(engine, "CANDIDATE_BANDS", (2, 1000, 10_000))
    seen = [search(SearchRequest(q="湖泊", sort="year", per_page=1, page=p)).hits[0].title
            for p in (1, 2, 3)]
    assert sorted(seen) == sorted(f"湖泊研究 第{i}卷" for i in range(3))


def test_year_sort_keeps_the_pinyin_key_matches_the_relevance_sort_finds(ctx, monkeypatch):
    # 'zhonggu' typed so far: the tsquery meets 中古 (zhong gu), the key meets 中国 (zhongguo…)
    import_lines([{"source_id": "g1", "title": "中古文学史", "year": 1990},
                  {"source_id": "g2", "title": "中古汉语研究", "year": 1991},
                  {"source_id": "g3", "title": "中国经济年鉴", "year": 2020}])
    monkeypatch.setattr(engine, "CANDIDATE_BANDS", (2, 1000, 10_000))
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
    monkeypatch.setattr(engine, "CANDIDATE_BANDS", (2, 1000, 10_000))
    first = search(SearchRequest(q="zhonggu", per_page=1))
    shown = {t for p in range(1, first.pages + 1)
             for t in titles(search(SearchRequest(q="zhonggu", per_page=1, page=p)))}
    assert (first.total, first.total_relation) == (3, "eq")
    assert len(shown) == 3
