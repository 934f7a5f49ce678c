"""Running a search: bounded candidates, ranking, counts, facets, fallbacks.

A query for a very common term (研究, 中国, a single character) matches a large share of the
catalogue. We never rank all of those. The candidates are the first ``CANDIDATES`` title
matches (from the small title tsvector); only when titles run short do matches elsewhere
fill up the set (ranked on the full weighted tsvector), and exact title matches always join.
They are ranked by ts_rank, exact/phrase title bonuses, holding libraries and recency.
When the candidates are all the matches, counts and facets are exact; otherwise facets come
from the candidates (the page says so) and the count is exact up to ``COUNT_CAP`` if it can
be had within ``COUNT_BUDGET_MS``, else a lower bound.
"""
import math
import time
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field as dataclass_field

from flask_babel import gettext as _
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import defer, selectinload

from jala.accounts.models import Library
from jala.catalog.models import RECORD_TYPES, Record, SourceRecord
from jala.errors import RuleViolation
from jala.extensions import db
from jala.membership import former_member_ids
from jala.search.forgiving import SPELLING_SIMILARITY, relaxations
from jala.search.models import SearchLogEntry
from jala.search.normalize import normalize_text, trigram_text
from jala.search.query import parse_query

CANDIDATES = 1000  # >= MAX_WINDOW, so that every reachable page is ranked
FIRST_CANDIDATES = 300  # most searches stop at page 1: rank fewer unless asked for more
PINYIN_PREFIX_CANDIDATES = 200
YEAR_SORT_ALL = 20_000  # sorting by year reads every match up to this many (see below)
TSQUERY_MATCH = "search_vector @@ CAST(:q AS tsquery)"
PINYIN_KEY_MATCH = "pinyin_key LIKE :pinyin_prefix"
COUNT_CAP = 10_000
MAX_WINDOW = 1000
MAX_PER_PAGE = 100
FACET_LIMIT = 30
FACETS = ("type", "year", "library", "category", "discipline", "language")
RANK_WEIGHTS = "{0.1, 0.25, 0.5, 1.0}"  # D, C, B, A


@dataclass
class SearchRequest:
    """What the reader asked: the query text, filters, sort and page."""

    q: str = ""
    page: int = 1
    per_page: int = 20
    types: list = dataclass_field(default_factory=list)
    libraries: list = dataclass_field(default_factory=list)
    year_from: int = None
    year_to: int = None
    language: str = None
    category: str = None
    discipline: str = None
    sort: str = "relevance"
    strict: bool = False  # the words as typed only, no forgiving search


