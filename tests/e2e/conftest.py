"""Browser tests: the real app served on a free local port, driven by headless Chromium.

The server is a second app on the suite's own database (SQLite temp file or DATABASE_URL), with
CSRF switched on because a browser submits real forms. Rows are still wiped after each test by
the suite's autouse fixture. Chromium is Debian's (/usr/bin/chromium): Playwright's own browser
download is not used. Without it the tests skip, or fail when CI is set.
"""

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from volunteer import create_app
from volunteer.extensions import db

from .. import factories
from ..conftest import TEST_CONFIG

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 375, "height": 812}
ARTIFACTS = Path(__file__).parent / "artifacts"


def _unavailable(reason: str):
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"{reason} (CI is set, so the browser tests may not be skipped)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def live_app(app):
    """A second app on the same database, with CSRF on, as a browser meets it."""
    application = create_app(
        dict(TEST_CONFIG, WTF_CSRF_ENABLED=True, SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"])
    )
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def live_server(live_app):
    """Base URL of the app served by werkzeug in a background thread on a free port."""
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(autouse=True)
def _release_server_connections(live_app):
    # Runs before the suite's wipe: a pooled connection must not hold locks TRUNCATE waits for.
    yield
    with live_app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        _unavailable(f"no Chromium at {CHROMIUM}: apt-get install chromium (scripts/test.sh does)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed: pip install -e .[test]")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def phone_context(browser, live_server):
    """A fresh 375 px phone browser context (no cookies) whose relative URLs go to the live server."""
    context = browser.new_context(
        base_url=live_server,
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
        locale="zh-CN",
    )
    context.set_default_timeout(10_000)
    return context


@pytest.fixture
def phone(browser, live_server):
    """A fresh phone's page."""
    context = phone_context(browser, live_server)
    yield context.new_page()
    context.close()


def screenshot(page, name: str) -> Path:
    """Save a full-page PNG to tests/e2e/artifacts/ (gitignored) and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.evaluate("document.activeElement && document.activeElement.blur()")  # no focus ring in the picture
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def assert_fits_phone(page) -> None:
    """Nothing on the page is wider than the phone: no sideways scrolling."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width}px wide on a {PHONE['width']}px screen"


def log_in(page, user, lang: str = "en") -> None:
    """Log in through the form: in English (so assertions read the msgids), or in the default Chinese."""
    from playwright.sync_api import expect  # noqa: PLC0415 - only where Playwright is installed

    page.goto("/login")
    if lang == "en":
        page.click("header form.lang button")
    html_lang = "en" if lang == "en" else "zh-CN"
    expect(page.locator("html")).to_have_attribute("lang", html_lang)  # in Chinese: nobody chose, the default
    page.fill("#phone", user.phone)
    page.fill("#password", factories.PASSWORD)
    page.click("main form.stack button[type=submit]")
    expect(page.locator("header form.logout")).to_have_count(1)
    expect(page.locator("html")).to_have_attribute("lang", html_lang)
