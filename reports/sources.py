"""Loaders: read the records other apps own and turn them into the plain rows of `reports.kpis`.

Where each figure comes from (no manual re-entry anywhere):
- planned quantity, product, line, recipe: the batch (created from the released order, ORD-6);
- actual output: the batch's output lot in the materials ledger (`lot_create_output`, entry "output");
- start / completion / closing time and "sent back for correction": the batch's own history
  (simple-history versions written by every audited save, including each state transition);
- planned end: the production order; recipe minutes: the recipe steps' expected durations;
- deviations: quality deviations linked to the batch (`DeviationLink`, object_type "batches.batch");
- per-step actual times and entry corrections: the eBR (batches.StepExecution, EntryCorrection);
- critical parameter values for SPC: the eBR entries, else the equipment tag readings.

Every loader runs a fixed number of queries whatever the number of batches.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.apps import apps
from django.db import connections, router
from django.db.models import CharField, Count, DecimalField, IntegerField, Min, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from audit.models import AuditEvent
from audit.prepared import prepared_cursor
from batches.models import Batch, Entry, EntryCorrection, HistoricalBatch, StepExecution
from equipment.models import TagReading
from materials.models import LedgerEntry, Lot, LotStatus
from orders.models import ProcessParameter, RecipeStep
from reports.kpis import BatchFact, DeviationFact, StepTime


@dataclass
class Filters:
    """The filters every report page offers: a period (dates, inclusive), a product, a line."""

    start: dt.date
    end: dt.date
    product: str = ""  # material code
    line: str = ""  # line code

    @property
    def start_dt(self) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(self.start, dt.time.min))

    @property
    def end_dt(self) -> dt.datetime:
        """Exclusive end: midnight after the last day."""
        return timezone.make_aware(dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min))

    def as_dict(self) -> dict:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "product": self.product,
            "line": self.line,
        }


def _history_times(batches) -> dict[int, dict]:
    """First time in progress / completed / closed and the number of send-backs, per batch of the
    `batches` queryset (filtered by a subquery in the database: no list of ids travels)."""
    rows = (
        HistoricalBatch.objects.filter(id__in=batches.values("id"))
        .values("id")
        .annotate(
            started=Min("history_date", filter=Q(status="in_progress")),
            completed=Min("history_date", filter=Q(status="completed")),
            closed=Min("history_date", filter=Q(status="closed")),
            corrections=Count("history_id", filter=Q(status="correction_requested")),
        )
    )
    return {r["id"]: r for r in rows}


def _as_text_ids(batches):
    """The ids of a batch queryset as a subquery of text, to match `DeviationLink.object_id` (a
    generic varchar key)."""
    return batches.annotate(text_id=Cast("id", CharField())).values("text_id")


def _deviation_counts(batches, ids: list[int]) -> dict[int, int]:
    """Deviations linked to each batch of the `batches` queryset, whose ids are `ids` (none while
    quality has none).

    On PostgreSQL the ids go as one array parameter, bound on the server. As a subquery, the batch set
    was planned as the inner side of a nested loop whenever the small link table's statistics said it
    held a row or so: the period's whole batch set (10,000 batches, its first completions read from the
    history) was then evaluated again for every link, 814 ms of the database for one production report;
    the count by ids runs in about 1 ms. SQLite has no arrays: there it stays a subquery."""
    try:
        link = apps.get_model("quality", "DeviationLink")
    except LookupError:
        return {}
    alias = router.db_for_read(link)
    if connections[alias].vendor != "postgresql":
        rows = (
            link.objects.filter(object_type="batches.batch", object_id__in=_as_text_ids(batches))
            .values_list("object_id")
            .annotate(n=Count("deviation_id", distinct=True))
        )
        return {int(object_id): n for object_id, n in rows}
    if not ids:
        return {}
    with prepared_cursor(alias) as cursor:
        cursor.execute(_LINKED_DEVIATIONS.format(table=link._meta.db_table), ["batches.batch", [str(i) for i in ids]])
        return {int(object_id): n for object_id, n in cursor.fetchall()}


_LINKED_DEVIATIONS = (
    "SELECT object_id, COUNT(DISTINCT deviation_id) FROM {table}"
    " WHERE object_type = %s AND object_id = ANY(%s) GROUP BY object_id"
)


def completed_ids(filters: Filters):
    """Ids of batches that first reached "completed" inside the period (a subquery, not a list)."""
    # HistoricalBatch.objects, not Batch.history: simple_history builds a new manager class on each
    # access of that descriptor (inspect.getmembers), a measurable share of the reports page (issue 20).
    return (
        HistoricalBatch.objects.filter(status="completed")
        .values("id")
        .annotate(first=Min("history_date"))
        .filter(first__gte=filters.start_dt, first__lt=filters.end_dt)
        .values("id")
    )


def batch_queryset(filters: Filters):
    """Batches of the period: completed in it, or (never completed) due in it by their order's plan."""
    ever_completed = HistoricalBatch.objects.filter(status="completed").values("id")
    qs = Batch.objects.filter(
        Q(id__in=completed_ids(filters))
        | (
            Q(order__planned_end__gte=filters.start_dt, order__planned_end__lt=filters.end_dt)
            & ~Q(id__in=ever_completed)
        )
    )
    if filters.product:
        qs = qs.filter(product__code=filters.product)
    if filters.line:
        qs = qs.filter(line__code=filters.line)
    return qs