@dataclass
class SearchResult:
    """Hits for one page, the total (exact or a lower bound), and facets."""

    request: SearchRequest
    hits: list
    total: int
    total_relation: str
    facets: dict
    highlight: list
    ms: float
    suggestion: str = None
    fallback: bool = False
    facets_bounded: bool = False
    errors: list = dataclass_field(default_factory=list)
    relaxed: list = dataclass_field(default_factory=list)  # the relaxations that found hits
    strict_total: int = None  # how many hits match the words as typed

    @property
    def pages(self):
        reachable = min(self.total, MAX_WINDOW)
        return max(1, -(-reachable // self.request.per_page))


def validate(request):
    """Refuse pages past the window and nonsense filters with a reason (HTTP 400)."""
    if request.page < 1 or not 1 <= request.per_page <= MAX_PER_PAGE:
        raise RuleViolation(_("page must be 1 or more and per_page between 1 and %(n)d.",
                              n=MAX_PER_PAGE))
    if request.page * request.per_page > MAX_WINDOW:
        raise RuleViolation(_("Only the first %(n)d hits can be paged through; narrow the "
                              "search instead.", n=MAX_WINDOW))
    if request.sort not in ("relevance", "year"):
        raise RuleViolation(_("sort must be relevance or year."))
    unknown = [t for t in request.types if t not in RECORD_TYPES]
    if unknown:
        raise RuleViolation(_("Unknown type: %(t)s.", t=", ".join(unknown)))


def _library_ids(codes):
    if not codes:
        return []
    wanted = {c.strip().upper() for c in codes if c.strip()}
    rows = db.session.execute(select(Library.code, Library.id).where(
        Library.code.in_(wanted))).all()
    found = {code for code, _ in rows}
    missing = wanted - found
    if missing:
        raise RuleViolation(_("Unknown library: %(codes)s.", codes=", ".join(sorted(missing))))
    return [library_id for _, library_id in rows]


def _filters(request, parsed, params):
    clauses = ["TRUE"]
    params["withdrawn"] = former_member_ids()
    if params["withdrawn"]:
        clauses.append("NOT (library_ids <@ CAST(:withdrawn AS integer[]))")
    if request.types:
        clauses.append("type = ANY(:types)")
        params["types"] = request.types
    library_ids = _library_ids(request.libraries)
    if library_ids:
        clauses.append("library_ids && CAST(:library_ids AS integer[])")
        params["library_ids"] = library_ids
    year_from = max(filter(None, (request.year_from, parsed.year_from)), default=None)
    year_to = min(filter(None, (request.year_to, parsed.year_to)), default=None)
    if year_from:
        clauses.append("year >= :year_from")
        params["year_from"] = year_from
    if year_to:
        clauses.append("year <= :year_to")
        params["year_to"] = year_to
    for name in ("language", "category", "discipline"):
        value = getattr(request, name)
        if value:
            clauses.append(f"{name} = :{name}")
            params[name] = value
    return " AND ".join(clauses)


CANDIDATE_COLUMNS = ("id, type, year, language, category, discipline, library_ids, "
                     "holdings_count, title_key, pinyin_key")
COUNT_BUDGET_MS = 40


@dataclass
class Candidate:
    """A record that may be a hit, with what ranking and facets need."""

    id: int
    type: str
    year: int
    language: str
    category: str
    discipline: str
    library_ids: list
    holdings_count: int
    title_key: str
    pinyin_key: str
    base: float = 0.0
    score: float = 0.0
    tier: int = 0  # 0: the words as typed; then each relaxation in its order


def _fetch(sql, params):
    return [Candidate(*row) for row in db.session.execute(text(sql), params)]


def _candidates(parsed, where, params):
    """Title matches first (the best kind); matches elsewhere only if titles run short.

    Returns ``(candidates, complete)``: complete means every match was seen.
    """
    q = "CAST(:q AS tsquery)"
    title_hits = _fetch(
        f"SELECT {CANDIDATE_COLUMNS}, 2 + 2 * ts_rank(CAST('{RANK_WEIGHTS}' AS float4[]), "
        f"title_vector, {q}, 1) FROM records WHERE title_vector @@ {q} AND {where} LIMIT :k",
        params)
    complete = False
    others = []
    title_full = len(title_hits) >= params["k"]
    if not title_full:
        others = _fetch(
            f"SELECT {CANDIDATE_COLUMNS}, ts_rank(CAST('{RANK_WEIGHTS}' AS float4[]), "
            f"search_vector, {q}, 1) FROM records WHERE search_vector @@ {q} "
            f"AND NOT (title_vector @@ {q}) AND {where} LIMIT :rest",
            dict(params, rest=params["k"] - len(title_hits)))
        complete = len(others) < params["k"] - len(title_hits)
    found = {c.id: c for c in title_hits + others}
    if parsed.title_key:
        for c in _fetch(f"SELECT {CANDIDATE_COLUMNS}, 2 FROM records "
                        f"WHERE title_key = :title_key AND {where}", params):
            found.setdefault(c.id, c)
    if parsed.pinyin_key:
        # titles whose pinyin is, or begins with, what was typed ('zhongguofazhan…',
        # 'jiyuGPS…'): found by the key however the pinyin splits and whatever Latin is mixed
        # in. The exact ones first: a short key can begin thousands of titles.
        for condition, limit in (("pinyin_key = :pinyin_exact", ""),
                                 (PINYIN_KEY_MATCH, f"LIMIT {PINYIN_PREFIX_CANDIDATES}")):
            for c in _fetch(f"SELECT {CANDIDATE_COLUMNS}, 2 FROM records "
                            f"WHERE {condition} AND {where} {limit}",
                            dict(params, pinyin_exact=parsed.pinyin_key)):
                found.setdefault(c.id, c)
    return list(found.values()), complete, title_full


def _score(candidates, title_key, pinyin_key):
    for c in candidates:
        exact = (title_key and c.title_key == title_key) or \
            (pinyin_key and c.pinyin_key == pinyin_key)
        partial = (title_key and title_key in c.title_key) or \
            (pinyin_key and c.pinyin_key.startswith(pinyin_key))
        c.score = (c.base
                   + (10 if exact else 0)
                   + (2 if partial else 0)
                   + 0.1 * math.log1p(c.holdings_count)
                   + 0.002 * max((c.year or 1950) - 1950, 0))


def _order(candidates, request):
    # what the words as typed find comes first, then each relaxation's hits in its turn
    if request.sort == "year":
        # the order _newest_candidates reads them in, so that pages neither repeat nor skip
        candidates.sort(key=lambda c: (c.tier, c.year is None, -(c.year or 0), -c.id))
    else:
        candidates.sort(key=lambda c: (c.tier, -c.score, c.id))


RELAX_BELOW = 10  # fewer strict matches than this: the forgiving search joins in
RELAXED_CANDIDATES = 300


def _relaxed_candidates(relaxations, where, params, seen):
    """Each relaxation's candidates not already ``seen``, and the names of those that found."""
    found, used = [], []
    db.session.execute(text(f"SET LOCAL pg_trgm.word_similarity_threshold = "
                            f"{SPELLING_SIMILARITY}"))
    for tier, relaxation in enumerate(relaxations, start=1):
        args = dict(params, **relaxation.params, rk=RELAXED_CANDIDATES)
        order = f"ORDER BY {relaxation.rank} DESC" if relaxation.ordered else ""
        new, matched = [], []
        for condition in relaxation.matches:
            rows = _fetch(f"SELECT {CANDIDATE_COLUMNS}, {relaxation.rank} FROM records "
                          f"WHERE {condition} AND {where} {order} LIMIT :rk", args)
            new += [c for c in rows if c.id not in seen and c.id not in matched]
            matched += [c.id for c in rows]
            if len(matched) >= RELAXED_CANDIDATES:
                break
        for c in new:
            c.tier = tier
            seen.add(c.id)
        if new:
            used.append(relaxation.name)
        found += new
    return found, used


def _facets(candidates, withdrawn):
    counts = {name: {} for name in FACETS}
    for c in candidates:
        for name in ("type", "year", "language", "category", "discipline"):
            value = getattr(c, name)
            if value is not None:
                key = str(value)
                counts[name][key] = counts[name].get(key, 0) + 1
        for library_id in c.library_ids or ():
            if library_id not in withdrawn:
                counts["library"][library_id] = counts["library"].get(library_id, 0) + 1
    return {name: [{"value": value, "count": count} for value, count in values.items()]
            for name, values in counts.items()}


def _budgeted_count(where, params, match):
    """Count matches up to COUNT_CAP + 1 within a time budget; None if it would take longer."""
    try:
        with db.session.begin_nested():
            db.session.execute(text(f"SET LOCAL statement_timeout = {COUNT_BUDGET_MS}"))
            total = db.session.execute(text(
                f"SELECT count(*) FROM (SELECT 1 FROM records WHERE {match} AND {where} "
                f"LIMIT {COUNT_CAP + 1}) AS matches"), params).scalar()
            db.session.execute(text("SET LOCAL statement_timeout = 0"))
            return total
    except OperationalError:
        return None


def _shape_facets(facets):
    codes = dict(db.session.execute(select(Library.id, Library.code)).all())
    for entry in facets["library"]:
        entry["value"] = codes.get(int(entry["value"]), entry["value"])
    for name, entries in facets.items():
        if name == "year":
            entries.sort(key=lambda e: e["value"], reverse=True)
        else:
            entries.sort(key=lambda e: (-e["count"], str(e["value"])))
        del entries[FACET_LIMIT:]
    return facets


def _suggest(raw_query):
    normalized = trigram_text(normalize_text(raw_query)).strip()
    if len(normalized) < 3:
        return None
    db.session.execute(text("SET LOCAL pg_trgm.word_similarity_threshold = 0.5"))
    row = db.session.execute(text(
        "SELECT title FROM records WHERE :q <% search_text "
        "ORDER BY word_similarity(:q, search_text) DESC, holdings_count DESC LIMIT 1"
    ), {"q": normalized}).first()
    return row[0][:80] if row else None


def _like_fallback(where, params, raw_query, limit, offset):
    normalized = trigram_text(normalize_text(raw_query)).strip()
    if len(normalized) < 3:
        return [], 0
    pattern = "%" + normalized.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    params = dict(params, pattern=pattern, limit=limit, offset=offset)
    ids = db.session.execute(text(
        f"SELECT id FROM records WHERE search_text LIKE :pattern AND {where} "
        "ORDER BY holdings_count DESC, id LIMIT :limit OFFSET :offset"), params).scalars().all()
    total = db.session.execute(text(
        f"SELECT count(*) FROM (SELECT 1 FROM records WHERE search_text LIKE :pattern "
        f"AND {where} LIMIT {COUNT_CAP + 1}) s"), params).scalar()
    return ids, total


@contextmanager
def _planner_without(*plan_kinds):
    """The statements inside are planned without these kinds of plan ('seqscan', …)."""
    names = [f"enable_{kind}" for kind in plan_kinds]
    db.session.execute(text("; ".join(f"SET LOCAL {name} = off" for name in names)))
    yield
    db.session.execute(text("; ".join(f"SET LOCAL {name} TO DEFAULT" for name in names)))


def _ids_and_years(condition, where, params, limit):
    # through the GIN index: a scan of the whole table was the planner's choice for a common
    # term, and it reads every row's page rather than the matches' pages
    with _planner_without("seqscan"):
        return db.session.execute(text(
            f"SELECT id, year FROM records WHERE {condition} AND {where} LIMIT {limit}"),
            params).all()


def _newest_candidates(parsed, match, where, params):
    """The newest k matches (undated ones last), for sorting by year.

    As for ranking, title matches come first: when there are k of them, the newest title
    matches are shown, else the newest of every match. Returns ``(candidates, complete,
    total)``, total None when not every match was seen.

    Up to YEAR_SORT_ALL matches are read whole (id and year, through the GIN index) and
    sorted here. A title term commoner than that walks the (year, id) index from the newest
    end and stops at the k-th match. The title vector is small enough to be stored in the row;
    the full search vector is not, and reading it for every row of a common term was measured
    at 0.4-2.5 s at 1,000,000 records, as were the plans PostgreSQL chose on its own.
    """
    k = params["k"]
    in_title = "title_vector @@ CAST(:q AS tsquery)"
    if parsed.pinyin_key:
        in_title = f"({in_title} OR {PINYIN_KEY_MATCH})"
    rows = _ids_and_years(in_title, where, params, YEAR_SORT_ALL + 1)
    if len(rows) > YEAR_SORT_ALL:
        # only the (year, id) index gives this order: the planner is left no other way
        with _planner_without("bitmapscan", "seqscan"):
            newest = _fetch(f"SELECT {CANDIDATE_COLUMNS}, 0 FROM records WHERE {in_title} "
                            f"AND {where} AND year IS NOT NULL ORDER BY year DESC, id DESC "
                            f"LIMIT :k", params)
        return newest, False, None
    seen_all = False
    if len(rows) < k:
        rows += _ids_and_years(f"{match} AND NOT ({in_title})", where, params,
                               YEAR_SORT_ALL + 1 - len(rows))
        seen_all = len(rows) <= YEAR_SORT_ALL
    rows.sort(key=lambda row: (row.year is None, -(row.year or 0), -row.id))
    candidates = _fetch(f"SELECT {CANDIDATE_COLUMNS}, 0 FROM records WHERE id = ANY(:ids)",
                        {"ids": [row.id for row in rows[:k]]})
    return candidates, seen_all and len(rows) <= k, len(rows) if seen_all else None


def _browse_candidates(request, where, params):
    order = "year DESC NULLS LAST, id DESC" if request.sort == "year" else \
        "holdings_count DESC, year DESC NULLS LAST, id DESC"
    return _fetch(f"SELECT {CANDIDATE_COLUMNS}, 0 FROM records WHERE {where} "
                  f"ORDER BY {order} LIMIT :k", params)


def load_records(ids):
    """Records by id, in the order given, with their holdings."""
    if not ids:
        return []
    rows = db.session.execute(select(Record).where(Record.id.in_(ids)).options(
        defer(Record.search_vector), defer(Record.title_vector),
        selectinload(Record.holdings),
        selectinload(Record.sources).defer(SourceRecord.raw))).scalars().all()
    by_id = {r.id: r for r in rows}
    return [by_id[i] for i in ids if i in by_id]


def search(request, channel="page"):
    """Run a search and log it; raises RuleViolation for requests outside the rules."""
    started = time.perf_counter()
    validate(request)
    parsed = parse_query(request.q)
    offset = (request.page - 1) * request.per_page
    params = {"limit": request.per_page, "offset": offset,
              "k": min(CANDIDATES, max(FIRST_CANDIDATES, offset + request.per_page)),
              "q": parsed.tsquery, "title_key": parsed.title_key}
    where = _filters(request, parsed, params)
    result = SearchResult(request=request, hits=[], total=0, total_relation="eq",
                          facets={name: [] for name in FACETS}, highlight=parsed.highlight,
                          ms=0, errors=parsed.errors)
    has_filters = bool(request.types or request.libraries or request.year_from or
                       request.year_to or request.language or request.category or
                       request.discipline or parsed.year_from or parsed.year_to)
    # big enough for bitmaps of common terms not to go lossy (a lossy page rechecks every row)
    db.session.execute(text("SET LOCAL work_mem = '32MB'"))
    title_full, known_total = False, None
    if parsed.is_empty and not has_filters:
        candidates, complete, match = [], True, None
    elif parsed.is_empty:
        candidates = _browse_candidates(request, where, params)
        complete, match = len(candidates) < params["k"], "TRUE"
    else:
        match = TSQUERY_MATCH
        if parsed.pinyin_key:
            match = f"({TSQUERY_MATCH} OR {PINYIN_KEY_MATCH})"
            params["pinyin_prefix"] = parsed.pinyin_key + "%"
        if request.sort == "year":
            # newest first means the newest of the matches, not of the best-ranked few; the
            # whole window at once, so that every page is cut from the same order
            params["k"] = CANDIDATES
            candidates, complete, known_total = _newest_candidates(parsed, match, where,
                                                                   params)
        else:
            candidates, complete, title_full = _candidates(parsed, where, params)
        _score(candidates, parsed.title_key, parsed.pinyin_key)
        strict_count = known_total if known_total is not None else len(candidates)
        if (not request.strict and parsed.plain and (complete or known_total is not None)
                and strict_count < RELAX_BELOW):
            relaxed, result.relaxed = _relaxed_candidates(
                relaxations(parsed.plain), where, params, {c.id for c in candidates})
            _score(relaxed, parsed.title_key, parsed.pinyin_key)
            candidates += relaxed
            result.strict_total = strict_count
            if known_total is not None:
                known_total += len(relaxed)
        _order(candidates, request)
    total, lower_bound = len(candidates), False
    if known_total is not None:
        total = known_total
    elif not parsed.is_empty and not complete and title_full:
        # so common that titles alone fill the candidates: counting would cost more than
        # the search itself; say what we know
        lower_bound = True
    elif not complete:
        counted = _budgeted_count(where, params, match)
        # out of time: what we have seen is a true lower bound
        total, lower_bound = (counted, False) if counted is not None else (total, True)
    window = candidates[params["offset"]:params["offset"] + request.per_page]
    result.hits = load_records([c.id for c in window])
    result.total = total
    result.facets = _facets(candidates, set(params["withdrawn"]))
    result.facets_bounded = not complete
    if not parsed.is_empty and total == 0 and request.page == 1:
        ids, total = _like_fallback(where, params, request.q, request.per_page,
                                    params["offset"])
        if ids:
            result.hits, result.total, result.fallback = load_records(ids), total, True
        else:
            result.suggestion = _suggest(request.q)
    result.total_relation = "gte" if lower_bound or result.total > COUNT_CAP else "eq"
    result.total = min(result.total, COUNT_CAP)
    result.facets = _shape_facets(result.facets)
    result.ms = round((time.perf_counter() - started) * 1000, 1)
    db.session.add(SearchLogEntry(
        query=request.q[:500], hits=result.total, total_relation=result.total_relation,
        ms=int(result.ms), channel=channel,
        filters={k: v for k, v in {
            "type": request.types, "library": request.libraries, "year_from": request.year_from,
            "year_to": request.year_to, "language": request.language,
            "category": request.category, "discipline": request.discipline,
            "sort": request.sort, "page": request.page}.items() if v}))
    return result
