"""Operational qualification: the catalogue's test scripts run against this installation (in a scratch
database), each requirement ID with its tests, result and time; a requirement without a passing test,
a failing test, or a marker naming an unknown ID fails the OQ."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

from validation import scratch

CATALOGUE = Path(settings.BASE_DIR) / "docs" / "requirements-catalogue.md"
_ID = re.compile(r"^- ([A-Z]+-\d+) (.*)$")
# The services and page tests: safe on an installation. Not the fault drills (they stop PostgreSQL and
# Redis), not the browser tests (PQ runs the plant day), not the kit's own tests (they need a PostgreSQL
# superuser to break things), not the benchmarks.
DEFAULT_PATHS = ["tests/foundation", "tests/orders", "tests/batches", "tests/equipment", "tests/materials",
                 "tests/quality", "tests/reports", "tests/administration", "tests/integrations", "tests/redteam"]  # fmt: skip
DEFAULT_MARKERS = "not browser"


def catalogue(path: Path | None = None) -> list[tuple[str, str]]:
    text = (path or CATALOGUE).read_text(encoding="utf-8")
    return [m.groups() for raw in text.splitlines() if (m := _ID.match(raw))]


def run_oq(*, paths: list[str] | None = None, keyword: str = "", catalogue_path: Path | None = None) -> dict:
    """Run the selected tests in a scratch database and judge requirement coverage."""
    args = [*(paths or DEFAULT_PATHS), "-m", DEFAULT_MARKERS]
    if keyword:
        args += ["-k", keyword]
    run = scratch.run_tests(args)
    return {**judge(run, catalogue(catalogue_path)), "paths": paths or DEFAULT_PATHS, "keyword": keyword}


def judge_results(*, results: Path, catalogue_path: Path | None = None) -> dict:
    """Judge a suite run already made against this installation's code (CI's `make test` with
    `-p validation.pytest_plugin --qualify-json=PATH`) instead of running the tests a second time."""
    import json

    run = json.loads(results.read_text(encoding="utf-8"))
    run.setdefault("returncode", run.get("exitstatus"))
    seconds = sum(entry["seconds"] for entry in run.get("tests", {}).values())
    run.setdefault("seconds", round(seconds, 1))
    verdict = judge(run, catalogue(catalogue_path))
    return {**verdict, "paths": [f"results of an earlier run: {results}"], "keyword": ""}


def judge(run: dict, reqs: list[tuple[str, str]]) -> dict:
    """Requirement → tests → result, the failures and the gate's verdict."""
    tests = run.get("tests", {})
    by_req: dict[str, list[str]] = {}
    for nodeid, entry in tests.items():
        for rid in entry["reqs"]:
            by_req.setdefault(rid, []).append(nodeid)
    known = {rid for rid, _ in reqs}
    rows = [_row(rid, text, by_req.get(rid, []), tests) for rid, text in reqs]
    failed = sorted(n for n, e in tests.items() if e["outcome"] == "failed")
    unknown = sorted(set(by_req) - known)
    deviations = [f"{r['id']}: {r['status']}" for r in rows if r["status"] != "passed"]
    deviations += [f"{n}: failed" for n in failed] + [f"unknown requirement ID in a test marker: {u}" for u in unknown]
    if run.get("returncode") not in (0, None) and not failed and not tests:
        deviations.append(
            f"the test run did not complete (exit {run.get('returncode')}): {run.get('output', '')[-300:]}"
        )
    counts = {o: sum(1 for e in tests.values() if e["outcome"] == o) for o in ("passed", "failed", "skipped")}
    return {
        "passed": not deviations,
        "requirements": rows,
        "deviations": deviations,
        "counts": {**counts, "total": len(tests)},
        "seconds": run.get("seconds", 0),
        "scratch_database": run.get("scratch_database", ""),
        "output": run.get("output", "")[-1500:],
    }


def _row(rid: str, text: str, nodeids: list[str], tests: dict) -> dict:
    results = [{"test": n, "outcome": tests[n]["outcome"], "seconds": tests[n]["seconds"]} for n in sorted(nodeids)]
    outcomes = {r["outcome"] for r in results}
    if not results:
        status = "no test"
    elif "failed" in outcomes:
        status = "failed"
    elif "passed" not in outcomes:
        status = "no passing test"
    else:
        status = "passed"
    seconds = round(sum(r["seconds"] for r in results), 2)
    return {"id": rid, "text": text, "status": status, "tests": results, "seconds": seconds}
