"""Start the whole system for `make run`: web server, Celery worker and beat (and later the OPC UA
simulator). Prints the URL and the demo log-ins; Ctrl-C stops everything it started."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HOST, PORT = os.environ.get("MES_HOST", "127.0.0.1"), os.environ.get("MES_PORT", "8000")

PROCESSES = {
    "web": [
        str(BIN / "gunicorn"),
        "mes.wsgi:application",
        "--bind",
        f"{HOST}:{PORT}",
        "--no-control-socket",
        "--workers",
        "2",
        "--threads",
        "4",
        "--access-logfile",
        "-",
        "--graceful-timeout",
        "5",
    ],
    "worker": [
        str(BIN / "celery"),
        "-A",
        "mes",
        "worker",
        "--loglevel",
        "info",
        "--concurrency",
        "2",
        "--max-tasks-per-child",
        "50",
    ],
    "beat": [str(BIN / "celery"), "-A", "mes", "beat", "--loglevel", "info"],
}
# Later capabilities register more processes here (for example the OPC UA simulator).
EXTRA = ROOT / "scripts" / "run_extra.py"


def extra_processes() -> dict[str, list[str]]:
    if not EXTRA.exists():
        return {}
    namespace: dict = {"BIN": BIN, "PYTHON": sys.executable}
    exec(compile(EXTRA.read_text(), str(EXTRA), "exec"), namespace)  # noqa: S102 - our own file
    return namespace.get("PROCESSES", {})


def role_titles() -> dict[str, str]:
    """The roles' names in English (mes.roles), or {} if Django cannot be set up here."""
    sys.path.insert(0, str(ROOT))
    try:
        import django

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mes.settings")
        django.setup()
        from django.utils import translation

        from mes.roles import ROLES

        with translation.override("en"):
            return {code: str(title) for code, title in ROLES.items()}
    except Exception:  # noqa: BLE001 - the banner is a convenience; the role codes do instead
        return {}


def banner_lines() -> list[str]:
    """What a newcomer needs to start: the URL, who to log in as, where tokens and e-mails go.
    Nothing secret: no API token, no e-mail content (the demo password is the demo's, printed on purpose)."""
    sys.path.insert(0, str(ROOT))
    from mes.demo_accounts import DEMO_PASSWORD, DEMO_USERS

    titles = role_titles()
    lines = ["", "=" * 78, f"  Pharma MES is running on  http://{HOST}:{PORT}/"]
    lines.append(f"  Demo log-ins (password for all: {DEMO_PASSWORD}):")
    lines.append(f"    {'user':<12} {'role':<26} name")
    for name, (first, last, role) in DEMO_USERS.items():
        lines.append(f"    {name:<12} {titles.get(role, role):<26} {first} {last}")
    lines += [
        "  API tokens of the partner systems are never printed: `manage.py integration_account rotate",
        "  erp-link` issues a new one and shows it once. E-mails are written to var/mail/.",
        "  A machine fault on demand: `manage.py opcua_fault GRAN-01`. Ctrl-C stops everything.",
        "=" * 78,
        "",
    ]
    return lines


def banner() -> None:
    print("\n".join(banner_lines()), flush=True)


def main() -> int:
    os.chdir(ROOT)
    (ROOT / "var").mkdir(exist_ok=True)
    children = {}
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        for name, cmd in {**PROCESSES, **extra_processes()}.items():
            children[name] = subprocess.Popen(cmd, cwd=ROOT, start_new_session=True)
        time.sleep(2)
        banner()
        while not stopping:
            for name, proc in children.items():
                if proc.poll() is not None:
                    print(f"{name} exited with {proc.returncode}; stopping the rest.", flush=True)
                    stopping = True
            time.sleep(0.5)
    finally:
        for proc in children.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.time() + 10
        for proc in children.values():
            try:
                proc.wait(timeout=max(deadline - time.time(), 0.1))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        print("All MES processes stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
