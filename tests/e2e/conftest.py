"""Real-browser tests: Debian's Chromium driven by Playwright against pytest-django's live server.

Playwright's sync API keeps an asyncio loop running in the test thread for as long as it is
started, and Django then refuses ORM calls from that thread (SynchronousOnlyOperation) although
nothing here is concurrent: the browser talks to the live server's own thread. So the e2e package
allows them while its browser runs, and puts the guard back when the package is done, so that
the rest of the suite keeps Django's check.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django.conf import settings
from django.core.management import call_command

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, ViewportSize

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"


@pytest.fixture(scope="package")
def _allow_orm_beside_playwright() -> Iterator[None]:
    previous = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"
    yield
    if previous is None:
        os.environ.pop(ASYNC_UNSAFE, None)
    else:
        os.environ[ASYNC_UNSAFE] = previous


@pytest.fixture(scope="package")
def browser(_allow_orm_beside_playwright: None) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(
            f"{CHROMIUM} is not installed: run `make browser` "
            "(apt-get install chromium) to run the browser tests"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def demo_site(transactional_db: None, live_server: Any) -> str:
    """The demo tenants and accounts, served by the live server; returns its base URL."""
    call_command("load_demo", stdout=io.StringIO())
    return str(live_server.url)


def _new_page(browser: Browser, base_url: str, viewport: ViewportSize) -> Iterator[Page]:
    context = browser.new_context(base_url=base_url, viewport=viewport, locale="en-GB")
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


@pytest.fixture
def page(browser: Browser, demo_site: str) -> Iterator[Page]:
    """A desktop-sized page on the demo site (the database is ready before it opens)."""
    yield from _new_page(browser, demo_site, DESKTOP)


@pytest.fixture
def phone_page(browser: Browser, demo_site: str) -> Iterator[Page]:
    """A phone-sized page (390x844, an iPhone 12-15) on the demo site."""
    yield from _new_page(browser, demo_site, PHONE)


@pytest.fixture
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
