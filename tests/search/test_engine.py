import pytest
from sqlalchemy import text

from jala import clock
from jala.errors import RuleViolation
from jala.extensions import db
from jala.membership import get_library
from jala.search.engine import MAX_WINDOW, SearchRequest, search
from jala.search.indexing import reindex
from tests.support.catalog import import_lines
from tests.support.search import BOOKS, titles


@pytest.fixture
def catalog(ctx):
    stats = import_lines(BOOKS)
    assert stats.created == len(BOOKS)
    return ctx


def test_exact_title_ranks_first(catalog):
    assert titles(search(SearchRequest(q="图书馆")))[0] == "图书馆"
    assert titles(search(SearchRequest(q="图书馆学概论")))[0] == "图书馆学概论"


def test_title_matches_rank_above_abstract_matches(catalog):
    result = titles(search(SearchRequest(q="江西")))
    assert result == ["基于COVID-19疫情的高校图书馆服务调查"]  # only in its abstract
    ranked = titles(search(SearchRequest(q="图书馆 服务")))
    assert ranked.index("数字图书馆的服务创新研究") < ranked.index(
        "基于COVID-19疫情的高校图书馆服务调查") or len(ranked) >= 2


def test_traditional_query_finds_simplified_title(catalog):
    assert "图书馆学概论" in titles(search(SearchRequest(q="圖書館學概論")))


def test_fragment_in_the_middle_of_a_title(catalog):
    assert titles(search(SearchRequest(q="书馆学概")))[0] == "图书馆学概论"
    assert "基于COVID-19疫情的高校图书馆服务调查" in titles(search(SearchRequest(q="于COVID-19疫")))


def test_fragment_cutting_a_latin_word_falls_back_to_trigrams(catalog):
    result = search(SearchRequest(q="VID-19疫情"))
    assert titles(result) == ["基于COVID-19疫情的高校图书馆服务调查"]


def test_single_character_query(catalog):
    assert len(search(SearchRequest(q="馆")).hits) == 4


@pytest.mark.parametrize("q", ["zhongguo fazhan baogao", "zhong guo fa zhan bao gao",
                               "zhongguofazhanbaogao", "ZhongGuo FaZhan"])
def test_pinyin_finds_the_chinese_title(catalog, q):
    assert titles(search(SearchRequest(q=q)))[0] == "中国发展报告"


RUN_TOGETHER = [
    {"source_id": "r1", "type": "article", "title": "桥梁设计方案优化", "year": 2020},
    {"source_id": "r2", "type": "book", "title": "西安城市史", "year": 2010},
    {"source_id": "r3", "type": "article", "title": "基于GPS的车辆定位研究", "year": 2012},
    {"source_id": "r4", "type": "book", "title": "La0.8Sr0.2CoO3材料的制备", "year": 2016},
]


@pytest.mark.parametrize("q, title", [
    ("qiaoliangshejifanganyouhua", "桥梁设计方案优化"),  # fang an, not fan gan
    ("fanganyouhua", "桥梁设计方案优化"),  # the same, cut from the middle of the title
    ("xianchengshishi", "西安城市史"),  # xi an, not xian
    ("xi'an chengshi", "西安城市史"),
    ("jiyuGPSdecheliangdingwei", "基于GPS的车辆定位研究"),  # Latin inside the run
    ("jiyugps", "基于GPS的车辆定位研究"),  # the beginning of the title, typed so far
    ("la08sr02coo3cailiaodezhibei", "La0.8Sr0.2CoO3材料的制备"),
])
def test_pinyin_run_together_finds_the_title_however_it_splits(ctx, q, title):
    import_lines(RUN_TOGETHER)
    assert titles(search(SearchRequest(q=q)))[0] == title


def test_pinyin_key_matches_obey_the_filters(ctx):
    import_lines(RUN_TOGETHER)
    assert titles(search(SearchRequest(q="jiyugps", types=["article"])))[0] == \
        "基于GPS的车辆定位研究"
    assert "基于GPS的车辆定位研究" not in titles(search(SearchRequest(q="jiyugps",
                                                                    types=["book"])))
    assert "基于GPS的车辆定位研究" not in titles(search(SearchRequest(q="jiyugps year:2013")))


def test_the_title_whose_pinyin_key_is_the_query_is_never_crowded_out(ctx, monkeypatch):
    from jala.search import candidates

    import_lines([{"source_id": f"g{i}", "title": f"GPS定位{'系统' * i}"} for i in range(1, 6)]
                 + [{"source_id": "g0", "title": "GPS定位"}])
    monkeypatch.setattr(candidates, "PINYIN_PREFIX_CANDIDATES", 2)
    assert titles(search(SearchRequest(q="gpsdingwei")))[0] == "GPS定位"


