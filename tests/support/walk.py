"""Walking the portal as a reader on a phone: each page loaded cold in Chromium at 360×740,
checked the way a reader and a screen reader meet it, and measured (bytes and time).

Used by tests/e2e/test_app_walk.py (which asserts) and bench/pages.py (which prints).
"""
import re
import statistics
from dataclasses import dataclass, field
from pathlib import Path

import axe_playwright_python

AXE_SOURCE = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(
    encoding="utf-8")
# Values stored in the database that a Chinese page must show as words instead.
RAW_VALUES = ("book", "article", "thesis", "chapter", "chi", "zho", "eng", "on_loan",
              "in_transit", "back_at_lender", "pending", "accepted", "fulfilled", "unfilled",
              "refused", "cancelled", "available", "answered", "suggested", "ordered", "declined",
              "requested", "approved", "shipped", "received", "returned", "closed", "open")
PAGE_BUDGET_BYTES = 60 * 1024
# Visible text in <main> set in italics (Chinese has no italics) or in a monospace face
# (codes, not words): the first few of each, as text.
TYPE_FACES = """() => {
  const cjk = /[\\u3400-\\u9fff]/, italic = [], mono = [];
  for (const el of document.querySelectorAll("main *")) {
    const own = [...el.childNodes].filter((n) => n.nodeType === 3)
      .map((n) => n.textContent).join("").trim();
    if (!own || !el.getClientRects().length) continue;
    const style = getComputedStyle(el);
    if (style.fontStyle === "italic" && cjk.test(own)) italic.push(own.slice(0, 20));
    if (/mono/i.test(style.fontFamily)) mono.push(own.slice(0, 20));
  }
  return [italic.slice(0, 3), mono.slice(0, 3)];
}"""
SERIOUS = ("serious", "critical")


@dataclass
class PageReport:
    path: str
    status: int
    bytes: int  # transferred, compressed, with every file the page loads (cold cache)
    ms: float  # navigation start to the load event
    problems: list = field(default_factory=list)


def _transferred(requests):
    total = 0
    for req in requests:
        try:
            sizes = req.sizes()
        except Exception:  # a request that never finished (e.g. cancelled) moved no body
            continue
        total += sizes["responseBodySize"] + sizes["responseHeadersSize"]
    return total


def _visible_text(page):
    return page.evaluate("document.body.innerText")


def check_page(page, base, path, *, library_codes, expect_tab=True, data_view=False,
               staff=False):
    """Load ``path`` cold and report what a reader on a phone would run into.

    ``data_view``: a page that shows stored data on purpose (the staff's raw record), where
    stored values and monospace are what it is for. ``staff``: a staff page, where the numbers
    of requests (#12) help a librarian; a reader sees titles instead.
    """
    errors, finished = [], []
    on_console = lambda msg: errors.append(msg.text) if msg.type == "error" else None  # noqa: E731
    on_error = lambda exc: errors.append(str(exc))  # noqa: E731
    on_finished = lambda req: finished.append(req)  # noqa: E731
    page.on("console", on_console)
    page.on("pageerror", on_error)
    page.on("requestfinished", on_finished)
    try:
        response = page.goto(base + path, wait_until="load")
        page.wait_for_load_state("networkidle")
        ms = page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
        report = PageReport(path, response.status if response else 0, _transferred(finished), ms)
    finally:
        page.remove_listener("console", on_console)
        page.remove_listener("pageerror", on_error)
        page.remove_listener("requestfinished", on_finished)
    problems = report.problems
    if report.status != 200:
        problems.append(f"answered {report.status}")
    if errors:
        problems.append(f"console errors: {errors[:3]}")
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > 360:
        problems.append(f"{width} px wide")
    h1 = page.locator("h1").count()
    if h1 != 1:
        problems.append(f"{h1} h1 elements")
    if report.bytes > PAGE_BUDGET_BYTES:
        problems.append(f"{report.bytes} bytes transferred")
    text = _visible_text(page)
    codes = [m for c in library_codes
             if (m := re.search(rf".{{0,12}}(?<![A-Za-z]){c}(?![A-Za-z]).{{0,12}}", text))]
    if codes:
        problems.append(f"library codes shown: {[m.group(0) for m in codes]}")
    raw = sorted({v for v in RAW_VALUES if re.search(rf"(?<![A-Za-z_]){v}(?![A-Za-z_])", text)})
    if raw and not data_view:
        problems.append(f"raw values shown: {raw}")
    italic, monospace = page.evaluate(TYPE_FACES)
    if italic:
        problems.append(f"Chinese in italics: {italic}")
    if monospace and not data_view:
        problems.append(f"monospace text: {monospace}")
    ids = re.findall(r"(?<![\w&#])#\d+", text)
    if ids and not staff:
        problems.append(f"internal numbers shown: {ids[:3]}")
    if expect_tab:
        tabs = page.locator("nav.tabbar a")
        if not (1 <= tabs.count() <= 5) or not page.locator("nav.tabbar").is_visible():
            problems.append("no tab bar")
    page.evaluate(AXE_SOURCE)
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    serious = [f"{v['id']} ({len(v['nodes'])})" for v in result["violations"]
               if v["impact"] in SERIOUS]
    if serious:
        problems.append(f"axe: {serious}")
    return report


def cold_phone(browser):
    """A 360×740 phone page whose every load is cold (no HTTP cache), like a first visit."""
    # the service worker would answer some requests itself, and they would count no bytes
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True,
                                  has_touch=True, locale="zh-CN", service_workers="block")
    page = context.new_page()
    page.set_default_timeout(15_000)
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    return page


def summary(reports):
    """p50/p95 load time and the largest page, for notes and benchmarks."""
    times = sorted(r.ms for r in reports)
    largest = max(reports, key=lambda r: r.bytes)
    p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
    return {"pages": len(reports), "p50_ms": round(statistics.median(times), 1),
            "p95_ms": round(p95, 1), "largest_bytes": largest.bytes, "largest": largest.path}
