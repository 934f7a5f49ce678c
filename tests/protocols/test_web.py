"""The open web's doors: sitemaps, robots.txt, JSON-LD, CORS on the API, new-acquisition feeds."""
import json
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import extruct
import feedparser
import pytest
from lxml import etree, html
from protego import Protego
from sqlalchemy import event, select, text, update

from jala import clock
from jala.catalog.models import Record, SourceRecord
from jala.extensions import db
from jala.protocols import sitemaps
from tests.support.catalog import import_lines

PUBLIC = "https://jala.example.edu.cn"
SITEMAP_NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
CSL = Path(__file__).resolve().parents[2] / "jala" / "demo" / "csl-dev.jsonl"



@pytest.fixture(scope="module")
def app(app_of_its_own):
    return app_of_its_own

@pytest.fixture
def public_url(app, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_URL", PUBLIC)
    return PUBLIC


def _csl_records(count):
    with CSL.open(encoding="utf-8") as lines:
        return [json.loads(next(lines)) for _ in range(count)]


def _get_xml(client, url):
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == PUBLIC
    response = client.get(parts.path)
    assert response.status_code == 200 and response.mimetype == "application/xml"
    return etree.fromstring(response.data)


def test_the_sitemap_lists_every_record_page_once(client, public_url, monkeypatch):
    import_lines(_csl_records(40))
    monkeypatch.setattr(sitemaps, "URLS_PER_SITEMAP", 7)  # several record sitemaps
    index = _get_xml(client, f"{PUBLIC}/sitemap.xml")
    assert etree.QName(index).localname == "sitemapindex"
    assert etree.QName(index).namespace == SITEMAP_NS["s"]
    listed = []
    for loc in index.xpath("//s:sitemap/s:loc/text()", namespaces=SITEMAP_NS):
        urls = _get_xml(client, loc).xpath("//s:url/s:loc/text()", namespaces=SITEMAP_NS)
        assert 0 < len(urls) <= 7 or "pages" in loc
        listed += urls
    record_urls = [url for url in listed if "/records/" in url]
    ids = db.session.execute(select(Record.id)).scalars().all()
    assert sorted(record_urls) == sorted(f"{PUBLIC}/records/{i}" for i in ids)
    assert len(record_urls) == len(set(record_urls)) >= 40
    assert f"{PUBLIC}/" in listed and f"{PUBLIC}/libraries/JXUFE" in listed
    assert client.get("/sitemaps/records-999999.xml").status_code == 404


def _rows_read_from_records(statements):
    """How many rows the statements read from ``records`` (EXPLAIN ANALYZE, every scan)."""
    def rows(plan):
        own = plan["Actual Rows"] * plan["Actual Loops"] if plan.get(
            "Relation Name") == "records" else 0
        return own + sum(rows(child) for child in plan.get("Plans", []))
    total = 0
    for statement, params in statements:
        if " records" in statement:
            explained = db.session.connection().exec_driver_sql(
                f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", params).scalar()
            total += rows(explained[0]["Plan"])
    return total


def test_the_sitemap_index_does_not_read_every_record(client, public_url):
    import_lines([{"source_id": f"big{n}", "title": f"题名 {n}"} for n in range(300)])
    db.session.execute(text("ANALYZE records"))
    statements = []

    def seen(conn, cursor, statement, params, context, executemany):
        statements.append((statement, params))
    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        assert client.get("/sitemap.xml").status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert _rows_read_from_records(statements) <= 1


def test_robots_keeps_crawlers_from_staff_account_and_sign_in_pages(client, public_url):
    response = client.get("/robots.txt")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    robots = Protego.parse(response.get_data(as_text=True))
    assert list(robots.sitemaps) == [f"{PUBLIC}/sitemap.xml"]
    for path in ("/records/123", "/", "/libraries", "/libraries/JXUFE",
                 "/libraries/JXUFE/new.atom", "/reference/faq", "/records/123/cite"):
        assert robots.can_fetch(PUBLIC + path, "Baiduspider"), path
    for path in ("/admin/", "/admin/settings", "/account", "/login", "/login/campus",
                 "/register", "/staff/readers", "/libraries/JXUFE/imports",
                 "/libraries/JXUFE/sip2", "/records/123/raw", "/me", "/search?q=x"):
        assert not robots.can_fetch(PUBLIC + path, "Googlebot"), path


def _json_ld(client, record_id):
    page = client.get(f"/records/{record_id}").get_data(as_text=True)
    found = extruct.extract(page, base_url=f"{PUBLIC}/records/{record_id}",
                            syntaxes=["json-ld"])["json-ld"]
    raw = html.fromstring(page).xpath("//script[@type='application/ld+json']/text()")
    assert len(found) == len(raw) == 1
    assert json.loads(raw[0]) == found[0]
    return found[0]


def _record(source_id):
    return db.session.execute(select(SourceRecord).where(
        SourceRecord.source_id == source_id)).scalar_one().record


def test_a_book_page_carries_schema_org_json_ld(client, public_url):
    import_lines([{"source_id": "ld-book", "type": "book", "title": "中国发展报告",
                   "authors": ["国务院发展研究中心", "李伟"], "publisher": "中国发展出版社",
                   "year": 2019, "isbn": ["978-7-111-54493-7"], "language": "chi",
                   "corporate-authors": ["国务院发展研究中心"], "place": "北京",
                   "edition": "2"}])
    record = _record("ld-book")
    data = _json_ld(client, record.id)
    assert data["@context"] == "https://schema.org" and data["@type"] == "Book"
    assert data["name"] == "中国发展报告" and data["isbn"] == ["9787111544937"]
    assert data["author"] == [{"@type": "Organization", "name": "国务院发展研究中心"},
                              {"@type": "Person", "name": "李伟"}]
    assert data["publisher"]["name"] == "中国发展出版社"
    assert (data["datePublished"], data["inLanguage"]) == ("2019", "zh")
    assert data["url"] == f"{PUBLIC}/records/{record.id}"


@pytest.mark.parametrize("kind, schema_type", [
    ("thesis", "Thesis"), ("article", "ScholarlyArticle"), ("journal", "Periodical"),
    ("map", "Map"), ("video", "VideoObject"), ("audio", "AudioObject"),
    ("patent", "CreativeWork")])
def test_each_record_type_has_its_schema_org_type(client, public_url, kind, schema_type):
    import_lines([{"source_id": f"ld-{kind}", "type": kind, "title": f"<题名> & {kind}",
                   "journal": "计算机学报", "issn": ["0254-4164"], "volume": "42",
                   "issue": "3", "year": 2020}])
    data = _json_ld(client, _record(f"ld-{kind}").id)
    assert data["@type"] == schema_type and data["name"] == f"<题名> & {kind}"
    if kind == "article":
        assert data["isPartOf"]["isPartOf"]["isPartOf"] == {
            "@type": "Periodical", "name": "计算机学报", "issn": ["0254-4164"]}


def test_only_books_have_book_properties(client, public_url):
    common = {"edition": "2", "page_count": 320, "year": 2020}
    import_lines([{"source_id": "ld-paper", "type": "newspaper", "title": "江西日报", **common},
                  {"source_id": "ld-thesis", "type": "thesis", "title": "论文", **common},
                  {"source_id": "ld-edition", "type": "book", "title": "书", **common}])
    for source_id in ("ld-paper", "ld-thesis"):
        data = _json_ld(client, _record(source_id).id)
        assert "bookEdition" not in data and "numberOfPages" not in data, source_id
    book = _json_ld(client, _record("ld-edition").id)
    assert (book["bookEdition"], book["numberOfPages"]) == ("2", 320)


def test_the_json_ld_cannot_end_its_script_element(client, public_url):
    import_lines([{"source_id": "ld-evil", "title": "</script><script>alert(1)</script>"}])
    page = client.get(f"/records/{_record('ld-evil').id}").get_data(as_text=True)
    assert "</script><script>alert" not in page
    assert _json_ld(client, _record("ld-evil").id)["name"].startswith("</script>")


def test_the_api_may_be_read_from_any_origin_without_credentials(client):
    origin = {"Origin": "https://lib.example.org"}
    for path in ("/api/v1/search?q=中国", "/api/v1/suggest?q=zh", "/api/v1/records/0"):
        response = client.get(path, headers=origin)
        assert response.headers["Access-Control-Allow-Origin"] == "*", path
        assert "Access-Control-Allow-Credentials" not in response.headers
    assert "Access-Control-Allow-Origin" not in client.get("/search?q=x", headers=origin).headers


def test_a_preflight_is_answered(client):
    response = client.options("/api/v1/search?q=x", headers={
        "Origin": "https://lib.example.org", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "accept-language"})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in response.headers["Access-Control-Allow-Methods"]
    assert "Accept-Language" in response.headers["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert "POST" not in response.headers["Access-Control-Allow-Methods"]


def _age(source_id, days):
    db.session.execute(update(SourceRecord).where(SourceRecord.source_id == source_id)
                       .values(imported_at=clock.now() - timedelta(days=days)))


def test_the_feed_lists_a_librarys_new_acquisitions_newest_first(client, public_url):
    import_lines([{"source_id": f"new-{n}", "title": f"新书 {n}", "authors": ["王五"],
                   "holdings": [{"library": "JXAU", "status": "available"}]}
                  for n in range(4)], library="JXAU")
    for n, days in enumerate((3, 1, 2, 45)):
        _age(f"new-{n}", days)
    atom = client.get("/libraries/JXAU/new.atom")
    assert atom.mimetype == "application/atom+xml"
    feed = feedparser.parse(atom.data)
    assert not feed.bozo and feed.version == "atom10"
    assert [e.title for e in feed.entries] == ["新书 1", "新书 2", "新书 0"]  # 45 days: too old
    assert feed.entries[0].link == f"{PUBLIC}/records/{_record('new-1').id}"
    assert feed.entries[0].author == "王五"
    assert [e.title for e in feedparser.parse(
        client.get("/libraries/JXAU/new.atom?days=60").data).entries][-1] == "新书 3"
    rss = feedparser.parse(client.get("/libraries/JXAU/new.rss").data)
    assert rss.version == "rss20" and [e.title for e in rss.entries][0] == "新书 1"


def test_control_characters_in_records_leave_the_feed_well_formed(client, public_url):
    import_lines([{"source_id": "new-bad", "title": "新书", "authors": ["王五"],
                   "holdings": [{"library": "JXAU", "status": "available"}]}], library="JXAU")
    db.session.execute(text(
        "UPDATE records SET title = :title, authors = ARRAY[:author, :empty] WHERE id = :id"),
        {"title": "Bad\x01title\x0bx", "author": "王\x02五", "empty": "\x03",
         "id": _record("new-bad").id})
    for kind in ("atom", "rss"):
        response = client.get(f"/libraries/JXAU/new.{kind}")
        assert response.status_code == 200
        feed = feedparser.parse(response.data)
        assert not feed.bozo, kind
        assert feed.entries[0].title == "Badtitlex"
    assert feedparser.parse(client.get("/libraries/JXAU/new.atom").data).entries[0].author == \
        "王五"


def test_the_library_page_announces_its_feeds(client):
    page = html.fromstring(client.get("/libraries/JXAU").data)
    links = page.xpath("//head/link[@rel='alternate']")
    assert {link.get("type") for link in links} == {"application/atom+xml",
                                                    "application/rss+xml"}
    assert all(client.get(link.get("href")).status_code == 200 for link in links)
    assert client.get("/libraries/NOPE/new.atom").status_code == 404
