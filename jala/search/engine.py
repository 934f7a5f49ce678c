"""Running a search: bounded candidates, ranking, counts, facets, fallbacks.

A query for a very common term (研究, 中国, a single character) matches a large share of the
catalogue. We never rank all of those: the candidates are the first ``CANDIDATES`` title
matches, the first ``CANDIDATES`` matches anywhere, and every exact title match; those are
ranked by field-weighted ts_rank, exact/phrase title bonuses, holding libraries and recency.
Counts are exact up to ``COUNT_CAP`` and a lower bound beyond; facets are counted over the
same bounded set (the page says so).
"""
import time
from dataclasses import dataclass
from dataclasses import field as dataclass_field

from flask_babel import gettext as _
from sqlalchemy import select, text
from sqlalchemy.orm import selectinload

from jala import clock
from jala.accounts.models import Library
from jala.catalog.models import RECORD_TYPES, Record
from jala.errors import RuleViolation
from jala.extensions import db
from jala.search.models import SearchLogEntry
from jala.search.normalize import normalize_text, trigram_text
from jala.search.query import parse_query

CANDIDATES = 2000
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
    params["withdrawn"] = withdrawn_library_ids()
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


def withdrawn_library_ids():
    """Libraries that left the alliance: their holdings leave the union search."""
    return list(db.session.execute(text(
        "SELECT id FROM libraries WHERE left_on IS NOT NULL AND left_on <= :today"
    ), {"today": clock.local_today()}).scalars())


_SCORE = f"""
    ts_rank(r.search_vector, CAST(:q AS tsquery), 1) * 1.0
    + ts_rank(CAST('{RANK_WEIGHTS}' AS float4[]), r.title_vector, CAST(:q AS tsquery), 1) * 2.0
    + CASE WHEN r.title_key = :title_key THEN 10 ELSE 0 END
    + CASE WHEN :title_key <> '' AND strpos(r.title_key, :title_key) > 0 THEN 2 ELSE 0 END
    + 0.1 * ln(1 + r.holdings_count)
    + 0.002 * GREATEST(COALESCE(r.year, 1950) - 1950, 0)
"""


def _rank(request, parsed, where, params):
    order = "score DESC, r.id" if request.sort == "relevance" else \
        "r.year DESC NULLS LAST, score DESC, r.id"
    sql = f"""
        WITH cand AS (
            (SELECT id FROM records WHERE title_vector @@ CAST(:q AS tsquery) AND {where}
             LIMIT :k)
            UNION
            (SELECT id FROM records WHERE search_vector @@ CAST(:q AS tsquery) AND {where}
             LIMIT :k)
            UNION
            (SELECT id FROM records WHERE title_key = :title_key AND :title_key <> ''
             AND {where})
        )
        SELECT r.id, {_SCORE} AS score FROM records r JOIN cand USING (id)
        ORDER BY {order} LIMIT :limit OFFSET :offset
    """
    return db.session.execute(text(sql), params).all()


def _count_and_facets(where, params, match):
    sql = f"""
        WITH m AS MATERIALIZED (
            SELECT type, year, language, category, discipline, library_ids FROM records
            WHERE {match} AND {where} LIMIT {COUNT_CAP + 1}
        )
        SELECT 'total', NULL, count(*) FROM m
        UNION ALL
        SELECT f.name, f.value, count(*) FROM m, LATERAL (VALUES
            ('type', m.type), ('year', m.year::text), ('language', m.language),
            ('category', m.category), ('discipline', m.discipline)) AS f(name, value)
        WHERE f.value IS NOT NULL GROUP BY f.name, f.value
        UNION ALL
        SELECT 'library', lib::text, count(*) FROM m, unnest(m.library_ids) AS lib
        WHERE lib <> ALL(CAST(:withdrawn AS integer[])) GROUP BY lib
    """
    total = 0
    facets = {name: [] for name in FACETS}
    for name, value, count in db.session.execute(text(sql), params):
        if name == "total":
            total = count
        else:
            facets[name].append({"value": value, "count": count})
    return total, facets


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


def _browse(request, where, params):
    order = "year DESC NULLS LAST, id DESC" if request.sort == "year" else \
        "holdings_count DESC, year DESC NULLS LAST, id DESC"
    return db.session.execute(text(
        f"SELECT id FROM records WHERE {where} ORDER BY {order} LIMIT :limit OFFSET :offset"),
        params).scalars().all()


def load_records(ids):
    """Records by id, in the order given, with their holdings."""
    if not ids:
        return []
    rows = db.session.execute(select(Record).where(Record.id.in_(ids)).options(
        selectinload(Record.holdings))).scalars().all()
    by_id = {r.id: r for r in rows}
    return [by_id[i] for i in ids if i in by_id]


def search(request, channel="page"):
    """Run a search and log it; raises RuleViolation for requests outside the rules."""
    started = time.perf_counter()
    validate(request)
    parsed = parse_query(request.q)
    params = {"limit": request.per_page, "offset": (request.page - 1) * request.per_page,
              "k": CANDIDATES, "q": parsed.tsquery, "title_key": parsed.title_key}
    where = _filters(request, parsed, params)
    result = SearchResult(request=request, hits=[], total=0, total_relation="eq",
                          facets={name: [] for name in FACETS}, highlight=parsed.highlight,
                          ms=0, errors=parsed.errors)
    has_filters = bool(request.types or request.libraries or request.year_from or
                       request.year_to or request.language or request.category or
                       request.discipline or parsed.year_from or parsed.year_to)
    if parsed.is_empty:
        if has_filters:
            ids = _browse(request, where, params)
            total, facets = _count_and_facets(where, params, "TRUE")
            result.hits, result.total, result.facets = load_records(ids), total, facets
    else:
        rows = _rank(request, parsed, where, params)
        total, facets = _count_and_facets(
            where, params, "search_vector @@ CAST(:q AS tsquery)")
        result.hits, result.total, result.facets = load_records([r[0] for r in rows]), total, \
            facets
        if total == 0 and request.page == 1:
            ids, total = _like_fallback(where, params, request.q, request.per_page,
                                        params["offset"])
            if ids:
                result.hits, result.total, result.fallback = load_records(ids), total, True
            else:
                result.suggestion = _suggest(request.q)
    result.total_relation = "gte" if result.total > COUNT_CAP else "eq"
    result.total = min(result.total, COUNT_CAP)
    result.facets_bounded = result.total_relation == "gte"
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
