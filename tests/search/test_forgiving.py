"""The forgiving search: what the reader meant when the words as typed find (almost) nothing."""
from itertools import combinations

import pytest
from sqlalchemy import text

from jala.extensions import db
from jala.search import frequencies
from jala.search.engine import SearchRequest, search
from jala.search.forgiving import (
    relaxations,
    relaxed_candidates,
    run_relaxation,
    undone_slips,
)
from jala.search.query import title_key
from jala.search.relaxation import (
    ANCHORED_ROWS,
    at_least,
    most_of,
    query_pieces,
    quote,
    tsquery_relaxation,
)
from jala.search.spelling import (
    MIN_END,
    spelled_pairs_relaxation,
    trigram_spelling_relaxation,
)
from tests.support.catalog import import_lines
from tests.support.search import titles

SHELF = [
    {"source_id": "f1", "type": "book", "title": "中国发展报告", "year": 2019,
     "holdings": [{"library": "NCU"}]},
    {"source_id": "f2", "type": "article", "title": "数字图书馆资源共享的实践", "year": 2015,
     "keywords": ["数字图书馆", "资源共享"]},
    {"source_id": "f3", "type": "article", "title": "高校图书馆服务的调查", "year": 2021,
     "keywords": ["高校", "图书馆服务"]},
    {"source_id": "f4", "type": "article", "title": "超声辅助乳化微萃取的应用", "year": 2018},
    {"source_id": "f5", "type": "article", "title": "基于GPS的车辆定位研究", "year": 2012},
    {"source_id": "f6", "type": "book", "title": "江西农业经济", "year": 2008,
     "keywords": ["农业", "经济发展"]},
]


@pytest.fixture
def shelf(ctx):
    import_lines(SHELF)
    return ctx


@pytest.mark.parametrize("q, title, relaxation", [
    ("数字图书馆资源共享", "数字图书馆资源共享的实践", None),  # the phrase itself: strict
    ("高校图书馆服务", "高校图书馆服务的调查", None),
    ("图书馆服务高校", "高校图书馆服务的调查", "words"),  # words in another order, no spaces
    ("资源共享数字图书馆", "数字图书馆资源共享的实践", "words"),
    ("农业经济发展", "江西农业经济", "words"),  # a keyword joined to a title word
    ("发站报告", "中国发展报告", "pinyin"),  # 站 for 展: the pinyin keyboard's homophone
    ("中国fazhan", "中国发展报告", "pinyin"),  # Chinese start, pinyin end
    ("zhongguo发展", "中国发展报告", "pinyin"),
    ("辅助化微萃取", "超声辅助乳化微萃取的应用", "words"),  # a character left out
    ("辅助乳化中微萃取", "超声辅助乳化微萃取的应用", "slip"),  # one too many
    ("辅助化乳微萃取", "超声辅助乳化微萃取的应用", "slip"),  # two swapped
    ("zgfzbg", "中国发展报告", "initials"),
    ("jiyugps", "基于GPS的车辆定位研究", None),  # the pinyin key's beginning: strict
    ("jygdcl", "基于GPS的车辆定位研究", "initials"),
    ("zhonguofazhanbaogao", "中国发展报告", "spelling"),  # a letter left out
    ("zhongguofazahnbaogao", "中国发展报告", "spelling"),  # two letters swapped
])
def test_the_record_meant_is_found_and_the_result_says_how(shelf, q, title, relaxation):
    result = search(SearchRequest(q=q))
    assert title in titles(result)[:3]
    if relaxation is None:
        assert result.relaxed == [] or titles(result)[0] == title
    else:
        assert relaxation in result.relaxed and result.strict_total == 0


def test_exact_matches_rank_above_forgiving_ones(ctx):
    import_lines([
        {"source_id": "e1", "title": "图书馆服务与高校发展", "year": 2020},  # the words apart
        {"source_id": "e2", "title": "论高校图书馆服务质量", "year": 2001},  # the words as typed
    ])
    result = search(SearchRequest(q="高校图书馆服务"))
    assert titles(result) == ["论高校图书馆服务质量", "图书馆服务与高校发展"]
    assert result.relaxed == ["words"] and result.strict_total == 1


def test_strict_search_never_relaxes(shelf):
    result = search(SearchRequest(q="发站报告", strict=True))
    assert titles(result) == [] and result.relaxed == []


def test_enough_exact_matches_leave_the_forgiving_search_out(ctx):
    import_lines([{"source_id": f"n{i}", "title": f"高校图书馆服务第{i}辑"} for i in range(12)])
    result = search(SearchRequest(q="高校图书馆服务"))
    assert result.relaxed == [] and result.strict_total is None and result.total == 12


