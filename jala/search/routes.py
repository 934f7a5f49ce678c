"""Thin views for the search page, the JSON API and the OpenSearch description."""
from flask import Response, current_app, jsonify, render_template, request, url_for
from flask_babel import gettext as _

from jala.catalog.clc import canonical_code
from jala.catalog.service import get_record
from jala.errors import RuleViolation
from jala.extensions import csrf, limiter
from jala.membership import member_libraries
from jala.replicas import reads_from_replica
from jala.search import bp
from jala.search.engine import MAX_PER_PAGE, RECORD_TYPES, SearchRequest, search
from jala.search.highlight import highlight
from jala.search.suggest import suggestions
from jala.web import is_htmx


def _int_arg(name, default=None, low=None, high=None, set_aside=None):
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
        if (low is not None and value < low) or (high is not None and value > high):
            raise RuleViolation(_("%(name)s is out of range.", name=name))
    except (ValueError, RuleViolation) as exc:
        if set_aside is not None:
            set_aside.append((name, raw))
            return default
        if isinstance(exc, RuleViolation):
            raise
        raise RuleViolation(_("%(name)s must be a whole number.", name=name)) from exc
    return value


def search_request_from_args(set_aside=None):
    """Read a SearchRequest from the query string (the same for the page and the API).

    With ``set_aside`` (a list: the search page), a value that cannot be read is left out and
    noted there as ``(parameter, value)``, instead of refusing the request.
    """
    def number(name, default, low, high):
        return _int_arg(name, default, low, high, set_aside)

    def choice(name):
        value = request.args.get(name, "").strip()
        return value[:200] or None

    return SearchRequest(
        q=request.args.get("q", "")[:500],
        page=number("page", 1, 1, 100_000),
        per_page=number("per_page", 20, 1, 1000),
        types=[t.strip().lower() for t in request.args.getlist("type") if t.strip()][:20],
        libraries=[c for c in request.args.getlist("library") if c.strip()][:20],
        year_from=number("year_from", None, 0, 3000),
        year_to=number("year_to", None, 0, 3000),
        language=choice("language"),
        category=choice("category"),
        discipline=choice("discipline"),
        clc=choice("clc"),
        collection=choice("collection"),
        sort=request.args.get("sort", "relevance"),
        strict=request.args.get("strict", "").strip() in ("1", "true"),
    )


FILTER_ARGS = ("type", "library", "year_from", "year_to", "language", "category", "discipline",
               "clc", "collection")


def has_filters(search_request):
    """Whether the reader narrowed the search by type, library, year or another facet."""
    return bool(search_request.types or search_request.libraries or search_request.year_from
                or search_request.year_to or search_request.language
                or search_request.category or search_request.discipline
                or search_request.clc or search_request.collection)


def search_link(**changes):
    """The current search URL with some parameters set (a value of None removes one).

    The page goes back to 1 unless ``page`` is among the changes.
    """
    args = request.args.to_dict(flat=False)
    args.pop("page", None)
    for name, value in changes.items():
        if value is None:
            args.pop(name, None)
        else:
            args[name] = value
    return url_for("search.results", **args)


def purchase_suggestion_url(q):
    """Where to suggest the library buys what was searched for, if procurement takes it."""
    if "procurement.suggest" not in current_app.view_functions:
        return None
    return url_for("procurement.suggest", title=q)


def _search_limit():
    return current_app.config["RATELIMIT_SEARCH"]


# the search page and the API draw on one budget per client
search_budget = limiter.shared_limit(_search_limit, scope="search")


@bp.get("/search")
@search_budget
@reads_from_replica
def results():
    """The search page; HTMX (typing in the box, facets, paging) gets just the results."""
    set_aside = []
    search_request = search_request_from_args(set_aside)
    # facets and filter chips name libraries, the URLs keep their codes
    libraries = {library.code: library for library in member_libraries(include_former=True)}
    set_aside += readable_filters(search_request, libraries)
    wanted = search_request.q.strip() or has_filters(search_request)
    try:
        result, refusal = (search(search_request) if wanted else None), None
    except RuleViolation as refused:  # past the pages one can go through: said on the page
        result, refusal = None, refused
    template = "search/_results.html" if is_htmx() else "search/results.html"
    return render_template(template, result=result, req=search_request, highlight=highlight,
                           set_aside=set_aside, refusal=refusal and refusal.message,
                           search_link=search_link, libraries=libraries,
                           filtered=has_filters(search_request),
                           unfiltered_link=search_link(**dict.fromkeys(FILTER_ARGS)),
                           purchase_url=purchase_suggestion_url(search_request.q.strip())
                           ), refusal.status if refusal else 200


