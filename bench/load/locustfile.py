"""Load test: operators executing batch steps and office users browsing, through the real pages.

Run by bench/load/run_load.py (`make load`), which seeds the plant (bench/load/seed_load.py) and
starts gunicorn. Each simulated person logs in with the login form (CSRF token from the page),
keeps its session cookie and posts the same forms a browser would, with the CSRF token of the page
it is on. A POST answers with a redirect; the page the browser then shows is requested next and
timed as its own request. A refused action (the page shows an error message) counts as a failure.

Pace (a person on a tablet): an operator waits OPERATOR_WAIT seconds between actions (reading the
instruction, typing a value, walking to the machine); an office user waits OFFICE_WAIT seconds
between pages (reading a list).
"""

from __future__ import annotations

import itertools
import os
import random
import re
import time
from pathlib import Path

import gevent
from locust import between, events, task
from locust.contrib.fasthttp import FastHttpUser

PASSWORD = os.environ.get("MES_LOAD_PASSWORD", "Pharma-MES-2026!")
OPERATORS = int(os.environ.get("MES_LOAD_OPERATORS", "50"))
OFFICE = int(os.environ.get("MES_LOAD_OFFICE", "10"))
# Operators seeded (capacity mode runs fewer than were seeded): each verifies the next one's batch.
SEEDED = int(os.environ.get("MES_LOAD_SEEDED", str(OPERATORS)))
OPERATOR_WAIT = (3.0, 8.0)
OFFICE_WAIT = (5.0, 15.0)
OFFICE_ROLES = ("qa", "auditor", "planner", "analyst")  # as seed_load.OFFICE_ROLES, in turn
OUT_OF_RANGE_SHARE = 0.02  # one value in fifty is out of range (comment given, deviation opened)

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
RECORD_FORM = re.compile(
    r'name="op" value="record"><input type="hidden" name="entry" value="(\d+)">'
    r'<input type="hidden" name="version" value="(\d+)">'
)
ERROR = re.compile(r'class="msg msg-error"[^>]*>([^<]*)<')
REVIEW_LINK = re.compile(r'href="(/batches/[A-Z0-9-]+/)"')

# Seconds after the last user started before the figures count (capacity mode): every simulated person
# logs in and opens the home page, the batch list and the batch detail as it starts, so the end of the
# ramp is a log-in storm no plant has at once; the steady pace of the shift is what a step measures.
SETTLE_SECONDS = float(os.environ.get("MES_LOAD_SETTLE_SECONDS", "0"))

_operator_ids = itertools.count()
_office_ids = itertools.count()


def csrf_of(html: str) -> str:
    m = CSRF.search(html)
    return m.group(1) if m else ""


def failure_text(resp) -> str:
    return f"HTTP {resp.status_code}" + (f" {resp.error!r}"[:160] if resp.status_code == 0 else "")


def swap_block(html: str, entry: str, block: str) -> str:
    """The step page with value `entry`'s block replaced by `block`, as htmx swaps it in the browser."""
    start = html.find(f'<div class="entry-block" id="entry-{entry}"')
    if start < 0:
        return ""
    ends = [i for i in (html.find('<div class="entry-block"', start + 1), html.find("</section>", start)) if i >= 0]
    return html[:start] + block.strip() + "\n" + html[min(ends) :]


class MesUser(FastHttpUser):
    """A person at a browser. FastHttpUser (geventhttpclient) rather than HttpUser (requests): the load
    generator runs on the same two cores as the service, and requests cost it about twice the CPU
    per request, which the capacity run then counted against the service."""

    abstract = True
    username = ""
    # A new connection per request: with seconds of think time, a kept-alive connection is closed
    # by gunicorn (keep-alive 2 s) and a request sent on it at that moment fails on the client
    # side ("HTTP 0"), which a browser would silently retry. This load test does not retry.
    default_headers = {"Connection": "close"}

    def login(self) -> None:
        page = self.client.get("/accounts/login/", name="login page")
        with self.client.post(
            "/accounts/login/",
            {"csrfmiddlewaretoken": csrf_of(page.text), "username": self.username, "password": PASSWORD},
            headers={"Referer": self.host + "/accounts/login/"},
            allow_redirects=False,
            name="login (POST)",
            catch_response=True,
        ) as resp:
            if resp.status_code != 302:
                resp.failure(f"login of {self.username} refused ({failure_text(resp)})")

    def page(self, url: str, name: str, expect: str = ""):
        with self.client.get(url, name=name, catch_response=True) as resp:
            if resp.status_code != 200:
                resp.failure(failure_text(resp))
            elif expect and expect not in resp.text:
                resp.failure(f"{expect!r} not on the page")
            return resp


