"""Playwright driving Debian's Chromium against pytest-django's live server.

Never downloads a browser: it launches ``/usr/bin/chromium`` (apt package ``chromium``).
Static files (Bootstrap, htmx, our CSS/JS) are served by the live server's static handler
from the finders, i.e. straight from ``static/`` and ``node_modules`` as in development.
"""

import os
import re
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run in a thread
# with a running loop unless told that this is deliberate. The live server runs in its own thread.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Debian Chromium is not installed at /usr/bin/chromium (apt install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def _allow_flushing_the_pool_event_log(transactional_db):
    """Live-server tests are transactional: the database is emptied with TRUNCATE afterwards.

    The pool event log refuses TRUNCATE unless the session says it is deliberate
    (``public_pool`` migration 0003); this fixture is torn down just before the flush, on the
    same connection, so the setting is in force when the flush runs.
    """
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET crm.allow_event_truncate = on")
    yield
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET crm.allow_event_truncate = on")


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context (no cookies) per test, with short timeouts so a hang fails fast."""
    context = browser.new_context(
        base_url=live_server.url, locale="en-US", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(7_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def signed_in(browser, live_server):
    """``signed_in(username, language, width=1366, height=900)``: a new browser context (another
    person) with the language chosen (``django_language`` cookie), signed in through the login
    page. Contexts are closed at the end of the test."""
    from playwright.sync_api import expect

    contexts = []

    def open_page(username: str, language: str = "en", width: int = 1366, height: int = 900):
        context = browser.new_context(
            base_url=live_server.url, locale="en-US", viewport={"width": width, "height": height}
        )
        contexts.append(context)
        context.set_default_timeout(30_000)  # the machine is shared; a hang still fails
        context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
        page = context.new_page()
        page.goto("/accounts/login/")
        page.locator("#id_username").fill(username)
        page.locator("#id_password").fill("pw")
        page.locator("#id_password").press("Enter")
        expect(page).to_have_url(re.compile(r"/$"))
        return page

    yield open_page
    for context in contexts:
        context.close()
