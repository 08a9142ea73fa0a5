"""Playwright in headless Debian Chromium, with console errors and failed requests collected."""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("MES_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("MES_TEST_ARTIFACTS", Path(__file__).resolve().parent.parent / "test-artifacts"))
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium (apt-get install chromium)")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield instance
        instance.close()


class PageProblems(list):
    def check(self):
        assert not self, "browser problems:\n" + "\n".join(self)


@pytest.fixture
def new_page(browser, live_server):
    """`page, problems = new_page()` — a fresh context (1280x800, a 10-inch tablet) per call."""
    contexts = []

    def make(viewport=(1280, 800)):
        context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, base_url=live_server.url)
        contexts.append(context)
        page = context.new_page()
        problems = PageProblems()
        page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        # ERR_ABORTED: the browser cancelled a request because the page navigated on (not a failure).
        page.on(
            "requestfailed",
            lambda r: (
                None if "ERR_ABORTED" in (r.failure or "") else problems.append(f"request failed: {r.url} {r.failure}")
            ),
        )
        page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 500 else None)
        return page, problems

    yield make
    for context in contexts:
        context.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.evaluate("window.scrollTo(0, 0)")  # a full-page shot of a scrolled page draws the sticky top bar mid-page
    page.screenshot(path=str(path), full_page=True)
    return path


@contextmanager
def answered_in_place(page):
    """Around what sends a form the page sends itself (htmx: a value, a scan, a signature on the step
    screen): wait for the server's answer and until it is in place; no page is loaded."""
    with page.expect_response(lambda r: r.request.method == "POST" and r.request.headers.get("hx-request") == "true"):
        yield
    page.wait_for_selector(".htmx-request, .htmx-settling, .htmx-swapping", state="detached")


def swap(page, selector: str) -> None:
    """Click a button of a form the page sends itself and wait until the server's answer is in place."""
    with answered_in_place(page):
        page.click(selector)


def open_in_language(page, username: str, password: str, language: str, url: str) -> None:
    """Log in, choose the page language, open `url` and mark the document: `window.sameDocument` is gone
    if a page is loaded again (an answer put in place keeps it)."""
    login(page, username, password)
    page.wait_for_load_state("load")
    page.context.add_cookies([{"name": "django_language", "value": language, "url": page.url}])
    page.goto(url)
    page.evaluate("window.sameDocument = true")


def answer_posts_with_a_server_error(page, url: str) -> None:
    """From now on the page's POSTs to `url` are answered with a 500 (its GETs reach the server)."""

    def answer(route):
        if route.request.method == "POST":
            route.fulfill(status=500, body="Server Error")
        else:
            route.continue_()

    page.route(f"**{url}", answer)


def login(page, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    # The log-in form's own button: the language switcher in the top bar has submit buttons too.
    page.click("form:has(#id_username) button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