class Operator(MesUser):
    """One of the 50 operators: works through the steps of their own running batch, one by one."""

    weight = OPERATORS
    wait_time = between(*OPERATOR_WAIT)

    def on_start(self) -> None:
        super().on_start()
        n = next(_operator_ids) % OPERATORS
        self.username = f"loadop{n + 1:02d}"
        self.verifier = f"loadop{(n + 1) % SEEDED + 1:02d}"  # the neighbour is assigned to this batch too
        self.batch = f"LOAD{n + 1:03d}"
        self.step = 10
        self.html = ""
        self.login()
        self.page("/", "home (work queue)", "My running batches")
        # With more running batches than one page holds (capacity mode), the own batch may be on a later page.
        listed = self.batch if SEEDED <= 50 else "LOAD"
        self.page("/batches/?status=in_progress", "batch list (in progress)", listed)
        self.page(f"/batches/{self.batch}/", "batch detail", self.batch)
        self.open_step()

    @property
    def step_url(self) -> str:
        return f"/batches/{self.batch}/step/{self.step}/"

    def open_step(self, name: str = "step page") -> None:
        self.html = self.page(self.step_url, name, self.batch).text

    def act(self, name: str, data: dict) -> None:
        """Send a form of the step screen as the page does (htmx): the answer is the screen as it then
        stands, put in place of the page's main content; no redirect and no second request."""
        data = {"csrfmiddlewaretoken": csrf_of(self.html), **data}
        headers = {"Referer": self.host + self.step_url, "HX-Request": "true"}
        with self.client.post(self.step_url, data, headers=headers, name=name, catch_response=True) as resp:
            screen = resp.text or ""
            if resp.status_code != 200 or '<main class="content">' not in screen:
                resp.failure(failure_text(resp))
                self.html = ""
                return
            self.html = screen
            error = ERROR.search(screen)
            if error:
                resp.failure(f"refused: {error.group(1).strip()[:120]}")

    def record(self, entry: str, data: dict) -> None:
        """Record a value as the step screen does (htmx): the answer is the value's block alone, put in
        place of the one on the page; no page is loaded after it."""
        data = {"csrfmiddlewaretoken": csrf_of(self.html), **data}
        headers = {"Referer": self.host + self.step_url, "HX-Request": "true"}
        name = "step: record a value (POST, answered with its block)"
        with self.client.post(self.step_url, data, headers=headers, name=name, catch_response=True) as resp:
            block = resp.text or ""
            if resp.status_code != 200 or f'id="entry-{entry}"' not in block:
                resp.failure(failure_text(resp))
                self.html = ""
                return
            self.html = swap_block(self.html, entry, block)
            error = ERROR.search(block)
            if error:
                resp.failure(f"refused: {error.group(1).strip()[:120]}")

    @task
    def next_action(self) -> None:
        """The next thing the step page offers: scan to start, a value to record, sign, verify, or the next step."""
        html = self.html
        if not html:  # the last page did not arrive (counted as a failure): look again before acting
            self.open_step()
        elif 'data-testid="scan-form"' in html:
            scan = f"{self.batch}-S{self.step}"
            self.act(
                "step: scan to start (POST, answered with the screen)", {"op": "start", "how": "scanned", "scan": scan}
            )
        elif form := RECORD_FORM.search(html):
            entry, version = form.groups()
            value, comment = f"{random.uniform(45, 55):.1f}", ""
            if random.random() < OUT_OF_RANGE_SHARE:
                value, comment = "61.5", "Load test: reading above the limit, checked with the supervisor"
            data = {"op": "record", "entry": entry, "version": version, "value": value, "comment": comment}
            self.record(entry, data)
        elif 'data-testid="sign-form"' in html:
            data = {"op": "sign", "signature_username": self.username, "password": PASSWORD, "reason": ""}
            self.act("step: sign performed (POST, answered with the screen)", data)
        elif 'data-testid="verify-form"' in html:
            data = {"op": "verify", "verifier": self.verifier, "password": PASSWORD}
            self.act("step: second-person verify (POST, answered with the screen)", data)
        else:
            self.step += 10
            if self.step % 50 == 0:  # back to the work queue now and then, like a person between steps
                self.page("/", "home (work queue)", "My running batches")
            self.open_step()


class Office(MesUser):
    """One of the 10 office users (QA, auditor, planner, analyst in turn) browsing lists and reports."""

    weight = OFFICE
    wait_time = between(*OFFICE_WAIT)

    def on_start(self) -> None:
        super().on_start()
        n = next(_office_ids) % OFFICE
        self.username = f"loadoff{n + 1:02d}"
        self.role = OFFICE_ROLES[n % len(OFFICE_ROLES)]
        self.login()
        self.page("/", "home (work queue)")

    @task(3)
    def orders(self) -> None:
        self.page("/orders/", "order list")
        if random.random() < 0.5:
            self.page("/orders/?status=released", "order list (filtered)")

    @task(3)
    def lots(self) -> None:
        self.page("/materials/", "lot list")

    @task(3)
    def review_list(self) -> None:
        if self.role not in ("qa", "auditor"):
            return self.reports()
        html = self.page("/batches/?status=under_review", "batch list (under review)").text
        links = [u for u in REVIEW_LINK.findall(html) if u.startswith("/batches/H")]
        if links:
            self.page(random.choice(links) + "review/", "batch review page")

    @task(2)
    def reports(self) -> None:
        if self.role == "auditor":
            return self.audit()
        self.page("/reports/", "reports dashboard")
        if random.random() < 0.3:
            self.page("/reports/production/", "production report")

    @task(2)
    def audit(self) -> None:
        if self.role != "auditor":
            return self.lots()
        self.page("/audit/", "audit trail")
        if random.random() < 0.5:
            self.page("/audit/?action=batches.entry.record", "audit trail (filtered)")


_ENVIRONMENT: dict = {}


@events.init.add_listener
def _keep_environment(environment, runner=None, **_kwargs) -> None:
    _ENVIRONMENT["runner"] = runner or environment.runner


@events.spawning_complete.add_listener
def _count_after_settling(user_count: int, **_kwargs) -> None:
    """With MES_LOAD_SETTLE_SECONDS, the statistics restart that long after the ramp (see SETTLE_SECONDS)."""
    runner = _ENVIRONMENT.get("runner")
    if SETTLE_SECONDS > 0 and runner is not None:
        gevent.spawn_later(SETTLE_SECONDS, _start_counting, runner)


def _start_counting(runner) -> None:
    """Restart the statistics; with MES_LOAD_COUNT_MARK, write the instant to that file, so the capacity
    run reads the servers' CPU over the same window as the requests it counts."""
    runner.stats.reset_all()
    mark = os.environ.get("MES_LOAD_COUNT_MARK")
    if mark:
        Path(mark).write_text(repr(time.time()), encoding="ascii")
