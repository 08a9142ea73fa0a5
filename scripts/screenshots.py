"""Take the documentation screenshots from the running system (docs/screenshots/).

Builds a fresh demo database (SQLite under var/screenshots), starts the web server on a free port,
signs in as each demo user in headless Chromium and captures their first screen and the pages in
`PAGES`, in English and Chinese. Run: `.venv/bin/python scripts/screenshots.py`.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
WORK = ROOT / "var" / "screenshots"
sys.path.insert(0, str(ROOT))
from mes.demo_accounts import DEMO_PASSWORD, DEMO_USERS  # noqa: E402

# (user, url path, name): role pages worth showing in the docs besides each first screen.
PAGES = [
    ("auditor", "/audit/", "audit-trail"),
    ("planner", "/orders/", "order-list"),
    ("supervisor", "/orders/approvals/", "order-approvals"),
    ("qa", "/orders/recipes/", "recipe-list"),
    ("maintenance", "/equipment/", "equipment-board"),
    ("warehouse", "/materials/", "lot-list"),
    ("operator", "/materials/issue/", "issue-batches"),
    ("admin", "/administration/status/", "system-status"),
]
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(env: dict) -> None:
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / "db.sqlite3").unlink(missing_ok=True)
    for cmd in (["migrate", "--no-input", "-v", "0"], ["seed_demo"], ["collectstatic", "--no-input", "-v", "0"]):
        subprocess.run([sys.executable, "manage.py", *cmd], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def shoot(base: str) -> None:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        for username in DEMO_USERS:
            for lang in ("en", "zh-hans"):
                ctx = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=base)
                ctx.add_cookies([{"name": "django_language", "value": lang, "url": base}])
                page = ctx.new_page()
                page.goto("/accounts/login/")
                page.fill("#id_username", username)
                page.fill("#id_password", DEMO_PASSWORD)
                page.click(".login-card button[type=submit]")
                page.wait_for_load_state("networkidle")
                suffix = "en" if lang == "en" else "zh"
                page.screenshot(path=str(OUT / f"{username}-home-{suffix}.png"))
                for user, path, name in PAGES:
                    if user == username:
                        page.goto(path)
                        page.wait_for_load_state("networkidle")
                        page.screenshot(path=str(OUT / f"{name}-{suffix}.png"))
                ctx.close()
        browser.close()


def main() -> int:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{WORK / 'db.sqlite3'}", "MES_VAR_DIR": str(WORK)}
    env.pop("REDIS_URL", None)
    prepare(env)
    server = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "mes.wsgi:application", "--bind",
                               f"127.0.0.1:{port}", "--workers", "2"], cwd=ROOT, env=env)
    try:
        time.sleep(3)
        shoot(f"http://127.0.0.1:{port}")
    finally:
        server.terminate()
        server.wait(10)
    print(f"screenshots in {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
