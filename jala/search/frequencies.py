"""How common a lexeme is, as PostgreSQL's own statistics say (ANALYZE's most common elements).

The forgiving search anchors a loose query on its rarest terms, so that GIN reads their short
posting lists instead of the long ones. ANALYZE keeps, for each tsvector column, its most
common lexemes with their frequencies (``pg_stats.most_common_elems``; the migration raises
the columns' statistics target so that thousands are kept). A lexeme that is not among them
is rarer than the rarest that is. The figures are read once in a while per process.
"""
import time

from sqlalchemy import text

from jala.extensions import db

REFRESH_SECONDS = 600
_cache = {}  # column -> (read at, {lexeme: frequency}, the floor: below every listed one)


def _read(column):
    row = db.session.execute(text(
        "SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats "
        "WHERE tablename = 'records' AND attname = :column"), {"column": column}).first()
    if row is None or row[0] is None:
        return {}, 0.0
    lexemes, frequencies = row
    # the last three figures are the least and greatest frequency and the share of nulls
    return dict(zip(lexemes, frequencies, strict=False)), min(frequencies[:-3], default=0.0)


def frequencies(column):
    """``(frequency of a lexeme, the floor)`` for a tsvector column of records."""
    now = time.monotonic()
    cached = _cache.get(column)
    if cached is None or now - cached[0] > REFRESH_SECONDS:
        known, floor = _read(column)
        cached = _cache[column] = (now, known, floor)
    return cached[1], cached[2]


def rarest(lexemes, how_many, column="title_vector"):
    """The ``how_many`` rarest of ``lexemes`` (unlisted ones first, in the order given)."""
    known, floor = frequencies(column)
    ranked = sorted(enumerate(lexemes), key=lambda item: (known.get(item[1], floor / 2),
                                                          item[0]))
    return [lexeme for _index, lexeme in ranked[:how_many]]
