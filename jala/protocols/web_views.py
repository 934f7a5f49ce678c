"""What the open web reads: sitemaps, robots.txt, record JSON-LD, API CORS, library feeds."""
from flask import Response, abort, request, url_for
from flask_babel import gettext as _

from jala.membership import get_library, library_name
from jala.protocols import bp
from jala.protocols.feeds import DEFAULT_DAYS, MAX_DAYS, acquisitions_feed
from jala.protocols.schema_org import record_json_ld
from jala.protocols.sitemaps import (
    index_xml,
    public_page_entries,
    record_entries,
    record_sitemap_pages,
    robots_txt,
    urlset_xml,
)
from jala.urls import external_url

XML = "application/xml"
CRAWLER_CACHE = "public, max-age=3600"
FEED_TYPES = {"atom": "application/atom+xml", "rss": "application/rss+xml"}
# the read-only JSON API may be read from pages on any origin, never with the reader's cookies
API_PREFIX = "/api/v1/"
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "X-Request-ID, Retry-After",
}
PREFLIGHT_HEADERS = {
    "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
    "Access-Control-Allow-Headers": "Accept, Accept-Language, Content-Language, "
                                    "Content-Type, X-Request-ID",
    "Access-Control-Max-Age": "86400",
}


def _crawler_response(body, mimetype):
    response = Response(body, mimetype=mimetype)
    response.headers["Cache-Control"] = CRAWLER_CACHE
    return response


@bp.get("/robots.txt")
def robots():
    """robots.txt: staff, account and sign-in pages kept from crawlers; the sitemap's address."""
    return _crawler_response(robots_txt(), "text/plain")


@bp.get("/sitemap.xml")
def sitemap_index():
    """The sitemap index: the public pages' sitemap and one sitemap per 50,000 record ids."""
    sitemaps = [external_url("protocols.pages_sitemap")]
    sitemaps += [external_url("protocols.records_sitemap", page=page)
                 for page in record_sitemap_pages()]
    return _crawler_response(index_xml(sitemaps), XML)


@bp.get("/sitemaps/pages.xml")
def pages_sitemap():
    """The public pages besides the records: home, library pages, the FAQ."""
    return _crawler_response(urlset_xml(public_page_entries()), XML)


@bp.get("/sitemaps/records-<int:page>.xml")
def records_sitemap(page):
    """Every record page whose id falls in this sitemap's range."""
    entries = record_entries(page)
    if not entries:
        abort(404)
    return _crawler_response(urlset_xml(entries), XML)


def _days():
    raw = request.args.get("days", "")
    if not raw.isdecimal() or len(raw) > 4 or int(raw) == 0:
        return DEFAULT_DAYS
    return min(int(raw), MAX_DAYS)


@bp.get("/libraries/<code>/new.<any(atom, rss):kind>")
def new_acquisitions_feed(code, kind):
    """A library's new acquisitions (``?days=``, 30 by default), newest first."""
    library = get_library(code)
    return _crawler_response(acquisitions_feed(library, _days(), kind), FEED_TYPES[kind])


@bp.app_context_processor
def web_helpers():
    """For pages: a record's JSON-LD, and the feeds a library page announces."""
    def library_feeds(library):
        title = _("New at %(library)s", library=library_name(library))
        return [(FEED_TYPES[kind], f"{title} ({kind.upper()})",
                 url_for("protocols.new_acquisitions_feed", code=library.code, kind=kind))
                for kind in FEED_TYPES]

    return {"record_json_ld": record_json_ld, "library_feeds": library_feeds}


@bp.after_app_request
def allow_cross_origin_reads(response):
    """CORS on the JSON API: any origin may read it, without credentials; preflights answered."""
    if request.path.startswith(API_PREFIX):
        response.headers.update(CORS_HEADERS)
        response.headers.pop("Access-Control-Allow-Credentials", None)
        if request.method == "OPTIONS":
            response.headers.update(PREFLIGHT_HEADERS)
    return response
