"""The dashboard's database aggregates equal the per-batch KPI functions on the same records (REP-2)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from reports import dashboard, kpis, sources
from reports.sources import Filters
from tests.reports.conftest import DAY

pytestmark = [pytest.mark.django_db, pytest.mark.req("REP-2")]


def test_dashboard_aggregates_match_the_kpi_functions(batches):
    f = Filters(DAY, DAY)
    facts = sources.batch_facts(sources.batch_queryset(f))
    assert dashboard.output_by_product(f) == kpis.output_vs_plan(facts, "product")
    rft = dashboard.right_first_time(f)
    expected = kpis.right_first_time(facts)
    assert (rft.finished, rft.right_first_time, rft.pct) == (expected.finished, expected.right_first_time, expected.pct)
    assert (rft.finished, rft.right_first_time) == (2, 1)


def test_dashboard_right_first_time_counts_linked_deviations(batches, users):
    from quality.services.deviations import Link, deviation_raise

    a1 = batches["A-1"]
    deviation_raise(user=users["qa"], title="t", description="d", links=[Link("batches.batch", a1.pk, a1.number)])
    f = Filters(DAY, DAY)
    rft = dashboard.right_first_time(f)
    assert (rft.finished, rft.right_first_time) == (2, 0)
    assert (
        rft.right_first_time == kpis.right_first_time(sources.batch_facts(sources.batch_queryset(f))).right_first_time
    )


def test_schedule_adherence_from_the_order_plan(batches, users):
    from audit.context import audit_context
    from orders.models import ProductionOrder, Recipe
    from tests.reports.conftest import at, save_dated

    with audit_context(action="test.setup"):
        for number, planned_end in (("A-1", at(14)), ("B-1", at(11))):
            batch = batches[number]
            recipe = Recipe.objects.create(product=batch.product, version=1 if number == "A-1" else 2, title="r",
                                           batch_size=100, unit="kg", author=users["planner"])  # fmt: skip
            order = ProductionOrder.objects.create(
                number=f"PO-{number}", product=batch.product, recipe=recipe, planned_quantity=100, unit="kg",
                planned_start=at(0), planned_end=planned_end, line=batch.line, created_by=users["planner"],
            )  # fmt: skip
            batch.order = order
            # The save writes a history row; the day's events are dated at fixed hours, which may lie
            # ahead of now (a run before noon). Date it after them, as it would be in a plant.
            save_dated(batch, at(23))
    f = Filters(DAY, DAY)
    now = timezone.now()
    result = dashboard.schedule_adherence(f, now)
    # A-1 completed 13:00, due 14:00 (on time); B-1 completed 12:00, due 11:00 (late)
    assert (result.due, result.on_time, result.late, result.pct) == (2, 1, 1, 50)
    assert result == kpis.schedule_adherence(sources.batch_facts(sources.batch_queryset(f)), now)


def test_dashboard_expiring_lots_count_as_the_inventory_report(plant, users):
    """The dashboard counts in the database what the near-expiry report lists: stock on hand,
    expiring today up to 30 days ahead; later lots do not count."""
    import datetime as dt

    from materials.services.lots import lot_receive
    from reports import builders

    today = timezone.localdate()
    product = plant["products"]["FG-A"]
    for days in (0, 30, 31, 10, 400):
        lot_receive(user=users["warehouse"], material=product, quantity="5", unit="kg", location=plant["wh"],
                    expiry_date=today + dt.timedelta(days=days))  # fmt: skip
    f = Filters(today, today)
    listed = kpis.near_expiry(sources.lot_rows(f), today, builders.EXPIRY_DAYS)
    assert len(listed) == 3
    assert dashboard.expiring_lot_count(today, builders.EXPIRY_DAYS) == len(listed)


def test_the_dashboard_aggregates_are_compiled_once(batches):
    """Issue 20: their SQL is kept per process (mes.prepared) and run with each period's bounds."""
    for day in (DAY, DAY - dt.timedelta(days=1)):
        dashboard.period_summary(Filters(day, day))
        dashboard.schedule_adherence(Filters(day, day), timezone.now())
    if connection.vendor == "postgresql":  # SQLite binds dates as text: the ORM answers there, uncompiled
        assert len(dashboard.SUMMARY._compiled) == len(dashboard.ADHERENCE._compiled) == 1
    assert dashboard.right_first_time(Filters(DAY - dt.timedelta(days=1), DAY - dt.timedelta(days=1))).finished == 0
