"""pg_trgm conditions written so a shard can run them: the operator plus the exact function."""
import pytest
from sqlalchemy import text

from jala.extensions import db
from jala.search import engine, forgiving, spelling
from jala.search.trigram import SIMILARITY_FLOOR, WORD_SIMILARITY_FLOOR, similar, word_like


def test_every_threshold_the_search_uses_is_at_or_above_the_shards_floor():
    assert min(engine.DID_YOU_MEAN, forgiving.LATIN_SIMILARITY,
               forgiving.LATIN_SIMILARITY_NARROWED) >= WORD_SIMILARITY_FLOOR
    assert spelling.SPELLING_SIMILARITY >= SIMILARITY_FLOOR


def test_a_threshold_below_the_floor_is_refused():
    with pytest.raises(ValueError):
        word_like(":q", "search_text", WORD_SIMILARITY_FLOOR - 0.05)
    with pytest.raises(ValueError):
        similar("pinyin_key", ":p", SIMILARITY_FLOOR - 0.1)


@pytest.mark.parametrize("session_threshold", [WORD_SIMILARITY_FLOOR, 0.9])
def test_the_function_decides_whatever_the_session_threshold(app, session_threshold):
    # a shard's session has the floor as threshold: the pair still answers at the statement's
    with app.app_context():
        db.session.execute(text(
            f"SET LOCAL pg_trgm.word_similarity_threshold = {session_threshold}"))
        rows = db.session.execute(text(
            "SELECT t FROM (VALUES ('control systems'), ('contour lines'), ('kontrol')) v(t) "
            f"WHERE {word_like(':q', 't', 0.5)} ORDER BY t"), {"q": "contrl"}).scalars().all()
        expected = db.session.execute(text(
            "SELECT t FROM (VALUES ('control systems'), ('contour lines'), ('kontrol')) v(t) "
            "WHERE word_similarity(:q, t) >= 0.5 ORDER BY t"), {"q": "contrl"}).scalars().all()
        db.session.rollback()
    if session_threshold <= 0.5:
        assert rows == expected and rows
    else:
        assert rows == []  # the operator's own threshold still bounds it on one server
