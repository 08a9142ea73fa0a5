"""KPI selectors on hand-computed data sets (REP-1, REP-2)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from reports import kpis
from reports.kpis import BatchFact, DeviationFact, StepTime

pytestmark = [pytest.mark.req("REP-1"), pytest.mark.req("REP-2")]

T0 = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)


def h(hours: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


@pytest.fixture
def facts():
    # product A on L1: 2 batches, planned 100 + 200, produced 97 + 190 (97 %, 95 %)
    # product B on L2: planned 50, produced 40 (80 %, below its 90 % limit); one more B batch without output.
    return [
        BatchFact(1, "A-1", "A", "L1", "closed", D("100"), D("97"), started_at=h(0), completed_at=h(5),
                  planned_end=h(6), recipe_minutes=240, yield_min=D("95"), yield_max=D("100")),
        BatchFact(2, "A-2", "A", "L1", "released", D("200"), D("190"), started_at=h(1), completed_at=h(9),
                  planned_end=h(8), recipe_minutes=240, corrections=1, yield_min=D("95"), yield_max=D("100")),
        BatchFact(3, "B-1", "B", "L2", "closed", D("50"), D("40"), started_at=h(2), completed_at=h(4),
                  planned_end=h(4), recipe_minutes=100, deviations=2, yield_min=D("90"), yield_max=D("100")),
        BatchFact(4, "B-2", "B", "L2", "in_progress", D("50"), None, started_at=h(3), planned_end=h(5)),
        BatchFact(5, "B-3", "B", "L2", "planned", D("50"), None, planned_end=h(30)),
    ]  # fmt: skip


def test_output_vs_plan_per_product_and_line(facts):
    rows = {r.key: r for r in kpis.output_vs_plan(facts, "product")}
    assert (rows["A"].batches, rows["A"].planned, rows["A"].actual, rows["A"].pct) == (2, D(300), D(287), D("95.7"))
    # B: 40 of 150 planned (two batches without output count 0) = 26.7 %
    assert (rows["B"].batches, rows["B"].planned, rows["B"].actual, rows["B"].pct) == (3, D(150), D(40), D("26.7"))
    assert [r.key for r in kpis.output_vs_plan(facts, "line")] == ["L1", "L2"]


def test_yield_per_batch_product_and_line(facts):
    per_batch = {r.key: r.yield_pct for r in kpis.yields(facts, "batch")}
    assert per_batch == {"A-1": D("97.0"), "A-2": D("95.0"), "B-1": D("80.0")}  # batches without output left out
    per_product = {r.key: (r.yield_pct, r.out_of_limits) for r in kpis.yields(facts, "product")}
    assert per_product == {"A": (D("95.7"), 0), "B": (D("80.0"), 1)}  # 287/300; B-1 below 90 %
    assert {r.key: r.yield_pct for r in kpis.yields(facts, "line")} == {"L1": D("95.7"), "L2": D("80.0")}


def test_right_first_time_counts_corrections_and_deviations(facts):
    rft = kpis.right_first_time(facts)
    # finished, B-1; A-2 was sent back for correction, B-1 has deviations -> 1 of 3
    assert (rft.finished, rft.right_first_time, rft.pct, rft.failed) == (3, 1, D("33.3"), ["A-2", "B-1"])


def test_cycle_time_against_recipe(facts):
    rows = {r.number: (r.actual_min, r.recipe_min, r.ratio_pct) for r in kpis.cycle_times(facts)}
    assert rows == {"A-1": (300, 240, D("125.0")), "A-2": (480, 240, D("200.0")), "B-1": (120, 100, D("120.0"))}


def test_step_cycle_time_mean_against_expected():
    rows = kpis.step_cycle_times(
        [StepTime(1, "Dispense", 30, 25), StepTime(1, "Dispense", 30, 35.5), StepTime(2, "Granulate", 60, 90)]
    )
    assert [(r.step, r.executions, r.mean_actual_min, r.ratio_pct) for r in rows] == [
        (1, 2, D("30.3"), D("100.8")),  # (25 + 35.5) / 2 = 30.25 -> 30.3 ; 30.3 / 30
        (2, 1, D("90.0"), D("150.0")),
    ]


def test_schedule_adherence(facts):
    result = kpis.schedule_adherence(facts, now=h(10))
    # A-1 on time (5 <= 6), A-2 late (9 > 8), B-1 on time (4 <= 4), B-2 overdue (due 5, now 10), B-3 not due
    assert (result.due, result.on_time, result.late, result.open_overdue, result.pct) == (4, 2, 1, 1, D("50.0"))


def test_deviations_by_class_and_cause():
    devs = [
        DeviationFact("D1", "minor", "manual", "open"),
        DeviationFact("D2", "major", "parameter", "closed"),
        DeviationFact("D3", "major", "parameter", "open"),
        DeviationFact("D4", "critical", "equipment", "open"),
        DeviationFact("D5", "minor", "parameter", "open"),
    ]
    m = kpis.deviations_by_class_and_cause(devs, ["minor", "major", "critical"])
    assert m.total == 5
    assert m.by_class == {"minor": 2, "major": 2, "critical": 1}
    assert m.by_cause == {"equipment": 1, "manual": 1, "parameter": 3}
    assert m.counts[("major", "parameter")] == 2 and ("critical", "manual") not in m.counts


def test_inventory_near_expiry():
    today = dt.date(2026, 3, 1)
    lots = [
        ("L-1", "RM-1", dt.date(2026, 3, 1), D("5"), "kg"),  # today: 0 days left
        ("L-2", "RM-1", dt.date(2026, 3, 31), D("1"), "kg"),  # 30 days: inside
        ("L-3", "RM-2", dt.date(2026, 4, 1), D("1"), "kg"),  # 31 days: outside
        ("L-4", "RM-2", dt.date(2026, 2, 28), D("1"), "kg"),  # already expired: not "near"
        ("L-5", "RM-2", dt.date(2026, 3, 10), D("0"), "kg"),  # no stock
    ]
    rows = kpis.near_expiry(lots, today, 30)
    assert [(r.lot, r.days_left) for r in rows] == [("L-1", 0), ("L-2", 30)]
