"""Page weight and load time of the reader's pages, on a phone, against a running portal.

Walks the demo's reader pages signed out and signed in as the demo reader (``make run`` loads
the demo) in Chromium at 360×740 with the HTTP cache off (every page loaded as on a first
visit), and prints per page the bytes transferred (compressed, with every file it loads) and
the time to the load event, then p50/p95 and the largest page. The same checks as the browser
walk in tests/e2e/test_app_walk.py are printed as problems.

Usage:  .venv/bin/python bench/pages.py [--base http://127.0.0.1:5000] [--rounds 3]
"""
import argparse
import sys
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import sync_playwright  # noqa: E402

from jala.demo import DEMO_PASSWORD  # noqa: E402
from tests.support.browser import CHROMIUM  # noqa: E402
from tests.support.walk import check_page, cold_phone, summary  # noqa: E402

SIGNED_OUT = ["/", "/search", "/search?q=" + quote("图书馆"), "/search?q=" + quote("zhongguo"),
              "/search?q=" + quote("没有这样的书名zzqx"), "/libraries", "/libraries/NCU",
              "/login", "/register", "/reference/faq", "/join", "/chairs"]
READER = ["/me", "/account", "/loans", "/loans/card", "/delivery/requests", "/delivery/new",
          "/reference/questions", "/reference/ask", "/lists", "/purchase/suggest",
          "/purchase/suggestions", "/search?q=" + quote("数字图书馆")]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default="http://127.0.0.1:5000")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update"])
        page = cold_phone(browser)
        page.goto(args.base + "/search?q=x")  # the first page's imports and caches warm
        first = page.locator("a.hit-title").first
        if first.count():
            SIGNED_OUT.append(first.get_attribute("href"))
        reports = []
        for _ in range(args.rounds):
            page.context.clear_cookies()
            for path in SIGNED_OUT:
                reports.append(check_page(page, args.base, path, library_codes=()))
            page.goto(args.base + "/login")
            page.fill("input[name=email]", "reader@demo.jala")
            page.fill("input[name=password]", DEMO_PASSWORD)
            page.click("form[action='/login'] button[type=submit]")
            page.wait_for_url(args.base + "/")
            for path in READER:
                reports.append(check_page(page, args.base, path, library_codes=()))
        browser.close()
    for r in reports[:len(SIGNED_OUT) + len(READER)]:
        print(f"{r.bytes / 1024:7.1f} KB {r.ms:7.1f} ms  {r.path}  {'; '.join(r.problems)}")
    s = summary(reports)
    print(f"\n{s['pages']} page loads: p50 {s['p50_ms']} ms, p95 {s['p95_ms']} ms; largest "
          f"{s['largest_bytes'] / 1024:.1f} KB ({s['largest']})")


if __name__ == "__main__":
    main()
