"""Suggestions under the search box: by prefix, pinyin and initials, heaviest first, kept up."""
from sqlalchemy import text

from jala.extensions import db
from jala.search.suggest import Suggestion, rebuild_suggestions, suggestions, take_in
from tests.support.catalog import import_lines

SHELF = [
    {"source_id": "s1", "title": "中国发展报告", "authors": ["国家统计局"], "year": 2019,
     "subjects": ["经济发展"], "holdings": [{"library": "NCU"}, {"library": "JXUFE"}]},
    {"source_id": "s2", "title": "中国古代文学史", "authors": ["袁行霈"], "year": 2014,
     "subjects": ["中国文学"]},
    {"source_id": "s3", "title": "中国文学", "authors": ["袁行霈"], "year": 2001},
    {"source_id": "s4", "title": "Lyapunov stability", "authors": ["Zhang Wei"], "year": 2018},
]


def _texts(typed):
    return [s.text for s in suggestions(typed)]


def test_a_prefix_finds_titles_authors_and_subjects_the_most_held_first(ctx):
    import_lines(SHELF)
    take_in()
    assert _texts("中")[0] == "中国发展报告"  # two copies held
    assert set(_texts("中国")) == {"中国发展报告", "中国古代文学史", "中国文学"}
    assert suggestions("袁") == [Suggestion("袁行霈", "author")]  # two records: one row
    assert suggestions("经济") == [Suggestion("经济发展", "subject")]
    assert _texts("lyap") == ["Lyapunov stability"]


def test_pinyin_and_initials_find_what_the_characters_do(ctx):
    import_lines(SHELF)
    take_in()
    assert _texts("zhongguofa") == ["中国发展报告"]
    assert _texts("zg")[:1] == ["中国发展报告"]  # zgfzbg, and the heaviest
    assert "中国古代文学史" in _texts("zggd")
    assert "袁行霈" in _texts("yuanxing")
    assert _texts("z") == ["Zhang Wei"]  # one letter: a Latin name, never pinyin or initials


def test_the_sweeper_takes_in_new_records_and_the_weights_grow(ctx):
    import_lines(SHELF[:1])
    assert take_in() == 1 and take_in() == 0  # nothing new the second time
    import_lines([{"source_id": "s9", "title": "全国统计年鉴", "authors": ["国家统计局"]}])
    assert take_in() == 1
    weight = db.session.execute(text(
        "SELECT weight FROM search_suggestions WHERE kind = 'author' AND text = '国家统计局'"
    )).scalar()
    assert weight == 2


def test_a_rebuild_makes_the_table_anew_from_the_whole_catalogue(ctx):
    import_lines(SHELF)
    take_in()
    db.session.execute(text("UPDATE search_suggestions SET weight = 999"))
    assert rebuild_suggestions(batch_size=2) >= len(SHELF)
    assert _texts("中")[0] == "中国发展报告"
    assert db.session.execute(text("SELECT max(weight) FROM search_suggestions")).scalar() < 999


def test_nothing_typed_or_nothing_like_it_suggests_nothing(ctx):
    import_lines(SHELF)
    take_in()
    assert suggestions("") == [] and suggestions("   ") == [] and suggestions("《》") == []
    assert suggestions("鄱阳湖") == []
    assert suggestions("a%_\\") == []