def readable_filters(search_request, libraries):
    """Leave out of the page's search what it cannot use; returns ``(parameter, value)`` each.

    A reader's old bookmark or a hand-edited address still searches: an unknown library or
    type, an unknown order or too many results a page is dropped, and the page says so.
    """
    set_aside = []
    for code in [c for c in search_request.libraries if c.strip().upper() not in libraries]:
        search_request.libraries.remove(code)
        set_aside.append(("library", code))
    for kind in [t for t in search_request.types if t not in RECORD_TYPES]:
        search_request.types.remove(kind)
        set_aside.append(("type", kind))
    if search_request.clc:
        code = canonical_code(search_request.clc)
        if code is None:
            set_aside.append(("clc", search_request.clc))
        search_request.clc = code
    if search_request.sort not in ("relevance", "year"):
        set_aside.append(("sort", search_request.sort))
        search_request.sort = "relevance"
    if search_request.per_page > MAX_PER_PAGE:
        set_aside.append(("per_page", str(search_request.per_page)))
        search_request.per_page = 20
    return set_aside


def _typed():
    return request.args.get("q", "")[:100]


@bp.get("/search/suggest")
@reads_from_replica
def suggest():
    """Suggestions for the search box as the reader types (the options of its listbox)."""
    return render_template("search/_suggestions.html", suggestions=suggestions(_typed()))


def hit_json(record):
    """One record as the API shows it in a hit list."""
    sources = [{"library": s.library.code, "source_id": s.source_id} for s in record.sources]
    return {
        "id": record.public_id,
        "title": record.title,
        "authors": record.authors,
        "year": record.year,
        "type": record.type,
        "source_id": sources[0]["source_id"] if sources else None,
        "sources": sources,
        "holdings": [{"library": h.library.code, "call_number": h.call_number,
                      "status": h.status, "location": h.location} for h in record.holdings],
    }


@bp.get("/api/v1/search")
@search_budget
@csrf.exempt
@reads_from_replica
def api_search():
    """Search as JSON (contract in DESIGN.md)."""
    search_request = search_request_from_args()
    result = search(search_request, channel="api")
    return jsonify({
        "total": result.total,
        "total_relation": result.total_relation,
        "page": search_request.page,
        "per_page": search_request.per_page,
        "hits": [hit_json(r) for r in result.hits],
        "facets": result.facets,
        "relaxed": result.relaxed,
        "strict_total": result.strict_total,
        "took_ms": result.ms,
    })


@bp.get("/api/v1/suggest")
@csrf.exempt
@reads_from_replica
def api_suggest():
    """Suggestions for what is typed so far, as JSON."""
    return jsonify({"suggestions": [{"text": s.text, "kind": s.kind}
                                    for s in suggestions(_typed())]})


RECORD_FIELDS = ("type", "title", "title_pinyin", "authors", "keywords", "subjects", "abstract",
                 "publisher", "year", "isbn", "issn", "clc", "journal", "volume", "issue",
                 "pages", "page_count", "doi", "language", "discipline", "category", "url")
RECORD_EXTRA_FIELDS = ("title-variants", "place", "edition", "translator", "editor",
                       "corporate-authors", "container-title", "number", "issued", "accessed",
                       "event", "event-place", "event-date", "institution", "degree")


@bp.get("/api/v1/records/<record_id>")
@csrf.exempt
@reads_from_replica
def api_record(record_id):
    """One record with every field, its holdings and its source records."""
    record = get_record(record_id)
    body = hit_json(record)
    body.update({name: getattr(record, name) for name in RECORD_FIELDS})
    # the contract's citation fields at the top level too (the vernacular title is ``title``)
    extra = record.extra or {}
    body.update({name.replace("-", "_"): extra.get(name) for name in RECORD_EXTRA_FIELDS})
    body["title_variants"] = body["title_variants"] or []
    body["extra"] = record.extra
    body["holdings"] = [{"library": h.library.code, "call_number": h.call_number,
                         "status": h.status, "location": h.location,
                         "as_of": h.updated_at.isoformat()} for h in record.holdings]
    return jsonify(body)


@bp.get("/opensearch.xml")
def opensearch():
    """OpenSearch description, so browsers can add the portal as a search engine."""
    xml = render_template("search/opensearch.xml", base=current_app.config["PUBLIC_URL"])
    return Response(xml, mimetype="application/opensearchdescription+xml")
