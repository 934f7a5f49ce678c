"""What crawlers read: the sitemaps (an index, the public pages, the records) and robots.txt.

Record sitemaps cover fixed ranges of record ids (``page`` n holds ids n·50,000 up to the next
50,000), so a record stays in the same sitemap as the catalogue grows, and no sitemap can hold
more than the 50,000 URLs the protocol allows. The index lists every range up to the highest
id (one index lookup) rather than finding the ranges that hold records (reading every id):
a range emptied by deletions answers 404, which crawlers take as "gone".
"""
from xml.sax.saxutils import escape

from sqlalchemy import func, select

from jala.catalog.models import Record
from jala.extensions import db
from jala.membership import member_libraries
from jala.reference.models import Question
from jala.urls import external_url

URLS_PER_SITEMAP = 50_000
NAMESPACE = "http://www.sitemaps.org/schemas/sitemap/0.9"
# what is not for crawlers: staff and admin screens, accounts, sign-in, personal pages,
# search results (endless combinations of one catalogue) and the staff's raw records
DISALLOWED = (
    "/admin/", "/account", "/login", "/logout", "/register", "/password/", "/confirm/",
    "/staff/", "/center/", "/committee/", "/roles/", "/me", "/loans", "/delivery/",
    "/lists", "/shared/lists/", "/searches", "/purchase/", "/files/", "/saml/", "/join",
    "/reference/ask", "/reference/desk", "/reference/questions", "/reference/stats",
    "/search", "/metrics", "/records/*/raw", "/records/*/previews", "/holdings/",
    "/libraries/*/",
)
# under a library's page, only its feeds are for everyone
ALLOWED = ("/libraries/*/new.atom", "/libraries/*/new.rss")


def record_sitemap_pages():
    """The numbers of the record sitemaps, from the first to the one of the highest id."""
    highest = db.session.execute(select(func.max(Record.id))).scalar()
    return [] if highest is None else list(range(highest // URLS_PER_SITEMAP + 1))


def record_entries(page):
    """``(absolute URL, last modified)`` of each record in sitemap ``page``, by id."""
    prefix = external_url("catalog.record", record_id="0")[:-1]
    low = page * URLS_PER_SITEMAP
    rows = db.session.execute(
        select(Record.id, Record.updated_at)
        .where(Record.id >= low, Record.id < low + URLS_PER_SITEMAP).order_by(Record.id))
    return [(f"{prefix}{record_id}", updated_at) for record_id, updated_at in rows]


def public_page_entries():
    """``(absolute URL, None)`` of the public pages besides records: home, libraries, FAQ."""
    urls = [external_url("core.home"), external_url("core.libraries")]
    urls += [external_url("core.library", code=library.code)
             for library in member_libraries(include_former=True)]
    urls.append(external_url("reference.faq_search"))
    urls += [external_url("reference.faq_entry", question_id=question_id)
             for question_id in db.session.execute(
                 select(Question.id).where(Question.faq_published_at.isnot(None))
                 .order_by(Question.id)).scalars()]
    return [(url, None) for url in urls]


def urlset_xml(entries):
    """A sitemap of ``(url, lastmod)`` entries."""
    lines = [f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="{NAMESPACE}">']
    lines += [_entry("url", url, lastmod) for url, lastmod in entries]
    lines.append("</urlset>\n")
    return "\n".join(lines)


def index_xml(sitemap_urls):
    """A sitemap index of the given sitemaps."""
    lines = [f'<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="{NAMESPACE}">']
    lines += [_entry("sitemap", url, None) for url in sitemap_urls]
    lines.append("</sitemapindex>\n")
    return "\n".join(lines)


def _entry(tag, url, lastmod):
    modified = f"<lastmod>{lastmod.date().isoformat()}</lastmod>" if lastmod else ""
    return f"<{tag}><loc>{escape(url)}</loc>{modified}</{tag}>"


def robots_txt():
    """robots.txt: every crawler, the pages kept from them, and where the sitemap is."""
    lines = ["User-agent: *"]
    lines += [f"Allow: {path}" for path in ALLOWED]
    lines += [f"Disallow: {path}" for path in DISALLOWED]
    lines += ["", f"Sitemap: {external_url('protocols.sitemap_index')}", ""]
    return "\n".join(lines)
