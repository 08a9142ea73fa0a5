"""Run the fault scenarios (tests/faults) and print PASS/FAIL per fault with its figures.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mes .venv/bin/python scripts/faults.py [-k redis]

Each scenario starts its own PostgreSQL cluster / redis-server / gunicorn / Celery worker / OPC UA
simulator on free loopback ports and stops or kills those only (see docs/faults.md). Exit status 0
when every fault passed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = {
    "test_postgres_restart": "PostgreSQL restart",
    "test_redis_stop": "Redis stop",
    "test_worker_kill": "kill -9 Celery worker",
    "test_opcua_restart": "OPC UA simulator stop/restart",
}


def main(argv: list[str]) -> int:
    work = Path(tempfile.mkdtemp(prefix="mes-faults-run-"))
    figures_file, junit = work / "figures.jsonl", work / "junit.xml"
    env = {**os.environ, "MES_FAULTS_REPORT": str(figures_file)}
    started = time.monotonic()
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "faults", "tests/faults"]
    subprocess.run([*command, f"--junitxml={junit}", *argv], cwd=ROOT, env=env, check=False)
    figures = _figures(figures_file)
    results = _results(junit)
    print(f"\nFault scenarios ({time.monotonic() - started:.0f} s in all)")
    failed = 0
    for module, title in SCENARIOS.items():
        outcome = results.get(module)
        if outcome is None:
            continue
        failed += outcome != "PASS"
        print(f"  {outcome}  {title:<32} {json.dumps(figures.get(title, {}), ensure_ascii=False)}")
    return 1 if failed or not results else 0


def _figures(path: Path) -> dict:
    if not path.exists():
        return {}
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {row.pop("scenario"): row for row in rows}


def _results(junit: Path) -> dict[str, str]:
    if not junit.exists():
        return {}
    results = {}
    for case in ET.parse(junit).getroot().iter("testcase"):  # noqa: S314 - the file pytest just wrote
        module = case.get("classname", "").rsplit(".", 1)[-1]
        bad = case.find("failure") is not None or case.find("error") is not None
        skipped = case.find("skipped") is not None
        results[module] = "FAIL" if bad else ("SKIP" if skipped else "PASS")
    return results


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
