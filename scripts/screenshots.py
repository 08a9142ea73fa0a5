"""Take the documentation screenshots from the running system (docs/screenshots/) and write docs/roles.md.

Builds a fresh demo database (SQLite under var/screenshots), starts the web server on a free port,
signs in as each demo user in headless Chromium (a 1280x800 tablet viewport) and captures their first
screen and the pages in `ROLES`, in English and Chinese. Run: `.venv/bin/python scripts/screenshots.py`
(`--keep-db` reuses the demo database of the previous run, to iterate on pages quickly; `--only NAME,...`
retakes only those pages, e.g. `--only batch-review` after a change to the review page).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
ROLES_DOC = ROOT / "docs" / "roles.md"
WORK = ROOT / "var" / "screenshots"
sys.path.insert(0, str(ROOT))
from mes.demo_accounts import DEMO_PASSWORD, DEMO_USERS  # noqa: E402
from tests.browser_fixtures import CHROMIUM, FLAGS  # noqa: E402  (one launch configuration for tests and docs)


@dataclass(frozen=True)
class Page:
    """A page worth showing: opened at `path`, then each of `follow` is a link clicked in turn (CSS
    selector) or, starting with "+", a suffix added to the current address: seeded records have no fixed
    numbers, so a record's page is reached the way a user reaches it."""

    name: str
    path: str
    caption: str
    follow: tuple[str, ...] = ()


@dataclass(frozen=True)
class Role:
    username: str
    title: str
    work: str  # what the role does (Markdown)
    pages: list[Page] = field(default_factory=list)
    first_screen: str = ""  # what the work cards of the first screen show with the demo data


# The first link of a batch list's table, and the first step of a batch not started yet.
FIRST_ROW = "main table tbody tr a"
NEXT_STEP = "[data-testid=steps] tbody tr:not(:has(.badge-ok)) a[href*='/step/']"

