"""Running a search: candidates, the forgiving search, ranking, counts, facets, the log.

The strict candidates (``candidates.py``) are ranked by ts_rank, exact/phrase title bonuses,
holding libraries and recency; when they leave page 1 short, the forgiving search
(``forgiving.py``) adds its hits after them. When the candidates are all the matches, counts
and facets are exact; otherwise facets come from the candidates (the page says so) and the
count is exact up to ``COUNT_CAP``, then "10,000+": the same for every page, page size and
sort of one request.
"""
import math
import time
from dataclasses import dataclass
from dataclasses import field as dataclass_field

from flask_babel import gettext as _
from sqlalchemy import select, text
from sqlalchemy.orm import defer, lazyload, selectinload

from jala.accounts.models import Library
from jala.catalog.clc import (
    CLASS_MATCH,
    canonical_code,
    class_like,
    count_by_subclass,
    named_classes,
)
from jala.catalog.models import RECORD_TYPES, Record, SourceRecord
from jala.catalog.vocabulary import language_codes, language_key
from jala.errors import RuleViolation
from jala.extensions import db
from jala.membership import former_member_ids
from jala.search.candidates import (
    CANDIDATE_BANDS,
    PINYIN_KEY_MATCH,
    TSQUERY_MATCH,
    browse_candidates,
    expected_matches,
    newest_candidates,
    planner_without,
    strict_candidates,
)
from jala.search.forgiving import RELAX_BELOW, relaxations, relaxed_candidates
from jala.search.frequencies import catalogue_size, tsquery_share
from jala.search.models import SearchLogEntry
from jala.search.normalize import normalize_text, trigram_text
from jala.search.query import parse_query, title_key
from jala.search.trigram import word_like
from jala.usage.events import reader_library_id

COUNT_CAP = 10_000
MAX_WINDOW = 10_000  # the deepest result a page may show
COUNT_PAST = 3  # a match the planner expects this many times the cap is "10,000+" uncounted
SURELY_PAST = 1.5  # so is a match the statistics say is surely this many times the cap
COUNT_SCAN = 3_000  # the most matches a count reads to apply the filters
MAX_PER_PAGE = 100
FILTERED_COMMON_FIRST_BAND = 100  # see _bands
KNOWN_FLOOR = 20  # a bounded count never says fewer than the matches already seen
FACET_LIMIT = 30
DID_YOU_MEAN = 0.5  # how like the query a title must read to be offered instead
FACETS = ("type", "year", "library", "category", "discipline", "language", "clc", "collection")


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
    clc: str = None  # a 中图法 class: its records and its subclasses' records
    collection: str = None  # a special collection (its id): the records it published
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
    facets_bounded: bool = False  # the facets count ``facets_from`` candidates, not every match
    facets_from: int = 0
    errors: list = dataclass_field(default_factory=list)
    relaxed: list = dataclass_field(default_factory=list)  # the relaxations that found hits
    strict_total: int = None  # how many hits match the words as typed, when some are relaxed

    @property
    def fallback(self):
        """Whether the hits come only from the forgiving search."""
        return bool(self.relaxed) and not self.strict_total

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
    if request.clc and canonical_code(request.clc) is None:
        raise RuleViolation(_("Unknown CLC class: %(code)s.", code=request.clc))


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
    if request.language:  # chi, zho and zh are all Chinese
        clauses.append("language = ANY(:language)")
        params["language"] = language_codes(request.language)
    for name in ("category", "discipline"):
        value = getattr(request, name)
        if value:
            clauses.append(f"{name} = :{name}")
            params[name] = value
    if request.clc:
        clauses.append(CLASS_MATCH)
        params["clc_like"] = class_like(canonical_code(request.clc))
    if request.collection:
        clauses.append("extra ->> 'special_collection' = :collection")
        params["collection"] = request.collection
    return " AND ".join(clauses)




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
        # the order newest_candidates reads them in, so that pages neither repeat nor skip
        candidates.sort(key=lambda c: (c.tier, c.year is None, -(c.year or 0), -c.id))
    else:
        candidates.sort(key=lambda c: (c.tier, -c.score, c.id))


def _facets(candidates, withdrawn, clc=None):
    counts = {name: {} for name in FACETS}
    counts["clc"] = count_by_subclass(((c.clc, 1) for c in candidates), canonical_code(clc))
    for c in candidates:
        for name in ("type", "year", "language", "category", "discipline", "collection"):
            value = getattr(c, name)
            if value is not None:
                key = str(value)
                counts[name][key] = counts[name].get(key, 0) + 1
        for library_id in c.library_ids or ():
            if library_id not in withdrawn:
                counts["library"][library_id] = counts["library"].get(library_id, 0) + 1
    return {name: [{"value": value, "count": count} for value, count in values.items()]
            for name, values in counts.items()}


def _either(conditions):
    return f"({' OR '.join(conditions)})"


