"""Where the qualifications keep their evidence until the report is built: one JSON file per stage
(iq.json, oq.json, pq.json) and PQ's screenshots, in MES_VAR_DIR/validation unless told otherwise."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import socket
import subprocess
from pathlib import Path

from django.conf import settings

STAGES = ("iq", "oq", "pq")


def evidence_dir(path: str | Path | None = None) -> Path:
    folder = Path(path) if path else Path(settings.VAR_DIR) / "validation"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def now_text() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def write_stage(stage: str, data: dict, folder: Path) -> Path:
    path = folder / f"{stage}.json"
    path.write_text(json.dumps({"stage": stage, **data}, indent=1, ensure_ascii=False), encoding="utf-8")
    return path


def read_stage(stage: str, folder: Path) -> dict | None:
    path = folder / f"{stage}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def commit() -> str:
    """The source revision installed: MES_COMMIT (set by the image build) or git, else unknown."""
    if os.environ.get("MES_COMMIT"):
        return os.environ["MES_COMMIT"]
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return out.stdout.strip() or "unknown"


def environment() -> dict[str, str]:
    """Host, operating system, Python, Django, database and the installed commit."""
    import django
    from django.db import connection

    db = connection.vendor
    if db == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            db = f"PostgreSQL {cursor.fetchone()[0]}"
    return {
        "host": socket.gethostname(),
        "os": f"{platform.system()} {platform.release()}",
        "cpu": f"{os.cpu_count()} cores",
        "python": platform.python_version(),
        "django": django.get_version(),
        "database": db,
        "database_name": str(connection.settings_dict.get("NAME")),
        "commit": commit(),
    }