ROLES = [
    Role(
        "planner",
        "Planner",
        "Creates production orders (or receives them from the ERP), checks them against an effective master "
        "batch record and submits them for approval.",
        [Page("order-list", "/orders/", "Production orders with their state, product, quantity and due date.")],
        first_screen="the orders the reviewer returned for change (with the reason) and the planner's own drafts to submit.",
    ),
    Role(
        "supervisor",
        "Production supervisor",
        "Approves and releases orders, creates the batches and assigns operators, prepares each batch "
        "(equipment interlocks, materials, signed line clearance), and signs the production release. "
        "Starts the rework batch of a nonconforming lot once QA has approved its rework disposition (signed).",
        [
            Page("order-approvals", "/orders/approvals/", "Orders waiting for approval and release."),
            Page(
                "batch-preparation",
                "/batches/?status=planned",
                "A planned batch: interlocks, materials and line clearance before it can start.",
                (FIRST_ROW,),
            ),
        ],
        first_screen="lots expiring or expired, batches to dispense and prepare, rework batches to start, equipment to clean or requalify, orders to approve and to release, batches waiting for the production release, the supervisor's CAPAs and the report waiting for review.",
    ),
    Role(
        "operator",
        "Operator",
        "Works on the tablet beside the line: dispenses and issues material to the batch by scanning lots, "
        "then executes the assigned steps one screen at a time (equipment, parameters, checks, signature); "
        "a second operator (`operator2` in the demo) verifies the steps that need it. Dirty equipment waits to be cleaned.",
        [
            Page(
                "operator-step",
                "/batches/?status=in_progress",
                "One step of a running batch: what to do, the values to record with their limits, sign.",
                (FIRST_ROW, NEXT_STEP),
            ),
            Page("issue-batches", "/materials/issue/", "Batches waiting for material: scan a lot to issue it."),
        ],
        first_screen="batches to dispense, equipment to clean and the running batch with steps to execute.",
    ),
    Role(
        "qc",
        "QC inspector / reviewer",
        "Samples and tests lots and batches against their specification, decides on lots in quarantine, "
        "reviews completed batch records by exception and signs the QC release of the batch. Rejects a lot that "
        "failed and proposes its disposition (rework, scrap, destruction); inspects a reworked lot again.",
        [
            Page("qc-worklist", "/quality/inspections/", "Inspections due: sampling and results to enter."),
            Page(
                "batch-review",
                "/batches/?status=completed",
                "Review by exception: only what went out of range, late or was corrected needs a decision.",
                (FIRST_ROW, "+review/"),
            ),
            Page("release-cockpit", "/quality/release/", "Batches and lots waiting for their release decision."),
        ],
        first_screen="lots in quarantine, expiring, expired or blocked, the batch record to review, inspections due, lot decisions waiting, the batch to QC release, deviations to investigate and overdue CAPAs.",
    ),
    Role(
        "qa",
        "QA manager",
        "Approves master batch records (production and rework) and specifications, approves the disposition of "
        "nonconforming product, classifies and closes deviations, owns the CAPA process and checks that each "
        "action was effective.",
        [
            Page("recipe-list", "/orders/recipes/", "Master batch records and their approval state."),
            Page("deviation-list", "/quality/deviations/", "Deviations by state and classification."),
            Page(
                "deviation-detail",
                "/quality/deviations/",
                "A deviation under investigation: root cause, impact, its CAPAs and the signatures.",
                (FIRST_ROW,),
            ),
            Page("capa-board", "/quality/capa/", "Corrective and preventive actions: open, overdue, to verify."),
        ],
        first_screen="master batch records and specifications to approve, dispositions, deviations to investigate or close, CAPA effectiveness checks, configuration changes, the periodic access and configuration reviews.",
    ),
    Role(
        "maintenance",
        "Maintenance",
        "Watches the equipment status board, turns fault reports into work orders, repairs, calibrates and "
        "cleans; repaired equipment stays blocked until a second person requalifies it.",
        [
            Page("equipment-board", "/equipment/", "Live state of every equipment; red tiles may not be used."),
            Page("work-orders", "/equipment/maintenance/", "New fault reports and the work orders in progress."),
        ],
        first_screen="new faults and open work orders, overdue calibrations and the maintenance team's CAPAs.",
    ),
    Role(
        "warehouse",
        "Warehouse",
        "Receives goods into quarantine, prints labels, moves lots between locations and keeps the stock; "
        "expired and blocked lots are shown first.",
        [Page("lot-list", "/materials/", "Lots with their status, quantity, location and expiry.")],
        first_screen="lots in quarantine, lots expiring within 30 days and an expired lot still in stock.",
    ),
    Role(
        "analyst",
        "Data analyst",
        "Looks at the plant's figures: the dashboard, the period reports (production, quality, efficiency, "
        "inventory), statistical process control of the critical parameters, and reports generated for review.",
        [
            Page("reports-dashboard", "/reports/", "Plant dashboard: output against plan, batches, OEE per line."),
            Page("monthly-report", "/reports/view/production/", "The production report of this month."),
            Page(
                "spc",
                "/reports/view/spc/",
                "SPC of the critical parameters: the granulator's impeller speed from its OPC UA readings, with "
                "control limits, Cp/Cpk and the points the Western Electric rules flag.",
            ),
        ],
        first_screen="last month's production, quality and efficiency reports still to generate (each link opens the report for last month).",
    ),
    Role(
        "auditor",
        "Auditor",
        "Reads without changing anything: searches the audit trail, opens the history of a record, exports "
        "it and verifies the hash chain.",
        [Page("audit-trail", "/audit/", "The audit trail: who changed what, when and why.")],
        first_screen="overdue CAPAs; the audit trail, the chain verification and every record are one click away.",
    ),
    Role(
        "admin",
        "Administrator",
        "Manages users and their roles, changes controlled configuration through change control, watches the "
        "system status and alerts, and follows the messages exchanged with the ERP, WMS, LIMS and QMS.",
        [
            Page("system-status", "/administration/status/", "Heartbeat, queue, backups, disk and open alerts."),
            Page("user-list", "/administration/users/", "Users, their roles and their state."),
            Page("message-log", "/integrations/messages/", "Messages to and from the other systems."),
        ],
        first_screen="open security alerts, undelivered outbound messages (dead letters) and inbound messages that failed.",
    ),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(env: dict) -> None:
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / "db.sqlite3").unlink(missing_ok=True)
    for cmd in (["migrate", "--no-input", "-v", "0"], ["seed_demo"], ["collectstatic", "--no-input", "-v", "0"]):
        subprocess.run([sys.executable, "manage.py", *cmd], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def open_page(page, target: Page) -> None:
    """Open the page as a user would; a page that is not there fails the run instead of being shot."""
    response = page.goto(target.path)
    for step in target.follow:
        if step.startswith("+"):
            response = page.goto(page.url.split("?")[0] + step[1:])
        else:
            with page.expect_navigation() as navigation:
                page.click(step)
            response = navigation.value
    page.wait_for_load_state("networkidle")
    if response is None or not response.ok:
        raise RuntimeError(f"{target.name}: {page.url} answered {response and response.status}")


def sign_in(browser, base: str, username: str, lang: str):
    # The tablet's own locale: Chromium formats date inputs by it (yyyy/mm/dd on a Chinese tablet).
    locale = "zh-CN" if lang == "zh-hans" else "en-GB"
    ctx = browser.new_context(
        viewport={"width": 1280, "height": 800}, base_url=base, locale=locale, timezone_id="Asia/Shanghai"
    )
    ctx.add_cookies([{"name": "django_language", "value": lang, "url": base}])
    page = ctx.new_page()
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click(".login-card button[type=submit]")
    page.wait_for_load_state("networkidle")
    return ctx, page


def shoot(base: str, only: set[str] | None = None) -> None:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    pages = {role.username: [p for p in role.pages if only is None or p.name in only] for role in ROLES}
    with sync_playwright() as pw:
        # One browser per language, each started in that language's OS locale: Chromium formats date
        # inputs by it (yyyy/mm/dd on a Chinese tablet; Debian needs the chromium-l10n package).
        browsers = {
            lang: pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, env={**os.environ, **env})
            for lang, env in (
                ("en", {"LANGUAGE": "en_GB", "LANG": "en_GB.UTF-8"}),
                ("zh-hans", {"LANGUAGE": "zh_CN", "LANG": "zh_CN.UTF-8"}),
            )
        }
        for username in DEMO_USERS:
            if only is not None and not pages.get(username):
                continue
            for lang, suffix in (("en", "en"), ("zh-hans", "zh")):
                ctx, page = sign_in(browsers[lang], base, username, lang)
                if only is None:
                    page.screenshot(path=str(OUT / f"{username}-home-{suffix}.png"))
                for target in pages.get(username, []):
                    open_page(page, target)
                    page.screenshot(path=str(OUT / f"{target.name}-{suffix}.png"))
                ctx.close()
        for browser in browsers.values():
            browser.close()


