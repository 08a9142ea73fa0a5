"""The capacity run reads the servers' CPU over the window whose requests locust counts (from the
statistics' restart after the ramp to locust's exit), not over the whole run with its log-ins."""

from __future__ import annotations

import json

import pytest

from bench import run as bench_run
from bench.load import capacity
from bench.load import run_load as rl


def _sampler(points):
    sampler = rl.LoadSampler(web_pgid=None)
    sampler.timeline = list(points)
    return sampler


def test_cpu_over_a_window_is_read_between_the_timeline_points():
    # wall time, gunicorn CPU so far, PostgreSQL CPU so far: 0.5 and 0.2 cores from t=100 to t=110
    sampler = _sampler([(100.0, 10.0, 4.0), (104.0, 12.0, 4.8), (110.0, 15.0, 6.0)])
    web, database = sampler.cpu_between(102.0, 110.0)
    assert web == pytest.approx(4.0) and database == pytest.approx(1.6)
    assert sampler.cpu_between(99.0, 110.0) is None  # before the first point: not covered
    assert sampler.cpu_between(102.0, 111.0) is None
    assert _sampler([(100.0, 1.0, 1.0)]).cpu_between(100.0, 100.0) is None


def test_a_step_reports_cpu_per_counted_request_only_with_its_mark(tmp_path):
    sampler = _sampler([(100.0, 10.0, 4.0), (110.0, 15.0, 6.0)])
    mark = tmp_path / "counting-since"
    assert capacity._counted_cpu(sampler, mark, 100) is None  # locust never restarted its figures
    mark.write_text("105.0", encoding="ascii")
    counted = capacity._counted_cpu(sampler, mark, 100)
    assert counted["web_ms"] == pytest.approx(25.0) and counted["db_ms"] == pytest.approx(10.0)
    assert counted["web_cores"] == pytest.approx(0.5) and counted["db_cores"] == pytest.approx(0.2)
    assert "gunicorn 25.0 ms and PostgreSQL 10.0 ms of CPU per request" in capacity._counted_note(counted)


def _step(operators, rps, passed, p95=120.0):
    return {"operators": operators, "rps": rps, "requests": int(rps * 60), "failures": 0 if passed else 3,
            "p95_worst": p95, "p95_worst_name": "step: sign performed", "load": [4.0], "passed": passed}  # fmt: skip


def test_the_knee_meets_the_goal_on_operators_and_reports_each_ones_requests_beside_it():
    chain, counts = (True, "intact"), {"events": 10}
    met = capacity.figures(
        [_step(350, 65.1, True), _step(400, 74.1, True), _step(450, 80.0, False, 900.0)], chain, counts
    )
    knee = next(f for f in met if f.name.startswith("Capacity knee"))
    assert knee.value == 400 and knee.met
    assert "0.19 req/s an operator" in knee.note and "0.37 req/s each" in knee.note
    assert "(450 operators) failed: p95 900 ms" in knee.note
    short = capacity.figures([_step(350, 65.1, True), _step(400, 74.1, False, 310.0)], chain, counts)
    assert not next(f for f in short if f.name.startswith("Capacity knee")).met  # 350 is short of the goal
    assert not next(
        f for f in capacity.figures([_step(50, 9.0, False)], chain, counts) if f.name.startswith("Capacity")
    ).met


def test_a_sections_notes_survive_a_new_run_of_its_figures(tmp_path, monkeypatch):
    monkeypatch.setattr(bench_run, "RESULTS", tmp_path / "benchmarks.json")
    monkeypatch.setattr(bench_run, "ROOT", tmp_path)
    (tmp_path / "docs").mkdir()
    chain, counts = (True, "intact"), {"events": 10}
    bench_run.write_report([(capacity.TITLE, capacity.figures([_step(300, 55.0, True)], chain, counts))])
    stored = json.loads((tmp_path / "benchmarks.json").read_text(encoding="utf-8"))
    stored[capacity.TITLE]["notes"] = "Run with --steps 300 on a fresh seed."
    (tmp_path / "benchmarks.json").write_text(json.dumps(stored), encoding="utf-8")
    bench_run.write_report([(capacity.TITLE, capacity.figures([_step(400, 74.0, True)], chain, counts))])
    page = (tmp_path / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    assert "| 400.00 operators |" in page and "| 300.00 operators |" not in page
    assert page.index("Run with --steps 300 on a fresh seed.") > page.index(
        "| Audit chain intact after the capacity run"
    )
