"""Run the project's test scripts against a scratch database and scratch files, never production data.

The child pytest gets DATABASE_URL / DATABASE_OWNER_URL naming a database that does not exist
(`<name>_q<pid>`); pytest-django creates `test_<that>` as the owner role, runs the tests as the runtime
role, and drops it; the runner drops it again if a crash left it. Files (audit checkpoints, keys,
media, screenshots) go to a temporary directory, keyed with a fresh audit key, so nothing of the
installation's own trail or witness is touched.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
_FILE_SETTINGS = ("MES_AUDIT_CHECKPOINT_FILE", "MES_AUDIT_REFUSAL_FILE", "MES_AUDIT_KEY_FILE", "MES_MEDIA_ROOT",
                  "MES_BACKUP_DIR", "MES_ARCHIVE_DIR")  # fmt: skip


def _renamed(url: str, name: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + name


def scratch_env(work: Path, artifacts: Path | None = None) -> tuple[dict[str, str], str]:
    """The child's environment and the name of the scratch test database it will create."""
    env = {k: v for k, v in os.environ.items() if k not in _FILE_SETTINGS}
    base = os.environ.get("DATABASE_URL", "")
    name = ""
    if base.startswith("postgres"):
        name = f"{base.rsplit('/', 1)[1].split('?')[0]}_q{os.getpid()}"
        env["DATABASE_URL"] = _renamed(base, name)
        if os.environ.get("DATABASE_OWNER_URL"):
            env["DATABASE_OWNER_URL"] = _renamed(os.environ["DATABASE_OWNER_URL"], name)
    env.update(
        MES_VAR_DIR=str(work / "var"),
        MES_AUDIT_KEYS=f"oq-{secrets.token_hex(3)}:{secrets.token_hex(32)}",
        MES_TEST_ARTIFACTS=str(artifacts or work / "artifacts"),
        DJANGO_SETTINGS_MODULE="tests.settings",
    )
    return env, (f"test_{name}" if name else "")


def run_tests(args: list[str], *, artifacts: Path | None = None, timeout: int = 4 * 3600) -> dict:
    """Run pytest on `args` in the scratch installation; return {"exitstatus", "tests", "seconds", "output"}."""
    with tempfile.TemporaryDirectory(prefix="mes-qualify-") as tmp:
        work = Path(tmp)
        env, test_db = scratch_env(work, artifacts)
        result_file = work / "result.json"
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "validation.pytest_plugin",
                   f"--qualify-json={result_file}", *args]  # fmt: skip
        started = time.monotonic()
        try:
            proc = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
            output, code = proc.stdout[-4000:] + proc.stderr[-2000:], proc.returncode
        except subprocess.TimeoutExpired:
            output, code = "timed out", -1
        finally:
            drop_scratch(test_db)
        seconds = round(time.monotonic() - started, 1)
        data = json.loads(result_file.read_text()) if result_file.exists() else {"exitstatus": code, "tests": {}}
    return {**data, "returncode": code, "seconds": seconds, "output": output, "scratch_database": test_db}


def drop_scratch(test_db: str) -> None:
    """Remove the scratch database if the child left it (it normally drops it itself)."""
    if not test_db:
        return
    import psycopg

    owner = settings.MES_DB_OWNER or settings.DATABASES["default"]
    params = {"host": owner.get("HOST") or None, "port": owner.get("PORT") or None, "user": owner.get("USER"),
              "password": owner.get("PASSWORD") or None, "dbname": "postgres"}  # fmt: skip
    with psycopg.connect(**{k: v for k, v in params.items() if v}, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{test_db}" WITH (FORCE)')


def scratch_exists(test_db: str) -> bool:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [test_db])
        return cursor.fetchone() is not None