def test_reindex_rebuilds_the_index_columns_of_existing_records(ctx):
    import_lines(RUN_TOGETHER)
    db.session.execute(text("UPDATE records SET pinyin_key = '', search_text = '', "
                            "search_vector = '', title_vector = ''"))
    assert titles(search(SearchRequest(q="jiyugps"))) == []
    total = db.session.execute(text("SELECT count(*) FROM records")).scalar()
    seen = []
    assert reindex(batch_size=3, progress=seen.append) == total
    assert seen[-1] == total and len(seen) == -(-total // 3)
    assert titles(search(SearchRequest(q="jiyugps")))[0] == "基于GPS的车辆定位研究"
    assert titles(search(SearchRequest(q="西安城市")))[0] == "西安城市史"


def test_isbn_in_any_form(catalog):
    for q in ("9787040247657", "978-7-04-024765-7", "isbn:978-7-04-024765-7", "7040247658"):
        assert titles(search(SearchRequest(q=q))) == ["图书馆学概论"]


def test_phrase_exclusion_and_or(catalog):
    assert "数字图书馆的服务创新研究" not in titles(search(SearchRequest(q="图书馆 -数字")))
    both = titles(search(SearchRequest(q="概论 OR 创新")))
    assert set(both) == {"图书馆学概论", "数字图书馆的服务创新研究"}
    assert titles(search(SearchRequest(q='"stability of"'))) == [
        "Lyapunov stability of nonlinear control"]


def test_field_queries(catalog):
    assert titles(search(SearchRequest(q="author:吴慰慈"))) == ["图书馆学概论"]
    assert titles(search(SearchRequest(q="吴慰慈 title:吴慰慈"))) == []
    assert titles(search(SearchRequest(q="subject:图书馆学"))) == ["图书馆学概论"]
    assert set(titles(search(SearchRequest(q="图书馆 year:2014-2020")))) == {
        "图书馆学概论", "数字图书馆的服务创新研究"}


def test_latin_words_case_insensitive_with_prefix_while_typing(catalog):
    assert titles(search(SearchRequest(q="lyapunov STAB"))) == [
        "Lyapunov stability of nonlinear control"]


def test_filters_and_facets(catalog):
    result = search(SearchRequest(q="图书馆"))
    facets = {name: {e["value"]: e["count"] for e in entries}
              for name, entries in result.facets.items()}
    assert facets["type"] == {"book": 2, "article": 1, "thesis": 1}
    assert facets["library"]["JXUFE"] >= 2 and facets["library"]["NCU"] == 1
    filtered = search(SearchRequest(q="图书馆", types=["article"]))
    assert titles(filtered) == ["基于COVID-19疫情的高校图书馆服务调查"]
    assert titles(search(SearchRequest(q="图书馆", libraries=["ncu"]))) == ["图书馆学概论"]
    assert result.total == 4 and result.total_relation == "eq"


def test_sort_by_year(catalog):
    years = [h.year for h in search(SearchRequest(q="图书馆", sort="year")).hits]
    assert years == sorted(years, reverse=True)


def test_sort_by_year_takes_the_newest_of_every_match_not_of_the_best_few(ctx, monkeypatch):
    from jala.search import engine

    # twelve matches, oldest imported first; only five are ranked (the first title matches)
    import_lines([{"source_id": f"y{i}", "title": f"河流研究 第{i}卷", "year": 2000 + i}
                  for i in range(12)] + [{"source_id": "y-none", "title": "河流研究 无年"}])
    monkeypatch.setattr(engine, "CANDIDATE_BANDS", (5, 1000, 10_000))
    first = search(SearchRequest(q="河流", sort="year", per_page=2))
    assert [h.year for h in first.hits] == [2011, 2010]
    assert (first.total, first.total_relation) == (13, "eq")  # counted over every match
    third = search(SearchRequest(q="河流", sort="year", per_page=2, page=3))
    assert [h.year for h in third.hits] == [2007, 2006]
    monkeypatch.setattr(engine, "CANDIDATE_BANDS", (13, 1000, 10_000))
    last = search(SearchRequest(q="河流", sort="year", per_page=2, page=7))
    assert [h.title for h in last.hits] == ["河流研究 无年"]  # the undated come last


def test_sort_by_year_of_a_term_too_common_to_read_whole_walks_the_year_index(ctx,
                                                                              monkeypatch):
    from jala.search import candidates

    import_lines([{"source_id": f"w{i}", "title": f"湿地研究 第{i}卷", "year": 2000 + i % 6,
                   "type": "book" if i % 2 else "article"} for i in range(12)])
    monkeypatch.setattr(candidates, "YEAR_SORT_ALL", 3)
    pages = [search(SearchRequest(q="湿地", sort="year", per_page=4, page=p)) for p in (1, 2, 3)]
    seen = [(h.year, h.id) for page in pages for h in page.hits]
    assert seen == sorted(seen, reverse=True) and len(set(seen)) == 12  # no repeats, no gaps
    books = search(SearchRequest(q="湿地", sort="year", types=["book"], per_page=10))
    assert [h.year for h in books.hits] == [2005, 2005, 2003, 2003, 2001, 2001]


def test_a_rare_query_read_in_one_pass_still_ranks_title_matches_first(ctx, monkeypatch):
    from jala.search import engine

    # the keyword-only matches come first in the table: one pass reading k + 1 of them
    # finds more than k, and the title matches are read first after all
    import_lines([{"source_id": f"k{i}", "title": f"调查报告 第{i}卷", "keywords": ["湿地"]}
                  for i in range(4)] +
                 [{"source_id": f"t{i}", "title": f"湿地调查 第{i}卷"} for i in range(8)])
    monkeypatch.setattr(engine, "CANDIDATE_BANDS", (5, 1000, 10_000))
    page = search(SearchRequest(q="湿地", per_page=5))
    assert all(title.startswith("湿地") for title in titles(page))
    assert page.facets_bounded and page.facets_from == 5  # what the page's note says
    monkeypatch.setattr(engine, "CANDIDATE_BANDS", (20, 1000, 10_000))
    whole = search(SearchRequest(q="湿地", per_page=20))  # all 12 in one pass
    assert (whole.total, whole.total_relation) == (12, "eq")
    assert [t.startswith("湿地") for t in titles(whole)] == [True] * 8 + [False] * 4


def test_filters_without_a_query_browse(catalog):
    result = search(SearchRequest(types=["thesis"]))
    assert titles(result) == ["图书馆"]


def test_pages_past_the_window_are_refused(catalog):
    with pytest.raises(RuleViolation):
        search(SearchRequest(q="图书馆", page=MAX_WINDOW // 20 + 1, per_page=20))
    with pytest.raises(RuleViolation):
        search(SearchRequest(q="x", libraries=["NOWHERE"]))
    with pytest.raises(RuleViolation):
        search(SearchRequest(q="x", types=["spaceship"]))


def test_nothing_found_suggests_a_close_title(catalog):
    forgiving = search(SearchRequest(q="lyapunv stabilty"))
    assert titles(forgiving) == ["Lyapunov stability of nonlinear control"]
    assert forgiving.relaxed == ["latin"]
    result = search(SearchRequest(q="lyapunv stabilty", strict=True))
    assert result.total == 0 and result.suggestion.startswith("Lyapunov")


def test_holdings_of_a_withdrawn_library_leave_the_search(catalog):
    get_library("JXAU").left_on = clock.local_today()
    assert "数字图书馆的服务创新研究" not in titles(search(SearchRequest(q="图书馆")))
    facets = search(SearchRequest(q="图书馆")).facets["library"]
    assert "JXAU" not in [e["value"] for e in facets]


def test_every_search_is_logged_without_personal_data(catalog):
    from jala.extensions import db
    from jala.search.models import SearchLogEntry

    search(SearchRequest(q="图书馆", types=["book"]))
    entry = db.session.query(SearchLogEntry).order_by(SearchLogEntry.id.desc()).first()
    assert entry.query == "图书馆" and entry.hits == 2 and entry.filters["type"] == ["book"]
    assert not hasattr(entry, "user_id") and not hasattr(entry, "ip")


def test_a_chinese_word_is_estimated_as_common_as_its_rarest_pair(ctx):
    from jala.search import frequencies
    from jala.search.query import parse_query

    import_lines([{"source_id": f"p{i}",
                   "title": f"湿地研究进展 第{i}卷" if i % 4 else f"土壤 第{i}卷"}
                  for i in range(40)])
    db.session.execute(text("ANALYZE records"))
    frequencies._cache.clear()
    word = parse_query("研究进展").tsquery  # '研究' <1> '究进' <1> '进展'
    share = frequencies.tsquery_share(word)
    known, _floor = frequencies.frequencies("search_vector")
    pairs = [known[pair] for pair in ("研究", "究进", "进展")]
    assert share == min(pairs) > pairs[0] * pairs[1] * pairs[2]  # not as if independent
    both = frequencies.tsquery_share(parse_query("研究进展 土壤").tsquery)
    assert both < share
    assert frequencies.tsquery_share(parse_query("研究进展 -土壤").tsquery) < share


def test_a_filtered_common_term_is_counted_the_same_on_every_page(ctx, monkeypatch):
    from jala.search import engine, frequencies

    import_lines([{"source_id": f"c{i}", "title": f"湿地研究 第{i}卷", "year": 1990 + i % 30,
                   "type": "thesis" if i % 3 == 0 else "book"} for i in range(90)])
    db.session.execute(text("ANALYZE records"))
    frequencies._cache.clear()
    # as 研究 at a million records: too common to read for a filter, not for a page
    monkeypatch.setattr(engine, "COUNT_CAP", 12)
    monkeypatch.setattr(engine, "COUNT_PAST", 3)
    monkeypatch.setattr(engine, "KNOWN_FLOOR", 5)
    monkeypatch.setattr(engine, "CANDIDATE_BANDS", (10, 40, 100))
    monkeypatch.setattr(engine, "FILTERED_COMMON_FIRST_BAND", 5)
    from jala.search.query import parse_query
    assert engine._bands(parse_query("湿地"), has_filters=True) == (5, 10, 40, 100)
    assert engine._bands(parse_query("湿地"), has_filters=False) == (10, 40, 100)
    totals = {(r.total, r.total_relation) for r in (
        search(SearchRequest(q="湿地", types=["thesis"], page=page, per_page=per_page))
        for page, per_page in ((1, 5), (2, 5), (3, 10), (1, 20)))}
    assert totals == {(5, "gte")}  # a lower bound (30 theses match), never more than seen
    listed = {(r.total, r.total_relation) for r in (
        search(SearchRequest(types=["thesis"], page=page, per_page=per_page))
        for page, per_page in ((1, 5), (1, 20), (2, 20)))}
    assert listed == {(12, "gte")}  # the filters alone: counted, past the cap
    unfiltered = search(SearchRequest(q="湿地"))
    assert (unfiltered.total, unfiltered.total_relation) == (12, "gte")


def test_a_term_the_statistics_say_is_past_the_cap_is_not_counted(ctx, monkeypatch):
    from sqlalchemy import event

    from jala.search import engine, frequencies
    from jala.search.query import parse_query

    import_lines([{"source_id": f"s{i}", "title": f"湿地{'研究' if i % 2 else '调查'} 第{i}卷"}
                  for i in range(60)])
    db.session.execute(text("ANALYZE records"))
    frequencies._cache.clear()
    wetland, survey = parse_query("湿地").tsquery, parse_query("湿地调查").tsquery
    known, _floor = frequencies.frequencies("search_vector")
    assert frequencies.tsquery_share(wetland, at_least=True) == known["湿地"] > 0
    assert frequencies.tsquery_share(survey, at_least=True) == 0.0  # two pairs together
    assert frequencies.tsquery_share(f"{wetland} | {survey}", at_least=True) == known["湿地"]
    monkeypatch.setattr(engine, "COUNT_CAP", 20)
    monkeypatch.setattr(engine, "CANDIDATE_BANDS", (10, 40, 100))
    counted = []

    def record(conn, cursor, statement, *args):
        counted.extend([statement] if statement.startswith("SELECT count(*)") else [])

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        common = search(SearchRequest(q="湿地"))  # in all 60: surely past 1.5 x 20
        assert (common.total, common.total_relation) == (20, "gte") and counted == []
        rarer = search(SearchRequest(q="湿地调查"))  # in 30, as far as the statistics know
        assert (rarer.total, rarer.total_relation) == (20, "gte") and len(counted) == 1
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def test_a_library_that_left_does_not_turn_every_search_into_a_filtered_one(ctx, monkeypatch):
    from jala.search import engine, frequencies

    import_lines([{"source_id": f"l{i}", "title": f"湿地研究 第{i}卷"} for i in range(40)],
                 library="NCU")
    import_lines([{"source_id": "gone", "title": "湿地研究 特辑"}], library="JXAU")
    db.session.execute(text("ANALYZE records"))
    frequencies._cache.clear()
    monkeypatch.setattr(engine, "COUNT_CAP", 12)
    monkeypatch.setattr(engine, "KNOWN_FLOOR", 5)
    monkeypatch.setattr(engine, "CANDIDATE_BANDS", (10, 40, 100))
    before = search(SearchRequest(q="湿地", per_page=5))
    get_library("JXAU").left_on = clock.local_today()
    after = search(SearchRequest(q="湿地", per_page=5))
    # past the cap either way: not the floor of a filtered count ("5+")
    assert (before.total, before.total_relation) == (after.total, after.total_relation) \
        == (12, "gte")
    monkeypatch.setattr(engine, "COUNT_CAP", 100)
    monkeypatch.setattr(engine, "COUNT_SCAN", 20)  # what a filtered count reads
    counted = search(SearchRequest(q="湿地", per_page=5))
    assert (counted.total, counted.total_relation) == (40, "eq")  # its holdings left with it