def batch_output() -> Subquery:
    """Per batch (the outer query's row): the quantity its output ledger entries produced."""
    produced = (
        LedgerEntry.objects.filter(lot__produced_by=OuterRef("pk"), entry_type="output")
        .values("lot__produced_by")
        .annotate(s=Sum("quantity"))
        .values("s")
    )
    return Subquery(produced, output_field=DecimalField(max_digits=14, decimal_places=3))


def batch_facts(qs) -> list[BatchFact]:
    """One BatchFact per batch of `qs`, in five queries."""
    minutes = (
        RecipeStep.objects.filter(recipe=OuterRef("recipe_id"), removed=False)
        .values("recipe")
        .annotate(s=Sum("duration_minutes"))
        .values("s")
    )
    rows = list(
        qs.annotate(
            actual=batch_output(),
            recipe_minutes=Subquery(minutes, output_field=IntegerField()),
        )
        .order_by("number")
        .values(
            "id",
            "number",
            "product__code",
            "line__code",
            "status",
            "planned_quantity",
            "unit",
            "actual",
            "recipe_minutes",
            "order__planned_end",
            "recipe__yield_min",
            "recipe__yield_max",
        )
    )
    # The per-batch figures below filter by `qs` as a subquery: sending 10,000 ids back to the
    # database as a list of parameters cost more than the queries themselves (issue 9). The deviation
    # count takes them as one array (see _deviation_counts).
    times = _history_times(qs)
    devs = _deviation_counts(qs, [r["id"] for r in rows])
    entry_fixes = _entry_corrections(qs)
    facts = []
    for r in rows:
        t = times.get(r["id"], {})
        facts.append(
            BatchFact(
                id=r["id"], number=r["number"], product=r["product__code"], line=r["line__code"] or "",
                status=r["status"], planned=r["planned_quantity"], actual=r["actual"], unit=r["unit"],
                started_at=t.get("started"), completed_at=t.get("completed"), closed_at=t.get("closed"),
                planned_end=r["order__planned_end"], recipe_minutes=r["recipe_minutes"],
                corrections=t.get("corrections", 0) + entry_fixes.get(r["id"], 0), deviations=devs.get(r["id"], 0),
                yield_min=r["recipe__yield_min"], yield_max=r["recipe__yield_max"],
            )
        )  # fmt: skip
    return facts


def deviation_facts(filters: Filters) -> list[DeviationFact]:
    """Deviations raised in the period (empty until the quality app provides `Deviation`)."""
    try:
        model = apps.get_model("quality", "Deviation")
    except LookupError:
        return []
    qs = model.objects.filter(raised_at__gte=filters.start_dt, raised_at__lt=filters.end_dt)
    if filters.product or filters.line:
        # Only deviations linked to a batch of the product / line.

        batches = Batch.objects.all()
        if filters.product:
            batches = batches.filter(product__code=filters.product)
        if filters.line:
            batches = batches.filter(line__code=filters.line)
        qs = qs.filter(links__object_type="batches.batch", links__object_id__in=_as_text_ids(batches)).distinct()
    return [
        DeviationFact(n, c, s, st)
        for n, c, s, st in qs.order_by("number").values_list("number", "classification", "source", "status")
    ]


