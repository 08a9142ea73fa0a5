"""Key performance indicators: each one a small pure function over rows read from the records.

The loaders in `reports.sources` turn database records into the plain rows below (one query per
kind of record, whatever the number of batches); the functions here only compute, so each one is
tested on a hand-computed data set (tests/reports/test_kpis.py). Nothing is typed in by a person.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

# A batch counts as "closed" for right-first-time once its record has been reviewed and decided.
FINISHED_STATES = ("reviewed", "qc_released", "released", "rejected", "closed", "archived")


@dataclass
class BatchFact:
    """What the reports need to know about one batch, read from its records."""

    id: int
    number: str
    product: str
    line: str
    status: str
    planned: Decimal
    actual: Decimal | None = None  # output booked to the batch's output lot (materials ledger)
    unit: str = ""
    started_at: dt.datetime | None = None  # first time the batch went "in progress"
    completed_at: dt.datetime | None = None  # first time it was "completed"
    closed_at: dt.datetime | None = None
    planned_end: dt.datetime | None = None  # the order's planned end
    recipe_minutes: int | None = None  # sum of the recipe steps' expected durations
    corrections: int = 0  # times the record was sent back for correction
    deviations: int = 0  # deviations linked to the batch
    yield_min: Decimal | None = None
    yield_max: Decimal | None = None


def _pct(part, whole) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _group(facts: Iterable[BatchFact], key: Callable[[BatchFact], Any]) -> dict[Any, list[BatchFact]]:
    groups: dict[Any, list[BatchFact]] = defaultdict(list)
    for f in facts:
        groups[key(f)].append(f)
    return dict(sorted(groups.items()))


KEYS: dict[str, Callable[[BatchFact], str]] = {
    "product": lambda f: f.product,
    "line": lambda f: f.line or "—",
    "batch": lambda f: f.number,
}


@dataclass
class OutputRow:
    key: str
    batches: int
    planned: Decimal
    actual: Decimal
    pct: Decimal | None
    unit: str = ""


def _by_unit(by: str) -> Callable[[BatchFact], tuple[str, str]]:
    """Group by product / line and by unit: kilograms and pieces are never added up together."""
    return lambda f: (KEYS[by](f), f.unit)


def output_vs_plan(facts: Iterable[BatchFact], by: str = "product") -> list[OutputRow]:
    """Planned against produced quantity per product / line; a batch without output counts 0."""
    rows = []
    for (key, unit), group in _group(facts, _by_unit(by)).items():
        planned = sum((f.planned for f in group), Decimal(0))
        actual = sum((f.actual or Decimal(0) for f in group), Decimal(0))
        rows.append(OutputRow(key, len(group), planned, actual, _pct(actual, planned), unit))
    return rows


@dataclass
class YieldRow:
    key: str
    batches: int
    planned: Decimal
    actual: Decimal
    yield_pct: Decimal | None
    out_of_limits: int = 0
    unit: str = ""


def batch_yield(fact: BatchFact) -> Decimal | None:
    """Actual output / planned quantity in %, or None while the batch has no output."""
    if fact.actual is None:
        return None
    return _pct(fact.actual, fact.planned)


def yields(facts: Iterable[BatchFact], by: str = "batch") -> list[YieldRow]:
    """Yield per batch / product / line over batches that have output: sum(actual) / sum(planned)."""
    rows = []
    for (key, unit), group in _group((f for f in facts if f.actual is not None), _by_unit(by)).items():
        planned = sum((f.planned for f in group), Decimal(0))
        actual = sum((f.actual for f in group), Decimal(0))
        outside = 0
        for f in group:
            y = batch_yield(f)
            if f.yield_min is not None and (y < f.yield_min or (f.yield_max is not None and y > f.yield_max)):
                outside += 1
        rows.append(YieldRow(key, len(group), planned, actual, _pct(actual, planned), outside, unit))
    return rows


@dataclass
class RftResult:
    finished: int
    right_first_time: int
    pct: Decimal | None
    failed: list[str] = field(default_factory=list)


def right_first_time(facts: Iterable[BatchFact]) -> RftResult:
    """Finished batches with no deviation and never sent back for correction, over finished batches."""
    finished = [f for f in facts if f.status in FINISHED_STATES]
    failed = [f.number for f in finished if f.corrections or f.deviations]
    good = len(finished) - len(failed)
    return RftResult(len(finished), good, _pct(good, len(finished)), sorted(failed))


@dataclass
class CycleRow:
    number: str
    product: str
    actual_min: int
    recipe_min: int | None
    ratio_pct: Decimal | None


def cycle_times(facts: Iterable[BatchFact]) -> list[CycleRow]:
    """Batch cycle time (start to completion, minutes) against the recipe's expected minutes."""
    rows = []
    for f in facts:
        if f.started_at and f.completed_at:
            minutes = int((f.completed_at - f.started_at).total_seconds() // 60)
            rows.append(CycleRow(f.number, f.product, minutes, f.recipe_minutes, _pct(minutes, f.recipe_minutes)))
    return sorted(rows, key=lambda r: r.number)


@dataclass
class StepTime:
    """One executed step (from the eBR): recipe step number/title, expected and actual minutes."""

    step: int
    title: str
    expected_min: int
    actual_min: float


@dataclass
class StepCycleRow:
    step: int
    title: str
    executions: int
    expected_min: int
    mean_actual_min: Decimal
    ratio_pct: Decimal | None


def step_cycle_times(times: Iterable[StepTime]) -> list[StepCycleRow]:
    """Mean actual minutes per recipe step against its expected duration."""
    groups: dict[tuple[int, str], list[StepTime]] = defaultdict(list)
    for t in times:
        groups[(t.step, t.title)].append(t)
    rows = []
    for (step, title), items in sorted(groups.items()):
        mean = Decimal(str(sum(t.actual_min for t in items))) / len(items)
        expected = items[0].expected_min
        rounded = mean.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        rows.append(StepCycleRow(step, title, len(items), expected, rounded, _pct(mean, expected)))
    return rows


@dataclass
class AdherenceResult:
    due: int
    on_time: int
    late: int
    open_overdue: int
    pct: Decimal | None


def schedule_adherence(facts: Iterable[BatchFact], now: dt.datetime) -> AdherenceResult:
    """Batches due in the period (order planned end) completed by their planned end.

    A batch still running after its planned end counts as overdue (not on time); a batch not yet
    due and not completed does not count.
    """
    on_time = late = overdue = 0
    for f in facts:
        if f.planned_end is None:
            continue
        if f.completed_at is not None:
            if f.completed_at <= f.planned_end:
                on_time += 1
            else:
                late += 1
        elif f.planned_end < now:
            overdue += 1
    due = on_time + late + overdue
    return AdherenceResult(due, on_time, late, overdue, _pct(on_time, due))


@dataclass
class DeviationFact:
    number: str
    classification: str
    cause: str  # the deviation's source category (parameter, OOS, yield, equipment, scan, manual)
    status: str


@dataclass
class DeviationMatrix:
    classes: list[str]
    causes: list[str]
    counts: dict[tuple[str, str], int]
    by_class: dict[str, int]
    by_cause: dict[str, int]
    total: int


def deviations_by_class_and_cause(devs: Iterable[DeviationFact], classes: list[str]) -> DeviationMatrix:
    """Counts per classification, per cause and in the class x cause matrix."""
    counts: dict[tuple[str, str], int] = defaultdict(int)
    by_class: dict[str, int] = dict.fromkeys(classes, 0)
    by_cause: dict[str, int] = defaultdict(int)
    total = 0
    for d in devs:
        counts[(d.classification, d.cause)] += 1
        by_class[d.classification] = by_class.get(d.classification, 0) + 1
        by_cause[d.cause] += 1
        total += 1
    return DeviationMatrix(classes, sorted(by_cause), dict(counts), by_class, dict(sorted(by_cause.items())), total)


@dataclass
class ExpiryRow:
    lot: str
    material: str
    expiry: dt.date
    days_left: int
    stock: Decimal
    unit: str


def near_expiry(lots: Iterable[tuple[str, str, dt.date, Decimal, str]], today: dt.date, days: int) -> list[ExpiryRow]:
    """Lots with stock that expire within `days` (today counts as day 0), soonest first."""
    rows = []
    for code, material, expiry, stock, unit in lots:
        left = (expiry - today).days
        if 0 <= left <= days and stock > 0:
            rows.append(ExpiryRow(code, material, expiry, left, stock, unit))
    return sorted(rows, key=lambda r: (r.expiry, r.lot))