def test_forgiving_hits_obey_the_filters(shelf):
    assert titles(search(SearchRequest(q="发站报告", types=["article"]))) == []
    assert titles(search(SearchRequest(q="发站报告", types=["book"]))) == ["中国发展报告"]
    assert titles(search(SearchRequest(q="图书馆服务高校", year_to=2020))) == []


def _matched(query, held):
    """Whether a vector of each set of lexemes in ``held`` matches the tsquery, in PostgreSQL."""
    return db.session.execute(text(
        "SELECT CAST(vector AS tsvector) @@ CAST(:query AS tsquery)"
        " FROM unnest(CAST(:vectors AS text[])) WITH ORDINALITY AS held(vector, n) ORDER BY n"),
        {"vectors": [" ".join(lexemes) for lexemes in held], "query": query}).scalars().all()


def test_a_run_relaxation_needs_all_but_a_few_pairs_and_is_anchored_on_two_of_enough(ctx):
    query, anchors = run_relaxation("图书馆服务")  # 4 pairs: 2 may be missing
    pairs, how_many, held = anchors
    assert pairs == ["图书", "书馆", "馆服", "服务"] and (how_many, held) == (4, 2)
    held = [subset for size in range(5) for subset in combinations(pairs, size)]
    assert _matched(query, held) == [len(subset) >= 2 for subset in held]


@pytest.mark.parametrize("lexemes", [3, 5, 9])
def test_at_least_is_true_exactly_when_that_many_terms_are(ctx, lexemes):
    terms = [f"t{i}" for i in range(lexemes)]
    for how_many in range(1, lexemes + 1):
        query = at_least(how_many, [quote(term) for term in terms])
        held = [subset for size in range(lexemes + 1) for subset in combinations(terms, size)]
        assert _matched(query, held) == [len(subset) >= how_many for subset in held], query


def test_pinyin_with_a_slip_that_reads_as_other_pinyin_is_found_by_most_of_its_pairs(shelf):
    # zan for zhan: every letter reads as pinyin, so no slip stands out to be placed
    q = "zhongguofazanbaogao"
    without_last_resort = [r for r in relaxations(q, [q]) if not r.last_resort]
    found, used = relaxed_candidates(without_last_resort, "TRUE", {}, set())
    assert title_key("中国发展报告") in [c.title_key for c in found] and used == ["spelling"]
    result = search(SearchRequest(q=q))
    assert titles(result)[:1] == ["中国发展报告"] and result.relaxed == ["spelling"]


def test_a_slip_is_undone_every_way():
    assert set(undone_slips("甲乙丙")) == {"乙丙", "甲丙", "甲乙", "乙甲丙", "甲丙乙"}


def test_queries_with_fields_quotes_or_exclusions_are_not_relaxed(shelf):
    for q in ('"发站报告"', "title:发站报告", "发站报告 -中国"):
        assert search(SearchRequest(q=q)).relaxed == []


def test_only_queries_that_read_as_something_get_a_relaxation():
    def names(q):
        return [r.name for r in relaxations(q, [q])]

    assert names("zgfzbg")[:2] == ["substring", "initials"]
    assert {"initials", "spelling", "latin"} <= set(names("zhonguofazhan"))
    assert names("发站报告") == ["substring", "pinyin", "slip", "words"]
    assert names("TESBED 的应") == ["substring", "latin"]
    assert names("12") == [] and names("中") == []
    assert [r.name for r in relaxations("发站报告 -中国", [])] == ["substring"]


def test_a_last_resort_out_of_time_gives_nothing_and_leaves_the_session_sound(shelf,
                                                                              monkeypatch):
    import time
    from dataclasses import replace

    from sqlalchemy import text

    from jala.extensions import db
    from jala.search import forgiving

    default = db.session.execute(text("SHOW statement_timeout")).scalar()
    made = forgiving.trigram_spelling_relaxation

    def slow(pieces):  # the same last resort, on a server that takes half a second for it
        relaxation = made(pieces)
        return relaxation and replace(relaxation, matches=(
            f"(SELECT pg_sleep(0.5)) IS NOT NULL AND {relaxation.matches[0]}",))

    monkeypatch.setattr(forgiving, "trigram_spelling_relaxation", slow)
    assert "spelling" in [r.name for r in forgiving.relaxations("qqqwwwzzz", ["qqqwwwzzz"])]
    started = time.perf_counter()
    result = search(SearchRequest(q="qqqwwwzzz"))
    assert result.total == 0 and time.perf_counter() - started < 0.45  # gave up at 100 ms
    assert db.session.execute(text("SHOW statement_timeout")).scalar() == default
    assert titles(search(SearchRequest(q="zgfzbg"))) == ["中国发展报告"]  # the session goes on


