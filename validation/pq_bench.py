"""`python -m validation.pq_bench OUT.json URL module...`: PQ's key figures, measured on this hardware.

Runs the named bench/ modules (bench/run.py's Figure and targets) against a scratch database created
from URL's server (`<name>_pq<pid>`) and dropped afterwards. Bench fixtures bulk-load with the
triggers off, which needs a PostgreSQL superuser: URL is the DBA's (MES_BENCH_DATABASE_URL), never the
application's runtime role. Figures are measured, not asserted: the report compares them to targets.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _psql(url: str, sql: str) -> None:
    subprocess.run(["psql", url.rsplit("/", 1)[0] + "/postgres", "-qc", sql], check=True)


def main(out: str, url: str, modules: list[str]) -> int:
    name = f"{url.rsplit('/', 1)[1].split('?')[0]}_pq{os.getpid()}"
    scratch_url = url.rsplit("/", 1)[0] + "/" + name
    _psql(url, f'CREATE DATABASE "{name}"')
    try:
        with tempfile.TemporaryDirectory(prefix="mes-pq-") as tmp:
            os.environ.update(DATABASE_URL=scratch_url, MES_VAR_DIR=tmp, DJANGO_SETTINGS_MODULE="mes.settings")
            os.environ.pop("DATABASE_OWNER_URL", None)
            os.environ.pop("MES_AUDIT_CHECKPOINT_FILE", None)
            sys.path.insert(0, str(ROOT))
            import django

            django.setup()
            from django.core.management import call_command

            from bench.run import Context

            call_command("migrate", verbosity=0, interactive=False)
            sections = []
            for module in modules:
                mod = __import__(f"bench.{module}", fromlist=["run"])
                figures = mod.run(Context(scratch_url, Path(tmp)))
                sections.append({"title": mod.TITLE, "figures": [asdict(f) for f in figures]})
            from django.db import connections

            connections.close_all()
    finally:
        _psql(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    Path(out).write_text(json.dumps(sections, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3:]))
