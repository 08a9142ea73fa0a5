"""OQ judged from a suite run already made (CI's `make test` with the qualification plugin), including a
run on parallel workers, where the workers collect the tests and the controller writes the results."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from validation.oq import judge_results

SAMPLE = """
import pytest

@pytest.mark.req("AAA-1")
def test_one():
    assert 1 + 1 == 2

@pytest.mark.req("AAA-2")
def test_two():
    assert "two".upper() == "TWO"

def test_unmarked():
    assert True
"""


def _run_suite(tmp_path: Path, workers: int) -> Path:
    (tmp_path / "test_sample.py").write_text(SAMPLE, encoding="utf-8")
    results = tmp_path / "results.json"
    args = [sys.executable, "-m", "pytest", "-q", "-c", str(tmp_path / "none.ini"), "--rootdir", str(tmp_path),
            "-p", "no:django", "-p", "no:cacheprovider", "-p", "validation.pytest_plugin",
            f"--qualify-json={results}", str(tmp_path / "test_sample.py")]  # fmt: skip
    if workers:
        args += ["-n", str(workers)]
    (tmp_path / "none.ini").write_text("[pytest]\n", encoding="utf-8")
    done = subprocess.run(args, cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return results


def test_results_of_a_parallel_run_keep_each_tests_requirement_ids(tmp_path):
    results = _run_suite(tmp_path, workers=2)
    tests = json.loads(results.read_text())["tests"]
    assert {n.split("::")[1]: t["reqs"] for n, t in tests.items()} == {
        "test_one": ["AAA-1"],
        "test_two": ["AAA-2"],
        "test_unmarked": [],
    }
    assert {t["outcome"] for t in tests.values()} == {"passed"}


def test_judging_earlier_results_passes_covered_requirements_and_fails_a_gap(tmp_path):
    results = _run_suite(tmp_path, workers=0)
    catalogue = tmp_path / "catalogue.md"
    catalogue.write_text("- AAA-1 First.\n- AAA-2 Second.\n", encoding="utf-8")
    verdict = judge_results(results=results, catalogue_path=catalogue)
    assert verdict["passed"] and [r["status"] for r in verdict["requirements"]] == ["passed", "passed"]

    catalogue.write_text("- AAA-1 First.\n- AAA-2 Second.\n- AAA-3 Third, with no test.\n", encoding="utf-8")
    verdict = judge_results(results=results, catalogue_path=catalogue)
    assert not verdict["passed"] and "AAA-3: no test" in verdict["deviations"]
