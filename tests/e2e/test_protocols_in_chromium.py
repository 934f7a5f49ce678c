"""In Chromium: the record page's JSON-LD passes the CSP, and the live status arrives by HTMX."""
import pytest
from sqlalchemy import select

from jala.catalog.models import SourceRecord
from jala.extensions import db
from jala.protocols.sip2_config import set_endpoint
from tests.support.catalog import import_lines
from tests.support.sip2_server import CHARGED, Sip2TestServer

ORIGIN = "http://portal.test"


pytestmark = pytest.mark.e2e


def _served_by(client, route):
    """Answer the browser's requests with the app (inside the test's transaction)."""
    path = route.request.url[len(ORIGIN):]
    response = client.open(path, method=route.request.method,
                           headers={k: v for k, v in route.request.headers.items()
                                    if k.lower() in ("hx-request", "accept", "hx-current-url")})
    route.fulfill(status=response.status_code, body=response.data,
                  headers={k: v for k, v in response.headers.items()
                           if k.lower() != "content-length"})


def test_the_record_page_runs_clean_and_shows_the_live_status(browser, client, redis_service):
    import_lines([{"source_id": "chromium-1", "title": "浏览器里的实时馆藏", "type": "book",
                   "isbn": ["978-7-111-54493-7"], "holdings": [
                       {"library": "JXUFE", "call_number": "TP3/10", "status": "available",
                        "barcode": "CH1"}]}])
    record = db.session.execute(select(SourceRecord.record_id).where(
        SourceRecord.source_id == "chromium-1")).scalar_one()
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning")
            else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.add_init_script("document.addEventListener('securitypolicyviolation', e => "
                         "(window.cspViolations = window.cspViolations || [])"
                         ".push(e.violatedDirective + ' ' + e.blockedURI))")
    page.route(f"{ORIGIN}/**", lambda route: _served_by(client, route))
    try:
        with Sip2TestServer({"CH1": (CHARGED, "20270401    000000")}) as server:
            set_endpoint(None, "JXUFE", host="127.0.0.1", port=server.port,
                         institution_id="JXUFE", login_user="portal", password="s3cret")
            page.goto(f"{ORIGIN}/records/{record}")
            page.wait_for_selector("text=2027-04-01", timeout=5000)
        data = page.eval_on_selector("script[type='application/ld+json']", "s => s.textContent")
        violations = page.evaluate("() => window.cspViolations || []")
    finally:
        context.close()
    assert '"@type": "Book"' in data or '"@type":"Book"' in data
    assert violations == [] and problems == []