@pytest.mark.parametrize("lexemes", [3, 4, 6, 9])
def test_every_record_most_of_matches_holds_its_anchors(ctx, lexemes):
    terms = [f"t{i}" for i in range(lexemes)]
    most, anchors = most_of(terms)
    relaxation = tsquery_relaxation("words", most, anchors=anchors)
    held = [subset for size in range(lexemes + 1) for subset in combinations(terms, size)]
    for anchor in (a.params["anchors"] for a in relaxation.anchors):
        assert all(anchored for matched, anchored in
                   zip(_matched(most, held), _matched(anchor, held), strict=True) if matched)
        assert sum(_matched(anchor, held)) < len(held) - 1  # and it leaves most sets out


def test_long_pinyin_with_a_slip_anywhere_is_found_by_how_it_begins_or_ends(shelf):
    key = db.session.execute(text("SELECT pinyin_key FROM records WHERE title = :t"),
                             {"t": "基于GPS的车辆定位研究"}).scalar()
    assert len(key) >= 2 * MIN_END + 1
    slipped = {key[:i] + key[i + 1:] for i in range(len(key))}  # a letter left out
    slipped |= {key[:i] + key[i + 1] + key[i] + key[i + 2:] for i in range(len(key) - 1)}
    slipped |= {key[:i] + "q" + key[i:] for i in range(len(key))}  # one too many
    for typed in sorted(slipped - {key}):
        relaxation = trigram_spelling_relaxation(query_pieces([typed]))
        assert relaxation.anchors  # by its beginning or end, not pg_trgm's index
        found, used = relaxed_candidates([relaxation], "TRUE", {}, set())
        assert [c.title_key for c in found] == [title_key("基于GPS的车辆定位研究")], typed
    assert trigram_spelling_relaxation(query_pieces(["zhonguofa"])).anchors == ()  # short


def _copies(title, pinyin_key_sql, how_many):
    """``how_many`` copies of a record (numbered titles), their pinyin keys as SQL of ``i``."""
    db.session.execute(text(
        "INSERT INTO records (type, title, title_key, search_vector, title_vector, search_text,"
        " pinyin_key, initials_key, created_at, updated_at)"
        " SELECT type, title || i, title_key || i, search_vector, title_vector, search_text,"
        f" {pinyin_key_sql}, '', now(), now() FROM records, generate_series(1, :n) AS i"
        " WHERE title = :title"), {"title": title, "n": how_many})


def test_a_common_end_of_long_pinyin_does_not_crowd_out_the_other(shelf, monkeypatch):
    monkeypatch.setitem(ANCHORED_ROWS, "title_vector", 50)
    _copies("江西农业经济", "'tianchong' || i || 'dingweiyanjiu'", 60)  # ends as 北斗定位研究
    import_lines([{"source_id": "r1", "type": "article", "title": "北斗定位研究"}])
    relaxation = trigram_spelling_relaxation(query_pieces(["beidoudignweiyanjiu"]))
    found, _used = relaxed_candidates([relaxation], "TRUE", {}, set())
    assert [c.title_key for c in found] == [title_key("北斗定位研究")]


def test_a_common_reading_still_puts_the_title_most_like_the_letters_first(shelf, monkeypatch):
    monkeypatch.setitem(ANCHORED_ROWS, "title_vector", 50)
    import_lines([{"source_id": "r0", "type": "article", "title": "中国经济发展研究报告"}])
    _copies("中国经济发展研究报告", "'zzz' || i", 60)  # the same pinyin pairs, a far key
    import_lines([{"source_id": "r1", "type": "article", "title": "中国经济发展研究"}])
    db.session.execute(text("ANALYZE records"))  # the statistics say the anchors are common
    monkeypatch.setattr(frequencies, "_cache", {})
    relaxation = spelled_pairs_relaxation(query_pieces(["zhongguojinjifazhanyanjiu"]))
    found, _used = relaxed_candidates([relaxation], "TRUE", {}, set())
    assert found[0].title_key == title_key("中国经济发展研究")


@pytest.mark.parametrize("q, found", [("哈哈哈哈", 0), ("哈哈哈哈哈", 0), ("mamamamama", 0),
                                      ("图书图书图书", 2)])  # 图书 is in two titles
def test_a_run_of_one_repeated_pair_is_answered(shelf, q, found):
    assert search(SearchRequest(q=q)).total == found


def test_a_four_character_run_with_its_middle_swapped_finds_the_title(shelf):
    assert titles(search(SearchRequest(q="辅乳助化")))[:1] == ["超声辅助乳化微萃取的应用"]
