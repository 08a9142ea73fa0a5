"""The capacity run reads the servers' CPU over the window whose requests locust counts (from the
statistics' restart after the ramp to locust's exit), not over the whole run with its log-ins."""

from __future__ import annotations

import pytest

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