def _any_of(conditions, columns, where):
    """The records meeting any of ``conditions`` (and ``where``), one statement each.

    One OR of a tsquery and a pinyin key prefix makes PostgreSQL recheck the tsquery on every
    row (its search vector read from TOAST: 35 ms for 7,000 matches, 8 ms apart).
    """
    return " UNION ".join(f"SELECT id, {columns} FROM records WHERE {condition} AND {where}"
                          for condition in conditions)


def _count(where, params, conditions, floor, has_filters):
    """``(how many records meet any of the conditions, exact?)``, alike on every page.

    The answer is the same for every page, page size and sort of one request. A match
    expected (``expected_matches``) more than COUNT_PAST times the cap, or surely more than
    SURELY_PAST times (``tsquery_share(at_least=True)``), is past it, uncounted.
    Without the reader's filters the matches are counted up to the cap + 1 (the holdings of
    libraries that left, ``where``'s only clause then, are a small share: the estimates
    leave them out of account, the count does not).
    With filters, they are applied to the first COUNT_SCAN matches (in the table's order, so
    always the same ones): exact when there are no more, else a lower bound. A term too
    common for that (GIN reads its whole posting list before the first row: 150 ms for
    研究 at a million records) has ``floor`` as its lower bound: the matches every page and
    sort has seen, at most KNOWN_FLOOR.
    """
    if not has_filters and params["q"] and tsquery_share(params["q"], at_least=True) * \
            catalogue_size() > SURELY_PAST * COUNT_CAP:
        return COUNT_CAP + 1, True
    matches, filtered = expected_matches(_either(conditions), where, params)
    if filtered > COUNT_PAST * COUNT_CAP:
        return COUNT_CAP + 1, True
    if has_filters and conditions != ("TRUE",) and matches > COUNT_PAST * COUNT_CAP:
        return floor, False
    # through the GIN index: a common term was planned as a scan of the whole table
    with planner_without("seqscan"):
        if not has_filters:
            return db.session.execute(text(
                f"SELECT count(*) FROM ({_any_of(conditions, '1', where)} "
                f"LIMIT {COUNT_CAP + 1}) AS matches"), params).scalar(), True
        # the filters are applied where the row is read: only the values they need are
        # (never the whole ``extra`` JSONB), and the union compares (id, met) alone
        read, seen = db.session.execute(text(
            f"SELECT count(*), count(*) FILTER (WHERE met) FROM "
            f"({_any_of(conditions, f'({where}) AS met', 'TRUE')} LIMIT {COUNT_SCAN}) "
            f"AS records"), params).one()
    return max(seen, floor), read < COUNT_SCAN


def _shape_facets(facets):
    codes = dict(db.session.execute(select(Library.id, Library.code)).all())
    for entry in facets["library"]:
        entry["value"] = codes.get(int(entry["value"]), entry["value"])
    languages = {}  # one entry per language, under its most common code
    for entry in sorted(facets["language"], key=lambda e: -e["count"]):
        same = languages.setdefault(language_key(entry["value"]), dict(entry, count=0))
        same["count"] += entry["count"]
    facets["language"] = list(languages.values())
    for name, entries in facets.items():
        if name == "year":
            entries.sort(key=lambda e: e["value"], reverse=True)
        elif name == "clc":  # in the classification's order
            order = list(named_classes())
            entries.sort(key=lambda e: order.index(e["value"]))
        else:
            entries.sort(key=lambda e: (-e["count"], str(e["value"])))
        del entries[FACET_LIMIT:]
    return facets


def _suggest(raw_query):
    normalized = trigram_text(normalize_text(raw_query)).strip()
    if len(normalized) < 3:
        return None
    db.session.execute(text(f"SET LOCAL pg_trgm.word_similarity_threshold = {DID_YOU_MEAN}"))
    row = db.session.execute(text(
        f"SELECT title FROM records WHERE {word_like(':q', 'search_text', DID_YOU_MEAN)} "
        "ORDER BY word_similarity(:q, search_text) DESC, holdings_count DESC LIMIT 1"
    ), {"q": normalized}).first()
    return row[0][:80] if row else None


def load_records(ids, with_sources=False):
    """Records by id, in the order given, with their holdings (and source records)."""
    if not ids:
        return []
    # what only the index reads stays in the database (and is never loaded one by one)
    options = [*(defer(column, raiseload=True) for column in (
                   Record.search_vector, Record.title_vector, Record.search_text,
                   Record.match_key, Record.pinyin_key, Record.initials_key)),
               selectinload(Record.holdings)]
    options.append(selectinload(Record.sources).defer(SourceRecord.raw) if with_sources
                   else lazyload(Record.sources))
    rows = db.session.execute(select(Record).where(Record.id.in_(ids)).options(
        *options)).scalars().all()
    by_id = {r.id: r for r in rows}
    return [by_id[i] for i in ids if i in by_id]


