"""Browser journeys: the app served for real on loopback, driven by Debian's chromium."""
import os
from pathlib import Path

import pytest

from tests.support.browser import CHROMIUM, new_phone, serving


@pytest.fixture(scope="session")
def live_server(app):
    with serving(app) as base:
        yield base


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"chromium is missing at {CHROMIUM}: browser tests cannot run")
        pytest.skip("chromium is not installed (make browser installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-dev-shm-usage"],
        )
        yield browser
        browser.close()


@pytest.fixture
def phone(browser):
    """A page in a 360×740 phone-sized viewport."""
    page = new_phone(browser)
    yield page
    page.context.close()
