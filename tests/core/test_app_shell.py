"""The portal as an installable, light app: compressed pages, versioned static files cached
for a year, a manifest with icons, a service worker and its offline page, the tab bar."""
import hashlib
import re
from pathlib import Path

from jala import assets
from jala.core.shell import tab_for


def test_pages_are_compressed_and_caches_keep_pages_and_fragments_apart(client):
    response = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    vary = {v.strip() for v in response.headers["Vary"].split(",")}
    assert {"Accept-Encoding", "HX-Request"} <= vary
    plain = client.get("/")
    assert "Content-Encoding" not in plain.headers
    assert len(response.data) < len(plain.data) / 2


def test_static_urls_carry_the_hash_of_the_file_and_are_cached_for_a_year(client, app):
    html = client.get("/").get_data(as_text=True)
    url = re.search(r'href="(/static/css/jala\.css\?v=(\w+))"', html)
    content = (Path(app.static_folder) / "css" / "jala.css").read_bytes()
    assert url.group(2) == hashlib.sha256(content).hexdigest()[:12]
    response = client.get(url.group(1))
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    response.close()
    stale = client.get("/static/css/jala.css?v=0123456789ab")
    assert stale.status_code == 200 and stale.headers["Cache-Control"] == "no-cache"
    stale.close()


def test_a_changed_file_gets_a_new_version(tmp_path):
    (tmp_path / "a.css").write_text("body{}")
    first = assets.content_version(tmp_path, "a.css")
    (tmp_path / "a.css").write_text("body{color:red}")
    assert assets.content_version(tmp_path, "a.css") not in ("", first)
    assert assets.content_version(tmp_path, "missing.css") == ""


def test_the_manifest_makes_the_portal_installable(client):
    manifest = client.get("/manifest.webmanifest")
    assert manifest.mimetype == "application/manifest+json"
    body = manifest.get_json()
    assert body["display"] == "standalone" and body["start_url"] == "/"
    assert body["name"] == "江西高校图书馆联盟"
    sizes = {icon["sizes"] for icon in body["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in body["icons"]:
        response = client.get(icon["src"])
        assert response.status_code == 200
        response.close()
    assert any(icon["purpose"] == "maskable" for icon in body["icons"])
    favicon = client.get("/favicon.ico")
    assert favicon.mimetype == "image/png"
    favicon.close()
    html = client.get("/").get_data(as_text=True)
    assert 'rel="manifest"' in html and 'rel="icon"' in html


def test_the_service_worker_keeps_the_offline_page_but_no_readers_page(client):
    worker = client.get("/sw.js")
    assert worker.mimetype == "text/javascript"
    assert worker.headers["Service-Worker-Allowed"] == "/"
    script = worker.get_data(as_text=True)
    assert '"/offline"' in script and "/static/css/jala.css?v=" in script
    assert "cache.put" not in script  # pages go to the network, never into a cache
    offline = client.get("/offline").get_data(as_text=True)
    assert "当前处于离线状态" in offline and "csrf" not in offline.lower()


def test_every_page_belongs_to_its_tab():
    assert tab_for("core.home") == "home"
    assert tab_for("search.results") == "search"
    assert tab_for("catalog.record") == "search"
    assert tab_for("core.library") == "libraries"
    assert tab_for("reference.faq_search") == "ask"
    assert tab_for("mine.home") == "me"
    assert tab_for("loans.my_loans") == "me"
    assert tab_for("delivery.library_queue") == ""
    assert tab_for(None) == ""


def test_the_tab_bar_marks_the_current_tab(client):
    html = client.get("/libraries").get_data(as_text=True)
    bar = re.search(r'<nav class="tabbar".*?</nav>', html, re.S).group(0)
    assert bar.count("<a ") == 5
    current = re.findall(r'<a href="([^"]+)" aria-current="page">', bar)
    assert current == ["/libraries"]
    assert "我的" in bar
