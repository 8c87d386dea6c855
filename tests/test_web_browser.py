"""The pages in a real browser: Debian's headless Chromium driven by Playwright for Python.

Skipped when /usr/bin/chromium or the playwright package is absent, except under MONITOR_REQUIRE_SERVICES=1
(CI), where that fails. Never downloads a browser.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from conftest import skip_or_fail
from factories import article, match, source
from sqlalchemy.engine import Engine
from web_helpers import XSS

from alerts.digest import local_today
from monitor.config import load_settings
from monitor.storage.engine import session_scope
from monitor.storage.models import WatchTerm
from monitor.web.app import create_app
from monitor.web.server import serving_in_thread

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


def expect(target: Any) -> Any:
    """Playwright's auto-waiting assertions, imported only once the module knows Playwright is there."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
TIMEOUT_MS = 10_000
PAGES = ("/", "/matches", "/articles", "/baseline", "/digests", "/watch", "/sources", "/docs", "/login")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        skip_or_fail(f"{CHROMIUM} is absent (apt-get install chromium)")
    if importlib.util.find_spec("playwright") is None:
        skip_or_fail("the playwright package is absent (pip install playwright; no `playwright install` needed)")
    from playwright.sync_api import expect as playwright_expect
    from playwright.sync_api import sync_playwright

    playwright_expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class BrowserPage:
    """A page that records dialogs and console errors (a CSP violation is a console error)."""

    def __init__(self, page: Page, base_url: str) -> None:
        self.page = page
        self.base_url = base_url
        self.dialogs: list[str] = []
        self.console_errors: list[str] = []
        page.set_default_timeout(TIMEOUT_MS)
        page.on("dialog", self._on_dialog)
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.console_errors.append(str(error)))

    def _on_dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.accept()

    def _on_console(self, message: Any) -> None:
        # A 400 answer to a bad form is logged too; that is the page working, not an error in it.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.console_errors.append(message.text)

    def open(self, path: str) -> Page:
        response = self.page.goto(self.base_url + path, wait_until="load")
        assert response is not None and response.ok, path
        return self.page


@pytest.fixture
def served(browser: Browser, sqlite_engine: Engine) -> Iterator[BrowserPage]:
    settings = load_settings()
    with serving_in_thread(create_app(settings, sqlite_engine)) as base_url:
        context = browser.new_context()
        yield BrowserPage(context.new_page(), base_url)
        context.close()


def _today(engine: Engine) -> str:
    return local_today(load_settings().zone).isoformat()


def test_review_a_match_and_see_it_leave_the_digest(served: BrowserPage, sqlite_engine: Engine) -> None:
    with session_scope(sqlite_engine) as session:
        kept = match(session, claim_text="Belarus keeps 11,000 troops at the border.")
        doomed = match(session, claim_text="Belarus has 9,000 troops near the Ukrainian border.")
    digest_path = f"/digests/{_today(sqlite_engine)}"
    page = served.open(digest_path)
    assert "Belarus has 9,000 troops" in page.inner_text("main")

    page = served.open("/matches")
    card = page.locator(f"#match-{doomed.id}")
    card.get_by_label("Note").fill("old figure, already reported")
    card.get_by_role("button", name="Dismiss").click()
    expect(page.locator(f"#match-{doomed.id} .review-status")).to_have_text("dismissed")
    assert "old figure, already reported" in page.locator(f"#match-{doomed.id}").inner_text()

    digest = served.open(digest_path).inner_text("main")
    assert "Belarus has 9,000 troops" not in digest
    assert "Belarus keeps 11,000 troops" in digest and kept.id is not None
    assert served.console_errors == []


def test_add_and_remove_a_watch_term(served: BrowserPage) -> None:
    page = served.open("/watch")
    form = page.locator("#add-term")
    form.get_by_label("Term").fill("Lukashenko")
    form.get_by_label("Aliases").fill("Лукашенко, Łukaszenka")
    form.get_by_role("button", name="Add term").click()
    page.wait_for_url("**/watch")
    row = page.locator("tr", has=page.locator("td.term", has_text="Lukashenko"))
    assert row.get_by_label("Aliases of Lukashenko").input_value() == "Лукашенко, Łukaszenka"

    row.get_by_role("button", name="Pause").click()
    expect(row.get_by_role("button", name="Resume")).to_be_visible()
    assert "paused" in row.inner_text()

    row.get_by_role("button", name="Remove Lukashenko").click()  # app.js asks first; the page accepts
    expect(page.locator("td.term", has_text="Lukashenko")).to_have_count(0)
    assert served.dialogs == ["Remove the watch term “Lukashenko”?"]

    form = page.locator("#add-term")
    form.get_by_label("Term").fill("*")
    form.get_by_role("button", name="Add term").click()
    assert "watch term is empty" in page.locator("[role=alert]").inner_text()
    assert served.console_errors == []


