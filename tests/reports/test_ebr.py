"""KPIs from the electronic batch record (batch execution, issue 7): step times, entry corrections,
critical parameter values for SPC, and the report generated at the batch's final disposition."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from audit.context import audit_context
from reports import builders, dashboard, kpis, sources
from reports.models import Report
from reports.sources import Filters
from tests.reports.conftest import DAY, at, move

pytestmark = [pytest.mark.django_db, pytest.mark.req("REP-1")]


def step(batch, number, title, expected, start_h, minutes):
    from batches.models import StepExecution

    with audit_context(action="test.step"):
        return StepExecution.objects.create(
            batch=batch, number=number, title=title, duration_minutes=expected, started_at=at(start_h),
            performed_at=at(start_h) + dt.timedelta(minutes=minutes),
        )  # fmt: skip


def test_step_cycle_times_from_step_executions(batches):
    step(batches["A-1"], 1, "Dispense", 30, 8, 25)
    step(batches["A-2"], 1, "Dispense", 30, 9, 35.5)
    step(batches["A-1"], 2, "Granulate", 60, 9, 90)
    data = builders.production(Filters(DAY, DAY))
    rows = data.table("steps").rows
    assert rows == [[1, "Dispense", 2, 30, D("30.3"), D("100.8")], [2, "Granulate", 1, 60, D("90.0"), D("150.0")]]


def test_a_corrected_entry_breaks_right_first_time(batches, users):
    from batches.models import Entry, EntryCorrection

    s = step(batches["A-1"], 1, "Dispense", 30, 8, 25)
    with audit_context(action="test.entry"):
        entry = Entry.objects.create(batch=batches["A-1"], step=s, kind="parameter", name="Weight", value="10")
        EntryCorrection.objects.create(batch=batches["A-1"], entry=entry, old_value="10", new_value="11",
                                       corrected_by=users["operator"], corrected_at=at(9), reason="typo")  # fmt: skip
    facts = {f.number: f for f in sources.batch_facts(sources.batch_queryset(Filters(DAY, DAY)))}
    assert facts["A-1"].corrections == 1
    assert kpis.right_first_time(facts.values()).right_first_time == 0
    assert dashboard.right_first_time(Filters(DAY, DAY)).right_first_time == 0  # the plant dashboard agrees


@pytest.mark.req("BAT-15")
def test_release_generates_the_batch_report(batches, django_capture_on_commit_callbacks):
    b1 = batches["B-1"]
    move(b1, "reviewed", at(12.5))
    move(b1, "qc_released", at(12.6))
    with django_capture_on_commit_callbacks(execute=True):
        move(b1, "released", at(12.7))
    assert Report.objects.filter(kind="batch", batch=b1).count() == 1


@pytest.mark.req("REP-2")
def test_spc_charts_the_values_recorded_in_the_ebr(batches, users):
    from batches.models import Entry
    from orders.models import ProcessParameter, Recipe, RecipeStep

    a1 = batches["A-1"]
    with audit_context(action="test.setup"):
        recipe = Recipe.objects.create(product=a1.product, version=1, title="r", batch_size=100, unit="kg",
                                       author=users["planner"], status="effective")  # fmt: skip
        rstep = RecipeStep.objects.create(recipe=recipe, number=1, title="Granulate", instruction="i")
        ProcessParameter.objects.create(step=rstep, name="Inlet temp", unit="°C", minimum=D("8"), maximum=D("13"),
                                        critical=True)  # fmt: skip
        a1.recipe = recipe
        a1.save()
    s = step(a1, 1, "Granulate", 30, 8, 25)
    with audit_context(action="test.entry"):
        for i, v in enumerate(["10", "12", "11", "13", "12"]):
            Entry.objects.create(batch=a1, step=s, kind="parameter", name="Inlet temp", value=v, numeric_value=D(v),
                                 entered_at=at(8) + dt.timedelta(minutes=i))  # fmt: skip
    data = builders.spc(Filters(DAY, DAY))
    (row,) = data.table("spc").rows
    # mean 11.6, MR-bar 1.5, sigma 1.3298; Cp = 5 / (6 sigma) = 0.63; Cpk = (13 - 11.6) / (3 sigma) = 0.35
    assert row[1:] == [5, 11.6, round(11.6 - 3 * 1.5 / 1.128, 3), round(11.6 + 3 * 1.5 / 1.128, 3), 0.63, 0.35, 0]
    assert len(data.charts) == 1 and "LSL" in str(data.charts[0])
