"""The strict search's candidates: the records a query's words as typed match, bounded.

A query for a very common term (研究, 中国, a single character) matches a large share of the
catalogue. We never rank all of those. The candidates are the first k title matches (from
the small title tsvector; k is the smallest of ``CANDIDATE_BANDS`` that reaches the page);
only when titles run short do matches elsewhere fill up the set (ranked on the full weighted
tsvector), and exact title matches always join.
Sorting by year takes the newest matches instead (``newest_candidates``).
"""
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import text

from jala.extensions import db
from jala.search.frequencies import catalogue_size, tsquery_share

# how many matches are ranked: the smallest of these that reaches the page asked for, so that
# the pages of one band are cut from one ranking (most searches stop at page 1)
CANDIDATE_BANDS = (300, 1000, 10_000)
PINYIN_PREFIX_CANDIDATES = 200
YEAR_SORT_ALL = 10_000  # sorting by year reads every match up to this many (see below)
# measured at a million records: a row walked costs 3 µs from a warm cache, 15 µs from a
# cold one; a match read, 4 µs either way (its pages are read in the table's order)
WALK_ROW_COST = 2
TSQUERY_MATCH = "search_vector @@ CAST(:q AS tsquery)"
PINYIN_KEY_MATCH = "pinyin_key LIKE :pinyin_prefix"
RANK_WEIGHTS = "{0.1, 0.25, 0.5, 1.0}"  # D, C, B, A
CANDIDATE_COLUMNS = ("id, type, year, language, category, discipline, clc, library_ids, "
                     "holdings_count, title_key, pinyin_key, extra ->> 'special_collection'")


@dataclass
class Candidate:
    """A record that may be a hit, with what ranking and facets need."""

    id: int
    type: str
    year: int
    language: str
    category: str
    discipline: str
    clc: str
    library_ids: list
    holdings_count: int
    title_key: str
    pinyin_key: str
    collection: str  # the special collection a record came from (its id), or None
    base: float = 0.0
    score: float = 0.0
    tier: int = 0  # 0: the words as typed; then each relaxation in its order


def fetch(sql, params):
    return [Candidate(*row) for row in db.session.execute(text(sql), params)]


def ts_rank_sql(vector, tsquery="CAST(:q AS tsquery)"):
    """ts_rank of a vector with our weights, length-normalised, as SQL."""
    return f"ts_rank(CAST('{RANK_WEIGHTS}' AS float4[]), {vector}, {tsquery}, 1)"


TITLE_RANK = "2 + 2 * " + ts_rank_sql("title_vector")  # a title match outranks every other
OTHER_RANK = ts_rank_sql("search_vector")
ONE_PASS_MATCHES = 2000  # a query expected to match at most this many is read in one pass


def _matches(where, params):
    """Title matches first (the best kind); matches elsewhere only if titles run short.

    Returns ``(matches, complete)``, at most k of them; complete means every match was seen.
    A query the statistics expect to be rare is read in one pass over the search vector
    (which holds the title vector), cheap even when the estimate was low; only when it
    finds more than k are titles read first.
    """
    q, k = "CAST(:q AS tsquery)", params["k"]
    if tsquery_share(params["q"]) * catalogue_size() <= ONE_PASS_MATCHES:
        matches = fetch(
            f"SELECT {CANDIDATE_COLUMNS}, CASE WHEN title_vector @@ {q} THEN {TITLE_RANK} "
            f"ELSE {OTHER_RANK} END FROM records WHERE search_vector @@ {q} AND {where} "
            f"LIMIT :one_pass", dict(params, one_pass=k + 1))
        if len(matches) <= k:
            return matches, len(matches) < k
    title_hits = fetch(f"SELECT {CANDIDATE_COLUMNS}, {TITLE_RANK} FROM records "
                       f"WHERE title_vector @@ {q} AND {where} LIMIT :k", params)
    if len(title_hits) >= k:
        return title_hits, False
    others = fetch(
        f"SELECT {CANDIDATE_COLUMNS}, {OTHER_RANK} FROM records WHERE search_vector @@ {q} "
        f"AND NOT (title_vector @@ {q}) AND {where} LIMIT :rest",
        dict(params, rest=k - len(title_hits)))
    return title_hits + others, len(others) < k - len(title_hits)


def strict_candidates(parsed, where, params):
    """The matches (``_matches``), and exact title and pinyin key matches whatever their rank.

    Returns ``(candidates, complete)``: complete means every match was seen.
    """
    matches, complete = _matches(where, params)
    found = {c.id: c for c in matches}
    if parsed.title_key:
        for c in fetch(f"SELECT {CANDIDATE_COLUMNS}, 2 FROM records "
                        f"WHERE title_key = :title_key AND {where}", params):
            found.setdefault(c.id, c)
    if parsed.pinyin_key:
        # titles whose pinyin is, or begins with, what was typed ('zhongguofazhan…',
        # 'jiyuGPS…'): found by the key however the pinyin splits and whatever Latin is mixed
        # in. The exact ones first: a short key can begin thousands of titles.
        for condition, limit in (("pinyin_key = :pinyin_exact", ""),
                                 (PINYIN_KEY_MATCH, f"LIMIT {PINYIN_PREFIX_CANDIDATES}")):
            for c in fetch(f"SELECT {CANDIDATE_COLUMNS}, 2 FROM records "
                            f"WHERE {condition} AND {where} {limit}",
                            dict(params, pinyin_exact=parsed.pinyin_key)):
                found.setdefault(c.id, c)
    return list(found.values()), complete