def deviation_classes() -> list[str]:
    return list(deviation_labels("classification"))


def deviation_labels(field: str) -> dict[str, str]:
    """{value: label} of the deviation's classification or source (its cause category)."""
    try:
        model = apps.get_model("quality", "Deviation")
    except LookupError:
        return {}
    return {value: str(label) for value, label in model._meta.get_field(field).choices}


def step_times(batches) -> list[StepTime]:
    """Actual minutes of each executed step of `batches` (a batch queryset), from the eBR: started
    (`started_at`) to performed (`performed_at`) of `batches.StepExecution`, against the step's
    expected duration (copied from the recipe when the batch started)."""
    rows = StepExecution.objects.filter(
        batch_id__in=batches.values("id"), started_at__isnull=False, performed_at__isnull=False
    ).values_list("number", "title", "duration_minutes", "started_at", "performed_at")
    return [StepTime(n, t, m, (e - s).total_seconds() / 60) for n, t, m, s, e in rows]


def _entry_corrections(batches) -> dict[int, int]:
    """Corrections of eBR entries per batch of the `batches` queryset (a corrected entry means the
    batch was not right first time)."""
    rows = EntryCorrection.objects.filter(batch_id__in=batches.values("id")).values("batch_id").annotate(n=Count("id"))
    return {r["batch_id"]: r["n"] for r in rows}


def lot_rows(filters: Filters) -> list[tuple[str, str, dt.date, Decimal, str]]:
    """Lots with stock on hand (code, material, expiry, stock, unit), for the near-expiry report."""
    qs = lots_with_stock()
    if filters.product:
        qs = qs.filter(material__code=filters.product)
    return list(qs.values_list("code", "material__code", "expiry_date", "stock", "unit"))


def lots_with_stock():
    """Lots that may still hold stock (not consumed, not rejected), annotated with their `stock`."""
    return Lot.objects.exclude(status__in=[LotStatus.CONSUMED, LotStatus.REJECTED]).annotate(
        stock=Coalesce(Sum("balances__quantity"), Decimal(0), output_field=DecimalField())
    )


def critical_parameters():
    """Critical process parameters of effective recipes, with their step and recipe."""
    return list(
        ProcessParameter.objects.filter(critical=True, removed=False, step__recipe__status="effective")
        .select_related("step__recipe__product")
        .order_by("step__recipe__product__code", "step__number", "id")
    )


def parameter_values(parameter, filters: Filters) -> list[float]:
    """Values of a critical parameter in the period, oldest first.

    The values recorded in the eBR for this recipe step and parameter (batches.Entry, kind
    "parameter"); when batches recorded fewer than two in the period (no chart), the OPC UA readings
    of the parameter's equipment tag (node id), good quality only.
    """

    recorded = list(
        Entry.objects.filter(
            kind="parameter",
            batch__recipe_id=parameter.step.recipe_id,
            step__number=parameter.step.number,
            name=parameter.name,
            numeric_value__isnull=False,
            entered_at__gte=filters.start_dt,
            entered_at__lt=filters.end_dt,
        )
        .order_by("entered_at", "id")
        .values_list("numeric_value", flat=True)[:500]
    )
    # A chart needs two points: one batch recorded in the period must not hide the machine's history.
    if len(recorded) >= 2 or not parameter.equipment_tag:
        return [float(v) for v in recorded]
    readings = list(
        TagReading.objects.filter(
            tag__node_id=parameter.equipment_tag,
            source_ts__gte=filters.start_dt,
            source_ts__lt=filters.end_dt,
            value__isnull=False,
            status_code__lt=1 << 30,
        )
        .order_by("source_ts", "id")
        .values_list("value", flat=True)[:500]
    )
    return readings if len(readings) >= 2 else [float(v) for v in recorded]


def data_version() -> int:
    """The audit trail's last sequence number: which state of the records a report shows."""
    return AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
