"""How common a lexeme is, as PostgreSQL's own statistics say (ANALYZE's most common elements).

The forgiving search anchors a loose query on its rarest terms, so that GIN reads their short
posting lists instead of the long ones. ANALYZE keeps, for each tsvector column, its most
common lexemes with their frequencies (``pg_stats.most_common_elems``; the migration raises
the columns' statistics target so that thousands are kept). A lexeme that is not among them
is rarer than the rarest that is. The figures are read once in a while per process.
"""
import re
import time

from sqlalchemy import text

from jala.extensions import db

REFRESH_SECONDS = 600
_cache = {}  # column -> (read at, {lexeme: frequency}, the floor: below every listed one)
_TSQUERY_TOKEN = re.compile(r"'((?:[^']|'')*)'(?::[*A-D]*)?|<(?:\d+|-)>|[&|!()]")


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


def catalogue_size():
    """How many records there are, as the last ANALYZE counted them (read with the lexemes)."""
    now = time.monotonic()
    cached = _cache.get("records")
    if cached is None or now - cached[0] > REFRESH_SECONDS:
        rows = db.session.execute(text(
            "SELECT reltuples FROM pg_class WHERE relname = 'records'")).scalar()
        cached = _cache["records"] = (now, max(rows or 0, 0), 0)
    return cached[1]


def tsquery_share(tsquery, column="search_vector", at_least=False):
    """The share of records a tsquery of ours matches, as an upper estimate (or a lower one).

    PostgreSQL multiplies the frequencies of a phrase's lexemes as if they were independent;
    a Chinese word's overlapping pairs are anything but (研究进展 is '研究' <-> '究进' <-> '进展',
    and nearly every '究进' is in it), so its estimate can be a hundred times too low. A phrase
    matches at most as often as its rarest lexeme, and that is the figure taken here.

    ``at_least``: the share it surely matches, as far as the statistics know: a listed
    lexeme's own frequency (ANALYZE samples 300,000 rows for it), the likeliest of the
    alternatives of an OR, nothing for what takes two lexemes together.
    """
    known, floor = frequencies(column)
    tokens = [(m.group(1), m.group(0)) for m in _TSQUERY_TOKEN.finditer(tsquery)]
    position = 0

    def peek():
        return tokens[position][1] if position < len(tokens) else None

    def take():
        nonlocal position
        position += 1
        return tokens[position - 1]

    def either():
        share = both()
        while peek() == "|":
            take()
            other = both()
            share = max(share, other) if at_least else 1 - (1 - share) * (1 - other)
        return share

    def both():
        share = phrase()
        while peek() == "&":
            take()
            other = phrase()
            share = 0.0 if at_least else share * other
        return share

    def phrase():
        share = single()
        while (peek() or "").startswith("<"):
            take()
            other = single()
            share = 0.0 if at_least else min(share, other)
        return share

    def single():
        lexeme, token = take() if peek() is not None else (None, ")")
        if token == "!":
            excluded = single()
            return 0.0 if at_least else 1 - excluded
        if token == "(":
            share = either()
            if peek() == ")":
                take()
            return share
        if lexeme is None:
            return 1.0
        share = known.get(lexeme.replace("''", "'"), 0.0 if at_least else floor / 2)
        return max(share, floor) if ":*" in token and not at_least else share

    return either() if tokens else 0.0