def _bands(parsed, has_filters):
    """The candidate bands of a request: a filtered common term starts with a smaller one.

    Its title matches are read in the table's order until enough pass the filters (16,000
    rows for 300 of 研究 at one library, 60 ms); the best of the first 100 is as good a page
    of a term that common as the best of the first 300.
    """
    if not has_filters or not parsed.tsquery:
        return CANDIDATE_BANDS
    common = tsquery_share(parsed.tsquery, "title_vector") * catalogue_size()
    if common <= COUNT_PAST * COUNT_CAP:
        return CANDIDATE_BANDS
    first = FILTERED_COMMON_FIRST_BAND
    return (first, *(band for band in CANDIDATE_BANDS if band > first))


def search(request, channel="page"):
    """Run a search and log it; raises RuleViolation for requests outside the rules."""
    started = time.perf_counter()
    validate(request)
    parsed = parse_query(request.q)
    offset = (request.page - 1) * request.per_page
    wanted = offset + request.per_page
    params = {"limit": request.per_page, "offset": offset,
              "q": parsed.tsquery, "title_key": parsed.title_key}
    where = _filters(request, parsed, params)
    # the reader's filters; the libraries that left the alliance are not one (see _count)
    has_filters = bool(request.types or request.libraries or request.year_from or
                       request.year_to or request.language or request.category or
                       request.discipline or request.clc or request.collection or
                       parsed.year_from or
                       parsed.year_to)
    bands = _bands(parsed, has_filters)
    params["k"] = next(band for band in bands if band >= wanted)
    result = SearchResult(request=request, hits=[], total=0, total_relation="eq",
                          facets={name: [] for name in FACETS}, highlight=parsed.highlight,
                          ms=0, errors=parsed.errors)
    # big enough for bitmaps of common terms not to go lossy (a lossy page rechecks every row)
    db.session.execute(text("SET LOCAL work_mem = '32MB'"))
    known_total = None
    if parsed.is_empty and not has_filters:
        candidates, complete, conditions = [], True, None
    elif parsed.is_empty:
        candidates = browse_candidates(request, where, params)
        complete, conditions = len(candidates) < CANDIDATE_BANDS[0], ("TRUE",)
    else:
        conditions = (TSQUERY_MATCH,)
        if parsed.pinyin_key:
            conditions = (TSQUERY_MATCH, PINYIN_KEY_MATCH)
            params["pinyin_prefix"] = parsed.pinyin_key + "%"
        match = _either(conditions)
        if request.sort == "year":
            # newest first means the newest of the matches, not of the best-ranked few;
            # (year, id) is one order for all the matches, so the pages asked for are enough
            params["k"] = max(wanted, KNOWN_FLOOR)
            candidates, complete, known_total = newest_candidates(parsed, match, where,
                                                                  params)
        else:
            candidates, complete = strict_candidates(parsed, where, params)
            # a deeper page's band may hold every match where page 1's could not: the total
            # is the one page 1 gives, whatever the page and its size
            complete = complete and len(candidates) < bands[0]
        _score(candidates, parsed.title_key, parsed.pinyin_key)
        strict_count = known_total if known_total is not None else len(candidates)
        if (not request.strict and (complete or known_total is not None)
                and strict_count < RELAX_BELOW):
            relaxed, result.relaxed = relaxed_candidates(
                relaxations(request.q, parsed.plain), where, params, {c.id for c in candidates},
                query_key=title_key(request.q))
            _score(relaxed, parsed.title_key, parsed.pinyin_key)
            candidates += relaxed
            if relaxed:
                result.strict_total = strict_count
            if known_total is not None:
                known_total += len(relaxed)
        _order(candidates, request)
    exact = True
    if known_total is not None:
        total = known_total
    elif complete:
        total = len(candidates)
    else:
        # matches seen whatever the page and the sort (the year walk reads this many)
        floor = min(sum(1 for c in candidates if c.tier == 0), KNOWN_FLOOR)
        total, exact = _count(where, params, conditions, floor, has_filters)
    window = candidates[params["offset"]:params["offset"] + request.per_page]
    # the API's hits name their source records; the page's do not
    result.hits = load_records([c.id for c in window], with_sources=channel == "api")
    result.total = total
    result.facets = _facets(candidates, set(params["withdrawn"]), request.clc)
    result.facets_bounded, result.facets_from = not complete, len(candidates)
    if not parsed.is_empty and total == 0:
        result.suggestion = _suggest(request.q)
    result.total_relation = "gte" if result.total > COUNT_CAP or not exact else "eq"
    result.total = min(result.total, COUNT_CAP)
    result.facets = _shape_facets(result.facets)
    result.ms = round((time.perf_counter() - started) * 1000, 1)
    db.session.add(SearchLogEntry(
        query=request.q[:500], hits=result.total, total_relation=result.total_relation,
        ms=int(result.ms), channel=channel, library_id=reader_library_id(),
        filters={k: v for k, v in {
            "type": request.types, "library": request.libraries, "year_from": request.year_from,
            "year_to": request.year_to, "language": request.language,
            "category": request.category, "discipline": request.discipline, "clc": request.clc,
            "collection": request.collection,
            "sort": request.sort, "page": request.page}.items() if v}))
    return result
