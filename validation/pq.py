"""Performance qualification: the plant-day scenario in a real browser (Chromium) with its screenshots,
run in a scratch database, and the key figures (operator step page, genealogy trace, PDF time) measured
on this hardware against the documented targets (bench/)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from django.conf import settings

from validation import scratch

SCENARIO = ["tests/plantday"]
# bench modules with the figures the issue names: step page and batch PDF; genealogy trace.
FIGURE_MODULES = ["bench_batches", "bench_materials"]


def run_scenario(evidence: Path, paths: list[str] | None = None) -> dict:
    """The plant day in headless Chromium; its screenshots are copied into the evidence folder."""
    shots = evidence / "pq-screenshots"
    shutil.rmtree(shots, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix="mes-pq-shots-") as tmp:
        run = scratch.run_tests([*(paths or SCENARIO)], artifacts=Path(tmp))
        pngs = sorted(Path(tmp).rglob("*.png"))
        shots.mkdir(parents=True, exist_ok=True)
        for png in pngs:
            shutil.copy(png, shots / png.name)
    tests = run.get("tests", {})
    failed = sorted(n for n, e in tests.items() if e["outcome"] != "passed")
    passed = bool(tests) and not failed and run.get("returncode") == 0
    return {
        "passed": passed,
        "tests": tests,
        "failed": failed,
        "seconds": run.get("seconds"),
        "screenshots": [f"pq-screenshots/{p.name}" for p in pngs],
        "output": run.get("output", "")[-1500:] if not passed else "",
    }


def run_figures(modules: list[str] | None = None, url: str = "") -> dict:
    """Measure the key figures with bench/ in a scratch database on the DBA's server connection."""
    url = url or os.environ.get("MES_BENCH_DATABASE_URL", "")
    if not url:
        return {"measured": False, "sections": [], "note": "MES_BENCH_DATABASE_URL not set: figures not measured"}
    with tempfile.TemporaryDirectory(prefix="mes-pq-fig-") as tmp:
        out = Path(tmp) / "figures.json"
        proc = subprocess.run([sys.executable, "-m", "validation.pq_bench", str(out), url, *(modules or FIGURE_MODULES)],
                              cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=4 * 3600)  # fmt: skip
        if proc.returncode or not out.exists():
            return {"measured": False, "sections": [], "note": (proc.stdout + proc.stderr)[-800:]}
        return {"measured": True, "sections": json.loads(out.read_text()), "note": ""}


def run_pq(evidence: Path, *, scenario: list[str] | None = None, modules: list[str] | None = None,
           skip_scenario: bool = False, skip_figures: bool = False) -> dict:  # fmt: skip
    result = {"scenario": None, "figures": None}
    if not skip_scenario:
        result["scenario"] = run_scenario(evidence, scenario)
    if not skip_figures:
        result["figures"] = run_figures(modules)
    deviations = []
    if result["scenario"] and not result["scenario"]["passed"]:
        deviations.append("plant-day scenario failed: " + ", ".join(result["scenario"]["failed"])[:300])
    figures = result["figures"]
    if figures is not None and not figures["measured"]:
        deviations.append("key figures not measured: " + figures["note"][:300])
    for section in (figures or {}).get("sections", []):
        deviations += [f"{f['name']}: {f['value']:.2f} {f['unit']} (target {f['target']})"
                       for f in section["figures"] if not f["met"]]  # fmt: skip
    return {**result, "deviations": deviations, "passed": not deviations}
