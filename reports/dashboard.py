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
from django.db.models import Count, IntegerField, Min, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Cast

from batches.models import EntryCorrection, HistoricalBatch
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
    finished = Q(status__in=kpis.FINISHED_STATES)
    rows = (
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
    )
    output, total, failed = [], 0, 0
    for r in rows:
        actual = r["produced"] or Decimal(0)
        output.append(
            kpis.OutputRow(r["product__code"], r["n"], r["planned"], actual, kpis._pct(actual, r["planned"]), r["unit"])
        )
        total, failed = total + r["finished"], failed + r["failed"]
    good = total - failed
    return PeriodSummary(output, kpis.RftResult(total, good, kpis._pct(good, total)))


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
    # One query: each batch's first completion is a correlated subquery, so the costly batch set is
    # built and compiled once (it was twice: the batches, then their completions by batch id).
    first_done = (
        HistoricalBatch.objects.filter(status="completed", id=OuterRef("pk"))
        .values("id")
        .annotate(t=Min("history_date"))
        .values("t")
    )
    rows = (
        sources.batch_queryset(filters)
        .filter(order__isnull=False)
        .annotate(done=Subquery(first_done))
        .values_list("id", "order__planned_end", "done")
    )
    facts = [kpis.BatchFact(i, "", "", "", "", Decimal(0), planned_end=end, completed_at=done) for i, end, done in rows]
    return kpis.schedule_adherence(facts, now)
