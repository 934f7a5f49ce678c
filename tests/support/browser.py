"""Browser journeys: serving the app on loopback, phone-sized pages in Debian's chromium,
logging in through the form, screenshots."""
import os
import shutil
import threading
from contextlib import contextmanager
from pathlib import Path

import pyotp
from werkzeug.serving import make_server

from jala.embedded.redis_server import free_port
from tests.support.factories import PASSWORD

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@contextmanager
def serving(app):
    """Serve ``app`` on a free loopback port; yields its base URL."""
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def new_phone(browser):
    """A page in a fresh 360×740 phone-sized browser context (close its ``context`` after)."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2,
                                  is_mobile=True, has_touch=True, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page


def screenshot(page, name):
    """Keep a full-page screenshot as test-artifacts/<name>.png."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def submit_login(page, base, email, password=None):
    """Fill in the login form and send it (without waiting for where it leads)."""
    page.goto(base + "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password or PASSWORD)
    page.click("form[action='/login'] button[type=submit]")


def log_in(page, base, email, totp_secret=None, password=None):
    """Log in through the form (with the authenticator code for staff); lands on the home page."""
    submit_login(page, base, email, password)
    if totp_secret:
        page.wait_for_url("**/login/code")
        page.fill("input[name=code]", pyotp.TOTP(totp_secret).now())
        page.click("button[type=submit].primary")
    page.wait_for_url(base + "/")


def fits_the_phone(page, width=360):
    """Nothing sticks out sideways at 360 px."""
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{page.url} is {scroll_width} px wide"


def open_mine_link(page, href):
    """Follow a link of the tab bar, or of 我的 (the reader's home, one tap on the tab bar)."""
    tab = page.locator(f"nav.tabbar a[href='{href}']")
    if not tab.count():
        page.click("nav.tabbar a[href='/me']")
        page.wait_for_url("**/me")
        tab = page.locator(f"main a[href='{href}']").first
    tab.click()
    page.wait_for_url("**" + href)


def open_menu_link(page, href):
    """Open the ☰ menu and follow one of its links."""
    page.click("details.menu summary")
    page.click(f"nav.menu-items a[href='{href}']")
    page.wait_for_url("**" + href)


def small_tap_targets(page, selector, size=44):
    """The visible elements matching ``selector`` smaller than ``size`` px either way."""
    return page.eval_on_selector_all(selector, """(elements, size) => elements
        .map(e => [e.textContent.trim(), e.getBoundingClientRect()])
        .filter(([, r]) => r.width > 0 && (r.width < size || r.height < size))
        .map(([text, r]) => `${text}: ${Math.round(r.width)}x${Math.round(r.height)}`)""", size)
