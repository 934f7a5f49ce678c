"""Normalisation, tokens and the query language: pure functions, no database."""
import pytest

from jala.search.normalize import canonical_isbn, canonical_issn, normalize_text
from jala.search.pinyin import (
    pinyin_key,
    pinyin_readings,
    romanize,
    romanize_with_key,
    split_pinyin,
)
from jala.search.query import parse_query
from jala.search.tokens import VectorBuilder, positioned_lexemes


def test_traditional_full_width_and_case_fold_to_one_form():
    assert normalize_text("圖書館學ＡＢＣ") == "图书馆学abc"
    assert normalize_text("江西經濟幹部管理學院") == "江西经济干部管理学院"


@pytest.mark.parametrize("raw", ["7-5037-1744-0", "7503717440", "978-7-5037-1744-4",
                                 "9787503717444", "ISBN 7-5037-1744-0", "７-５０３７-１７４４-０"])
def test_isbn_10_and_13_have_one_canonical_form(raw):
    assert canonical_isbn(raw) == "9787503717444"


def test_invalid_isbn_and_issn_are_none():
    assert canonical_isbn("7-5037-1744-1") is None
    assert canonical_isbn("hello") is None
    assert canonical_issn("0317-8471") == "0317-8471"
    assert canonical_issn("03178472") is None


def test_cjk_gets_single_characters_and_bigrams_at_the_same_positions():
    pairs, end = positioned_lexemes("图书馆")
    assert sorted(pairs) == sorted([("图", 1), ("图书", 1), ("书", 2), ("书馆", 2), ("馆", 3)])
    assert end == 4


def test_punctuation_between_cjk_is_ignored_and_latin_words_stay_whole():
    pairs, _ = positioned_lexemes(normalize_text("研究：以COVID-19为例"))
    lexemes = [lexeme for lexeme, _ in pairs]
    assert "究以" in lexemes and "covid" in lexemes and "19" in lexemes
    assert "covid19" not in lexemes


def test_vector_literal_keeps_fields_apart():
    builder = VectorBuilder()
    builder.add_text("中国", "A")
    builder.add_values(["发展"], "B")
    literal = builder.literal()
    assert "'中国':1A" in literal and "'发':" in literal and literal.count("B") == 3
    assert "'国发'" not in literal  # no bigram across two fields


def test_pinyin_splits_run_together_syllables():
    assert split_pinyin("zhongguofazhanbaogao") == ["zhong", "guo", "fa", "zhan", "bao", "gao"]
    assert split_pinyin("xian") == ["xian"]
    assert split_pinyin("hello") is None
    assert romanize("重庆银行") == ["chong", "qing", "yin", "hang"]


def test_ambiguous_pinyin_keeps_the_likely_readings_best_first():
    # 方案 is a word: fang an first, fan gan kept as the second reading
    assert pinyin_readings(["fangan"])[:2] == [["fang", "an"], ["fan", "gan"]]
    assert pinyin_readings(["zhangai"])[0] == ["zhang", "ai"]  # 障碍
    assert ["xi", "an"] in pinyin_readings(["xian"])
    # where the reader typed a space, no syllable crosses it
    assert pinyin_readings(["xi", "an"]) == [["xi", "an"]]
    assert all(len(r) >= 2 for r in pinyin_readings(["fang", "an"]))
    # interjections (嗯 n, 呣 m) are never read inside a run
    assert not any({"n", "ng", "m"} & set(r) for r in pinyin_readings(["binanzhan"]))
    assert pinyin_readings(["hello"]) == [] and pinyin_readings(["x1"]) == []


def test_the_pinyin_key_is_the_same_for_index_and_query():
    assert romanize_with_key("基于gps的车辆定位") == (
        ["ji", "yu", "de", "che", "liang", "ding", "wei"], "jiyugpsdecheliangdingwei")
    assert pinyin_key(normalize_text("JiYu GPS de")) == "jiyugpsde"
    assert parse_query("jiyu GPS").pinyin_key == "jiyugps"
    assert parse_query("zhongguofazhan -baogao").pinyin_key == ""  # exclusions are not bypassed
    assert parse_query("title:zhongguo").pinyin_key == ""
    assert parse_query("abc").pinyin_key == ""  # too short to say anything


@pytest.mark.parametrize("hostile", [
    "&", "|", "!", ":", "*", "(", ")", "'", "\\", "&&||!!", "a & b | !c", "'); DROP TABLE x;--",
    ":*", "foo:*", "title:", 'title:"', '"', '""', "-", "--", "OR", "OR OR", "a OR", "-a",
    "year:abc", "isbn:", "\x00", "🙂", "<script>", "a" * 600, "中" * 600, "author:'",
])
def test_hostile_queries_parse_without_error(hostile):
    parsed = parse_query(hostile)
    assert isinstance(parsed.tsquery, str)


def test_phrase_exclusion_or_and_fields():
    parsed = parse_query('title:"发展报告" -统计 author:叶震 a OR b year:1990-1999')
    assert "'发展':A <1> '展报':A <1> '报告':A" in parsed.tsquery
    assert "!'统计'" in parsed.tsquery and "'叶震':B" in parsed.tsquery
    assert "('a' | 'b')" in parsed.tsquery  # one letter is too short for a prefix
    assert (parsed.year_from, parsed.year_to) == (1990, 1999)


def test_single_year_and_open_ranges():
    assert (parse_query("year:2010").year_from, parse_query("year:2010").year_to) == (2010, 2010)
    assert parse_query("x year:2010-").year_to is None
    assert parse_query("x year:-2010").year_from is None


def test_fragment_that_cuts_a_latin_word_uses_a_prefix():
    assert parse_query("于重庆CO").tsquery.endswith("'co':*)")


def test_pinyin_query_has_a_pinyin_alternative_in_every_spelling():
    expected = "'~zhongguo' <1> '~guofa' <1> '~fazhan'"
    for query in ("zhong guo fa zhan", "zhongguo fazhan", "zhongguofazhan"):
        assert expected in parse_query(query).tsquery


def test_isbn_query_becomes_the_canonical_lexeme():
    assert parse_query("7-5037-1744-0").tsquery == "'9787503717444'"
    assert parse_query("isbn:978-7-5037-1744-4").tsquery == "'9787503717444'"
    assert parse_query("isbn:123").errors == ["isbn:123"]


def test_mixed_latin_and_pinyin_query_keeps_the_latin_words():
    tsquery = parse_query("Sol gel fa he cheng").tsquery
    assert "'sol' & 'gel' & ('~fahe' <1> '~hecheng')" in tsquery


def test_lue_typed_with_u_matches_the_indexed_v_spelling():
    assert split_pinyin("lue") == ["lve"] and romanize("略") == ["lve"]


def test_a_query_of_one_hyphenated_fragment_is_not_an_exclusion():
    assert parse_query("-金属复").tsquery == "('金属' <1> '属复')"


def test_author_field_queries_also_match_the_names_pinyin():
    tsquery = parse_query("author:zengguofan").tsquery
    assert "'~zengguo':B <1> '~guofan':B" in tsquery and "'zengguofan':*B" in tsquery
    assert "~" not in parse_query("author:曾国藩").tsquery
