"""What every step of the plant day needs: one browser context per demo user, problem collection,
signature dialogs, and the English + Chinese screenshots of each role's screens."""

from __future__ import annotations

from dataclasses import dataclass, field

from mes.demo_accounts import DEMO_PASSWORD
from tests.browser_fixtures import login
from tests.plantday.conftest import PLANT_DAY_ARTIFACTS

PW = DEMO_PASSWORD


@dataclass
class Day:
    """The day's shared state: the browser page of each user and the records made so far."""

    new_page: object
    plant: dict
    pages: dict = field(default_factory=dict)
    problems: dict = field(default_factory=dict)
    made: dict = field(default_factory=dict)

    def page(self, username: str):
        """The user's own browser context (10-inch tablet), logged in on first use."""
        if username not in self.pages:
            page, problems = self.new_page()
            login(page, username, PW)
            page.wait_for_load_state("load")
            self.pages[username], self.problems[username] = page, problems
        return self.pages[username]

    def failure_screens(self) -> None:
        """On a failure, what every user had on screen (kept with the artifacts for the report)."""
        for username, page in self.pages.items():
            try:
                shot(page, "failed", username, "last-page")
            except Exception:  # noqa: BLE001 - a closed page must not hide the real failure
                continue

    def check(self, username: str) -> None:
        """Fail on any console error, failed request or server error seen by this user so far."""
        self.problems[username].check()


def settle(page) -> None:
    """Wait for the page's load event (style sheets, scripts, images) before looking at it.

    Not "networkidle": it costs half a second per page, and a request cut short by the next
    navigation is reported as ERR_ABORTED, which the fixture does not count as a failure."""
    page.wait_for_load_state("load")


def goto(page, url: str) -> None:
    page.goto(url)  # returns after the load event


def sign(page, form: str, username: str, *, reason: str = "") -> None:
    """Fill the signature dialog inside `form` (the user ID only where the dialog asks for it)."""
    box = page.locator(form)
    if box.locator("#id_sig_username").count():
        box.locator("#id_sig_username").fill(username)
    box.locator("input[name=password]").fill(PW)
    if reason:
        box.locator("[name=reason]").fill(reason)


def submit(page, selector: str) -> None:
    """Click a submit button and wait for the page the server answers with."""
    with page.expect_navigation():  # waits for the answer's load event
        page.click(selector)


def shot(page, lang: str, role: str, name: str) -> None:
    PLANT_DAY_ARTIFACTS.mkdir(parents=True, exist_ok=True)
    settle(page)
    page.evaluate("window.scrollTo(0, 0)")  # a full-page shot of a scrolled page draws the sticky top bar mid-page
    page.screenshot(path=str(PLANT_DAY_ARTIFACTS / f"{lang}-{role}-{name}.png"), full_page=True)


def switch_language(page, code: str) -> None:
    with page.expect_navigation():
        page.click(f"[data-testid=lang-{code}]")
    page.wait_for_selector(f"html[lang={code}]")


def screens(page, role: str, name: str, url: str | None = None) -> None:
    """Screenshot the page (opened at `url` if given) in English and in Chinese; back to English."""
    if url:
        goto(page, url)
    shot(page, "en", role, name)
    switch_language(page, "zh-hans")
    shot(page, "zh", role, name)
    switch_language(page, "en")


def home(day: Day, username: str, role: str | None = None) -> None:
    """The user's home page (their work queue) in both languages."""
    screens(day.page(username), role or username, "home", "/")