def test_articles_page_filters_and_leads_to_the_article_and_its_matches(
    served: BrowserPage, sqlite_engine: Engine
) -> None:
    with session_scope(sqlite_engine) as session:
        kyiv = article(session, title="Kyiv fortifies the north", outlet="Kyiv Post")
        match(session, on_article=kyiv, claim_text="Kyiv keeps building fortifications on the border.")
        article(session, title="Minsk holds drills", outlet="Minsk Daily")
    page = served.open("/articles")
    assert page.locator("table.articles tbody tr").count() == 2
    page.get_by_label("Outlet").select_option("Kyiv Post")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/articles?outlet=Kyiv*")
    expect(page.locator("table.articles tbody tr")).to_have_count(1)
    page.get_by_role("link", name="1", exact=True).click()  # its matches
    page.wait_for_url("**/matches?article=*")
    assert "Kyiv keeps building fortifications" in page.inner_text("main")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download these matches as CSV").click()
    assert "Kyiv keeps building fortifications" in Path(download.value.path()).read_text(encoding="utf-8")
    page = served.open("/articles")
    page.get_by_role("link", name="Kyiv fortifies the north").click()
    page.wait_for_url(f"**/articles/{kyiv.id}")
    assert served.console_errors == []


def test_sources_filter_in_the_browser(served: BrowserPage, sqlite_engine: Engine) -> None:
    with session_scope(sqlite_engine) as session:
        source(session, url="https://down.example/feed", failures=3, last_error="HTTP 503", outlet="Down Daily")
        source(session, url="https://fine.example/feed", outlet="Fine Times")
    page = served.open("/sources")
    expect(page.locator("tr.source")).to_have_count(2)
    page.get_by_label("State").select_option("failing")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/sources?*state=failing*")
    expect(page.locator("tr.source")).to_have_count(1)
    assert "Down Daily" in page.locator("tr.source").inner_text()
    assert served.console_errors == []


def test_xss_headline_shows_as_text_and_no_dialog_opens(served: BrowserPage, sqlite_engine: Engine) -> None:
    with session_scope(sqlite_engine) as session:
        story = article(session, title=XSS, outlet=XSS)
        row = match(session, on_article=story, claim_text=f"Minsk said {XSS} on Monday.")
        session.add(WatchTerm(term="Belarus", term_key="belarus", aliases=[XSS]))
    paths = ("/", "/matches", "/articles", f"/articles/{story.id}", f"/baseline/{row.baseline_claim_id}")
    for path in (*paths, f"/digests/{_today(sqlite_engine)}"):
        page = served.open(path)
        assert XSS in page.inner_text("main"), path
        assert page.locator("main img").count() == 0, path
    page = served.open("/watch")
    assert page.get_by_label("Aliases of Belarus").input_value() == XSS
    assert served.dialogs == []
    assert served.console_errors == []


def test_pages_work_390_pixels_wide(served: BrowserPage, sqlite_engine: Engine) -> None:
    with session_scope(sqlite_engine) as session:
        long_outlet = "An Outlet With A Rather Long Name " * 2
        row = match(session, outlet=long_outlet, url="https://news.example/" + "very-long-path-segment-" * 8)
        source(session, url="https://feeds.example/" + "x" * 120, failures=3, last_error="HTTP 503 " * 10)
    served.page.set_viewport_size({"width": 390, "height": 844})
    extra = (f"/articles/{row.claim_id}", f"/baseline/{row.baseline_claim_id}", f"/digests/{_today(sqlite_engine)}")
    for path in (*PAGES, *extra):
        page = served.open(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} is {width} px wide"
    page = served.open("/matches")
    sides = page.locator(f"#match-{row.id} .side").all()
    first, second = (side.bounding_box() for side in sides)
    assert first is not None and second is not None
    assert second["y"] > first["y"]  # on a phone the two sentences stack
    assert served.console_errors == []


def test_login_with_the_token_then_change_something(browser: Browser, sqlite_engine: Engine) -> None:
    app = create_app(load_settings(web_token="browser-token"), sqlite_engine)
    with serving_in_thread(app) as base_url:
        context = browser.new_context()
        session = BrowserPage(context.new_page(), base_url)
        page = session.open("/watch")
        assert page.locator("#add-term").count() == 0
        page.get_by_role("link", name="Log in").first.click()
        page.get_by_label("Token").fill("browser-token")
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/watch")
        page.locator("#add-term").get_by_label("Term").fill("Minsk")
        page.get_by_role("button", name="Add term").click()
        expect(page.locator("td.term", has_text="Minsk")).to_have_count(1)
        cookies = {cookie["name"]: cookie for cookie in context.cookies()}
        assert cookies["monitor_session"]["httpOnly"] and cookies["monitor_session"]["sameSite"] == "Strict"
        context.close()
