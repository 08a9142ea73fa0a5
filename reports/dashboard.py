"""Plant dashboard figures computed by the database (aggregates, not one object per batch).

The dashboard must answer in well under a second over a month of 10,000 batches, so instead of
building a BatchFact per batch it asks PostgreSQL for sums and counts over the same batch set as
the reports (`sources.batch_queryset`). tests/reports/test_dashboard.py checks every figure equals
the per-batch KPI functions on the same records.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.apps import apps
from django.db.models import Count, IntegerField, Min, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Cast

from batches.models import Batch, EntryCorrection, HistoricalBatch
from mes.prepared import PreparedQuery
from reports import kpis, sources
from reports.sources import Filters


@dataclass
class PeriodSummary:
    """Output against plan per product and right-first-time of the period's batches."""

    output: list[kpis.OutputRow]
    rft: kpis.RftResult


def period_summary(filters: Filters) -> PeriodSummary:
    """Output per product and right-first-time, in one grouped query over the period's batch set.

    The batch set (`sources.batch_queryset`) is costly to find (first completion per batch from the
    history), so every figure is aggregated from one pass over it: per product the batch count,
    planned quantity, produced quantity (a correlated sum of the batch's output ledger entries) and
    the finished batches with and without a correction or a deviation.
    """
    output, total, failed = [], 0, 0
    for code, unit, n, planned, produced, finished, not_rft in _rows(SUMMARY, _summary_rows, filters):
        actual = produced or Decimal(0)
        output.append(kpis.OutputRow(code, n, planned, actual, kpis._pct(actual, planned), unit))
        total, failed = total + finished, failed + not_rft
    good = total - failed
    return PeriodSummary(output, kpis.RftResult(total, good, kpis._pct(good, total)))


def _summary_rows(filters) -> QuerySet:
    finished = Q(status__in=kpis.FINISHED_STATES)
    return (
        sources.batch_queryset(filters)
        .annotate(actual=sources.batch_output())
        .values("product__code", "unit")  # kilograms and pieces are never added up together
        .annotate(
            n=Count("id"),
            planned=Sum("planned_quantity"),
            produced=Sum("actual"),
            finished=Count("id", filter=finished),
            failed=Count("id", filter=finished & _not_right_first_time()),
        )
        .order_by("product__code", "unit")
        .values_list("product__code", "unit", "n", "planned", "produced", "finished", "failed")
    )


@dataclass(frozen=True)
class _Period:
    """What `sources.batch_queryset` reads of a Filters, the period given as instants (sentinels while
    a prepared query is compiled)."""

    start_dt: dt.datetime
    end_dt: dt.datetime
    product: str = ""
    line: str = ""


def _rows(prepared: PreparedQuery, build, filters: Filters, *more: dt.datetime) -> list[tuple]:
    """The rows of `build(filters, *more)`: compiled once per process for the whole plant (the
    dashboard's case); a product or line filter goes through the ORM as it is."""
    if filters.product or filters.line:
        return list(build(filters, *more))
    return prepared.rows("plant", filters.start_dt, filters.end_dt, *more)


def output_by_product(filters: Filters) -> list[kpis.OutputRow]:
    """Planned (batches) and produced (output ledger) per product."""
    return period_summary(filters).output


def right_first_time(filters: Filters) -> kpis.RftResult:
    """Finished batches of the period and how many had neither a correction nor a deviation."""
    return period_summary(filters).rft


def _not_right_first_time() -> Q:
    """Batches ever sent back for correction, with a corrected eBR entry, or linked to a deviation
    (what `sources.batch_facts` counts as corrections and deviations)."""
    bad = Q(id__in=HistoricalBatch.objects.filter(status="correction_requested").values("id"))
    bad |= Q(id__in=EntryCorrection.objects.values("batch_id"))
    try:
        link = apps.get_model("quality", "DeviationLink")
    except LookupError:
        return bad
    linked = link.objects.filter(object_type="batches.batch").values("object_id")
    return bad | Q(id__in=linked.annotate(i=_int("object_id")).values("i"))


def expiring_lot_count(today: dt.date, days: int) -> int:
    """Lots with stock on hand that expire within `days` (today is day 0), as `kpis.near_expiry` counts."""
    return (
        sources.lots_with_stock()
        .filter(expiry_date__gte=today, expiry_date__lte=today + dt.timedelta(days=days), stock__gt=0)
        .count()
    )


def _int(field: str):
    return Cast(field, IntegerField())


def schedule_adherence(filters: Filters, now: dt.datetime) -> kpis.AdherenceResult:
    """Batches with a planned end (their order's): on time, late, still open past it."""
    facts = [
        kpis.BatchFact(i, "", "", "", "", Decimal(0), planned_end=end, completed_at=done)
        for i, end, done in _rows(ADHERENCE, _adherence_rows, filters)
    ]
    return kpis.schedule_adherence(facts, now)


def _adherence_rows(filters) -> QuerySet:
    """Batches of the period with a planned end (their order's) and their first completion. One query:
    the completion is a correlated subquery, so the costly batch set is built once."""
    first_done = (
        HistoricalBatch.objects.filter(status="completed", id=OuterRef("pk"))
        .values("id")
        .annotate(t=Min("history_date"))
        .values("t")
    )
    return (
        sources.batch_queryset(filters)
        .filter(order__isnull=False)
        .annotate(done=Subquery(first_done))
        .values_list("id", "order__planned_end", "done")
    )


def _prepared(build) -> PreparedQuery:
    return PreparedQuery(Batch, lambda start, end, *more: build(_Period(start, end), *more))


# The dashboard's two costly aggregates, compiled once per process (mes.prepared).
SUMMARY = _prepared(_summary_rows)
ADHERENCE = _prepared(_adherence_rows)
