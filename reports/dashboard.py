"""Plant dashboard figures computed by the database (aggregates, not one object per batch).

The dashboard must answer in well under a second over a month of 10,000 batches, so instead of
building a BatchFact per batch it asks PostgreSQL for sums and counts over the same batch set as
the reports (`sources.batch_queryset`). tests/reports/test_dashboard.py checks every figure equals
the per-batch KPI functions on the same records.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Count, Min, Q, Sum

from reports import kpis, sources
from reports.sources import Filters


def output_by_product(filters: Filters) -> list[kpis.OutputRow]:
    """Planned (batches) and produced (output ledger) per product, in two grouped queries."""
    from materials.models import LedgerEntry

    qs = sources.batch_queryset(filters)
    planned = {
        r["product__code"]: r
        for r in qs.values("product__code").annotate(n=Count("id"), planned=Sum("planned_quantity"))
    }
    produced = dict(
        LedgerEntry.objects.filter(entry_type="output", lot__produced_by__in=qs.values("id"))
        .values("lot__produced_by__product__code")
        .annotate(s=Sum("quantity"))
        .values_list("lot__produced_by__product__code", "s")
    )
    rows = []
    for code in sorted(planned):
        p = planned[code]
        actual = produced.get(code) or Decimal(0)
        rows.append(kpis.OutputRow(code, p["n"], p["planned"], actual, kpis._pct(actual, p["planned"])))
    return rows


def right_first_time(filters: Filters) -> kpis.RftResult:
    """Finished batches of the period and how many had neither a correction nor a deviation."""
    from django.apps import apps

    from batches.models import Batch

    finished = sources.batch_queryset(filters).filter(status__in=kpis.FINISHED_STATES)
    corrected = Batch.history.filter(status="correction_requested").values("id")
    bad = Q(id__in=corrected)
    try:
        link = apps.get_model("quality", "DeviationLink")
        linked = link.objects.filter(object_type="batches.batch").values("object_id")
        bad |= Q(id__in=linked.annotate(i=_int("object_id")).values("i"))
    except LookupError:
        pass
    counts = finished.aggregate(total=Count("id"), failed=Count("id", filter=bad))
    good = counts["total"] - counts["failed"]
    return kpis.RftResult(counts["total"], good, kpis._pct(good, counts["total"]))


def _int(field: str):
    from django.db.models import IntegerField
    from django.db.models.functions import Cast

    return Cast(field, IntegerField())


def schedule_adherence(filters: Filters, now: dt.datetime) -> kpis.AdherenceResult:
    """Batches with a planned end (their order's): on time, late, still open past it."""
    from batches.models import Batch

    qs = sources.batch_queryset(filters).filter(order__isnull=False)
    planned_end = dict(qs.values_list("id", "order__planned_end"))
    done = dict(
        Batch.history.filter(status="completed", id__in=qs.values("id"))
        .values("id")
        .annotate(t=Min("history_date"))
        .values_list("id", "t")
    )
    facts = [
        kpis.BatchFact(i, "", "", "", "", Decimal(0), planned_end=end, completed_at=done.get(i))
        for i, end in planned_end.items()
    ]
    return kpis.schedule_adherence(facts, now)