@contextmanager
def planner_without(*plan_kinds):
    """The statements inside are planned without these kinds of plan ('seqscan', …)."""
    names = [f"enable_{kind}" for kind in plan_kinds]
    db.session.execute(text("; ".join(f"SET LOCAL {name} = off" for name in names)))
    yield
    db.session.execute(text("; ".join(f"SET LOCAL {name} TO DEFAULT" for name in names)))


def _ids_and_years(condition, where, params, limit):
    # through the GIN index: a scan of the whole table was the planner's choice for a common
    # term, and it reads every row's page rather than the matches' pages
    with planner_without("seqscan"):
        return db.session.execute(text(
            f"SELECT id, year FROM records WHERE {condition} AND {where} LIMIT {limit}"),
            params).all()


def estimated_rows(condition, where, params):
    """How many records the planner expects to match (from ANALYZE's statistics; ~1 ms)."""
    plan = db.session.execute(text(
        f"EXPLAIN (FORMAT JSON) SELECT 1 FROM records WHERE {condition} AND {where}"),
        params).scalar()
    return plan[0]["Plan"]["Plan Rows"]


def expected_matches(condition, where, params, column="search_vector"):
    """``(matches, after the filters)`` the statistics expect, as upper estimates.

    The planner's estimate, or ours when it is higher (``tsquery_share``: the planner takes a
    Chinese word's pairs for independent words); the filters as a share of the catalogue.
    """
    size = catalogue_size()
    matches = max(estimated_rows(condition, "TRUE", params),
                  tsquery_share(params["q"], column) * size)
    if where == "TRUE" or not size:
        return matches, matches
    return matches, matches * estimated_rows("TRUE", where, params) / size


def _walk_is_cheaper(in_title, where, params, k):
    """Whether walking the (year, id) index reads fewer rows than reading every title match.

    The walk reads about k rows for each share of the catalogue the filtered matches hold,
    each one WALK_ROW_COST times dearer (in index order, not the table's); reading the
    matches reads every unfiltered one (the filters are not indexed).
    """
    size = catalogue_size()
    if not size:
        return False
    matches, filtered = expected_matches(in_title, where, params, "title_vector")
    return filtered > 0 and WALK_ROW_COST * k * size / filtered < matches


def _walk_newest(in_title, where, params):
    # only the (year, id) index gives this order: the planner is left no other way
    with planner_without("bitmapscan", "seqscan"):
        return fetch(f"SELECT {CANDIDATE_COLUMNS}, 0 FROM records WHERE {in_title} "
                     f"AND {where} AND year IS NOT NULL ORDER BY year DESC, id DESC "
                     f"LIMIT :k", params)


def newest_candidates(parsed, match, where, params):
    """The newest k matches (undated ones last), for sorting by year.

    As for ranking, title matches come first: when there are k of them, the newest title
    matches are shown, else the newest of every match. Returns ``(candidates, complete,
    total)``, total None when not every match was seen.

    Matches are read whole (id and year, through the GIN index, up to YEAR_SORT_ALL) and
    sorted here. When walking reads fewer rows (``_walk_is_cheaper``), the (year, id) index
    is walked from the newest end to the k-th match instead: the pages asked for are all it
    reads (undated records are left out then). The title vector is small enough to be
    stored in the row; the full search vector is not, and reading it for every row of a
    common term was measured at 0.4-2.5 s at 1,000,000 records, as were the plans
    PostgreSQL chose on its own.
    """
    k = params["k"]
    in_title = "title_vector @@ CAST(:q AS tsquery)"
    if parsed.pinyin_key:
        in_title = f"({in_title} OR {PINYIN_KEY_MATCH})"
    if _walk_is_cheaper(in_title, where, params, k):
        return _walk_newest(in_title, where, params), False, None
    rows = _ids_and_years(in_title, where, params, YEAR_SORT_ALL + 1)
    if len(rows) > YEAR_SORT_ALL:  # the estimate was far off: walk after all
        return _walk_newest(in_title, where, params), False, None
    seen_all = False
    if len(rows) < k:
        rows += _ids_and_years(f"{match} AND NOT ({in_title})", where, params,
                               YEAR_SORT_ALL + 1 - len(rows))
        seen_all = len(rows) <= YEAR_SORT_ALL
    rows.sort(key=lambda row: (row.year is None, -(row.year or 0), -row.id))
    candidates = fetch(f"SELECT {CANDIDATE_COLUMNS}, 0 FROM records WHERE id = ANY(:ids)",
                        {"ids": [row.id for row in rows[:k]]})
    return candidates, seen_all and len(rows) <= k, len(rows) if seen_all else None


def browse_candidates(request, where, params):
    order = "year DESC NULLS LAST, id DESC" if request.sort == "year" else \
        "holdings_count DESC, year DESC NULLS LAST, id DESC"
    return fetch(f"SELECT {CANDIDATE_COLUMNS}, 0 FROM records WHERE {where} "
                  f"ORDER BY {order} LIMIT :k", params)