def roles_markdown() -> str:
    lines = [
        "# Each role's work",
        "",
        "Screenshots are taken from the running system by `scripts/screenshots.py`, which also writes this",
        "page: a fresh demo database (`seed_demo`), every demo user signing in on a 1280x800 tablet viewport,",
        "in English and Chinese (the Chinese shot of each picture ends in `-zh.png` instead of `-en.png`).",
        "Regenerate both after UI changes. The demo password of every user is in `mes/demo_accounts.py`.",
        "",
    ]
    for role in ROLES:
        lines += [f"## {role.title} (`{role.username}`)", "", role.work, ""]
        if role.first_screen:
            lines += [f"**First screen** ([中文](screenshots/{role.username}-home-zh.png)): {role.first_screen}", ""]
        lines += [f"![{role.title}: first screen](screenshots/{role.username}-home-en.png)", ""]
        for target in role.pages:
            lines += [
                f"**{target.caption}** ([中文](screenshots/{target.name}-zh.png))",
                "",
                f"![{target.caption}](screenshots/{target.name}-en.png)",
                "",
            ]
    return "\n".join(lines)


def wait_until_up(base: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(f"{base}/accounts/login/", timeout=5)  # noqa: S310 (our own loopback server)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def _only() -> set[str] | None:
    """The page names after `--only` (comma-separated), or None: every page and first screen."""
    if "--only" not in sys.argv:
        return None
    names = sys.argv[sys.argv.index("--only") + 1]
    return {name.strip() for name in names.split(",") if name.strip()}


def main() -> int:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{WORK / 'db.sqlite3'}", "MES_VAR_DIR": str(WORK)}
    env.pop("REDIS_URL", None)
    if "--keep-db" not in sys.argv or not (WORK / "db.sqlite3").exists():
        prepare(env)
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    args = [gunicorn, "mes.wsgi:application", "--bind", f"127.0.0.1:{port}", "--no-control-socket", "--workers", "2"]
    server = subprocess.Popen(args, cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base)
        shoot(base, _only())
    finally:
        server.terminate()
        server.wait(10)
    if _only() is not None:  # a few pages retaken: the page of roles keeps its text
        print(f"screenshots in {OUT.relative_to(ROOT)}")
        return 0
    ROLES_DOC.write_text(roles_markdown(), encoding="utf-8")
    print(f"screenshots in {OUT.relative_to(ROOT)}, roles in {ROLES_DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
