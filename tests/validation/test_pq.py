"""PQ without the DBA's bench connection records its key figures as not measured: a deviation, never a pass."""

from __future__ import annotations

from validation.pq import run_pq


def test_pq_without_a_bench_database_is_a_deviation(tmp_path, monkeypatch):
    monkeypatch.delenv("MES_BENCH_DATABASE_URL", raising=False)
    result = run_pq(tmp_path, skip_scenario=True)
    assert result["figures"] == {
        "measured": False,
        "sections": [],
        "note": "MES_BENCH_DATABASE_URL not set: figures not measured",
    }
    assert not result["passed"]
    assert result["deviations"] == ["key figures not measured: MES_BENCH_DATABASE_URL not set: figures not measured"]
