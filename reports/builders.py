"""Report content: for each report type, the tables, charts and summary figures it shows.

The same ReportData renders as the page, the PDF and the CSV / Excel exports, so they never differ.
Tables listing one row per batch are complete in the exports; the page and the PDF show the first
`DETAIL_ROWS` rows of those (a 10,000-batch month is read in the exports, not on paper).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from batches.models import Batch, BatchStatus
from equipment.models import Equipment
from equipment.services.oee import Oee, oee_for_equipment
from materials.models import EntryType, LedgerEntry
from mes.generated import GeneratedText, localized
from mes.units import quantity_label, unit_label
from reports import charts, kpis, sources
from reports import spc as spc_mod
from reports.models import ReportKind
from reports.sources import Filters

DETAIL_ROWS = 100

# Report titles are stored in English and shown in the reader's language (mes.generated): a report an
# English user generated reads Chinese to a Chinese reader, and the other way round.
TITLE_PRODUCTION = GeneratedText(gettext_noop("Production report"))
TITLE_QUALITY = GeneratedText(gettext_noop("Quality report"))
TITLE_EFFICIENCY = GeneratedText(gettext_noop("Efficiency report (OEE)"))
TITLE_INVENTORY = GeneratedText(gettext_noop("Inventory near expiry"))
TITLE_SPC = GeneratedText(gettext_noop("SPC of critical parameters"))
TITLE_BATCH = GeneratedText(gettext_noop("Batch production report %(batch)s"))
EXPIRY_DAYS = 30


@dataclass
class Table:
    key: str
    title: str
    columns: list
    rows: list[list]
    detail: bool = False  # one row per batch: cut to DETAIL_ROWS on the page and in the PDF

    @property
    def shown(self) -> list[list]:
        return self.rows[:DETAIL_ROWS] if self.detail else self.rows

    @property
    def hidden(self) -> int:
        return len(self.rows) - len(self.shown)


@dataclass
class ReportData:
    kind: str
    title: str
    filters: Filters
    summary: list[tuple] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    batch: object = None
    record_title: str = ""  # what the Report row stores: English, shown through `localized`

    def table(self, key: str) -> Table:
        return next(t for t in self.tables if t.key == key)


def _pct(v) -> str:
    return "—" if v is None else f"{v} %"


def _num(v) -> float | None:
    return None if v is None else float(v)


def production(filters: Filters) -> ReportData:
    """Output vs plan, yield, right-first-time, cycle time and schedule adherence of the period."""
    batches = sources.batch_queryset(filters)
    facts = sources.batch_facts(batches)
    data = _report(ReportKind.PRODUCTION, TITLE_PRODUCTION(), filters)
    rft = kpis.right_first_time(facts)
    adherence = kpis.schedule_adherence(facts, timezone.now())
    by_product = kpis.output_vs_plan(facts, "product")
    total_plan = sum((r.planned for r in by_product), Decimal(0))
    total_actual = sum((r.actual for r in by_product), Decimal(0))
    data.summary = [
        (_("Batches"), len(facts)),
        (_("Output vs plan"), _pct(kpis._pct(total_actual, total_plan))),
        (_("Right first time"), f"{_pct(rft.pct)} ({rft.right_first_time}/{rft.finished})"),
        (_("Schedule adherence"), f"{_pct(adherence.pct)} ({adherence.on_time}/{adherence.due})"),
    ]
    # Every quantity column has its unit beside it; a group is split by unit (kg and pieces never add up).
    output_cols = [_("Group"), _("Batches"), _("Planned"), _("Produced"), _("Unit"), _("Output vs plan (%)")]
    data.tables.append(
        Table("output_product", gettext("Output vs plan per product"), output_cols,
              [[r.key, r.batches, r.planned, r.actual, unit_label(r.unit), r.pct] for r in by_product])
    )  # fmt: skip
    by_line = kpis.output_vs_plan(facts, "line")
    data.tables.append(
        Table("output_line", gettext("Output vs plan per line"), output_cols,
              [[r.key, r.batches, r.planned, r.actual, unit_label(r.unit), r.pct] for r in by_line])
    )  # fmt: skip
    yield_cols = [_("Group"), _("Batches"), _("Planned"), _("Produced"), _("Unit"), _("Yield (%)"), _("Outside limits")]
    for by, title in (("product", gettext("Yield per product")), ("line", gettext("Yield per line"))):
        data.tables.append(
            Table(f"yield_{by}", title, yield_cols,
                  [[r.key, r.batches, r.planned, r.actual, unit_label(r.unit), r.yield_pct, r.out_of_limits]
                   for r in kpis.yields(facts, by)])
        )  # fmt: skip
    status = _status_labels()
    data.tables.append(
        Table("batches", gettext("Batches"),
              [_("Batch"), _("Product"), _("Line"), _("Status"), _("Planned"), _("Produced"), _("Unit"), _("Yield (%)"),
               _("Cycle time (min)"), _("Recipe time (min)"), _("Corrections"), _("Deviations"), _("On time")],
              [[f.number, f.product, f.line, status.get(f.status, f.status), f.planned, f.actual, unit_label(f.unit),
                kpis.batch_yield(f),
                _minutes(f), f.recipe_minutes, f.corrections, f.deviations, _on_time(f)] for f in facts],
              detail=True)
    )  # fmt: skip
    steps = kpis.step_cycle_times(sources.step_times(batches))
    data.tables.append(
        Table("steps", gettext("Cycle time per step"),
              [_("Step"), _("Title"), _("Executions"), _("Expected (min)"), _("Mean actual (min)"), _("Actual / expected (%)")],
              [[r.step, r.title, r.executions, r.expected_min, r.mean_actual_min, r.ratio_pct] for r in steps])
    )  # fmt: skip
    if not steps:
        data.notes.append(_("Per-step times appear once batches record their steps in the electronic batch record."))
    for unit in sorted({r.unit for r in by_product}):  # one chart per unit: one axis never mixes kg and pieces
        rows = [r for r in by_product if r.unit == unit]
        data.charts.append(
            charts.bar_chart(gettext("Output vs plan per product (%(unit)s)") % {"unit": _unit_label(unit)},
                             [r.key for r in rows],
                             [(gettext("Planned"), [_num(r.planned) for r in rows]),
                              (gettext("Produced"), [_num(r.actual) for r in rows])])
        )  # fmt: skip
    return data


def _report(kind: str, record_title: str, filters: Filters) -> ReportData:
    """A report's data titled in the active language (page, PDF) and in English for the stored record."""
    return ReportData(kind, localized(record_title), filters, record_title=record_title)


def _unit_label(unit: str) -> str:
    return unit_label(unit) or "—"


def _status_labels() -> dict[str, str]:
    """{status: label} in the active language, built once per report (not once per batch row)."""
    return {value: str(label) for value, label in BatchStatus.choices}


def _minutes(f: kpis.BatchFact) -> int | None:
    if f.started_at and f.completed_at:
        return int((f.completed_at - f.started_at).total_seconds() // 60)
    return None


def _on_time(f: kpis.BatchFact) -> str:
    if f.planned_end is None or f.completed_at is None:
        return ""
    return gettext("yes") if f.completed_at <= f.planned_end else gettext("no")


def batch_report(batch) -> ReportData:
    """The production report of one batch (BAT-15): output, quality, efficiency."""

    one = Batch.objects.filter(pk=batch.pk)
    (fact,) = sources.batch_facts(one)
    day = timezone.localdate()
    filters = Filters(fact.started_at.date() if fact.started_at else day, day)
    data = _report(ReportKind.BATCH, TITLE_BATCH(batch=batch.number), filters)
    data.batch = batch
    y = kpis.batch_yield(fact)
    cycle = _minutes(fact)
    data.summary = [
        (_("Batch"), fact.number),
        (_("Product"), fact.product),
        (_("Line"), fact.line or "—"),
        (_("Status"), batch.get_status_display()),
        (_("Planned"), quantity_label(fact.planned, fact.unit)),
        (_("Produced"), quantity_label(fact.actual, fact.unit)),
        (_("Yield (%)"), _pct(y)),
        (_("Yield limits (%)"), f"{fact.yield_min} – {fact.yield_max}" if fact.yield_min is not None else "—"),
        (_("Cycle time (min)"), cycle if cycle is not None else "—"),
        (_("Recipe time (min)"), fact.recipe_minutes or "—"),
        (_("Corrections"), fact.corrections),
        (_("Deviations"), fact.deviations),
        (_("Right first time"), gettext("yes") if not (fact.corrections or fact.deviations) else gettext("no")),
    ]
    entries = (
        LedgerEntry.objects.filter(batch=batch)
        .select_related("lot__material")
        .order_by("created_at", "id")
        .values_list("created_at", "entry_type", "lot__material__code", "lot__code", "quantity", "unit")
    )
    data.tables.append(
        Table("materials", gettext("Materials"), [_("Time"), _("Movement"), _("Material"), _("Lot"), _("Quantity"), _("Unit")],
              [[timezone.localtime(t).strftime("%Y-%m-%d %H:%M"), _movement(e), m, lot, q, unit_label(u)] for t, e, m, lot, q, u in entries])
    )  # fmt: skip
    steps = kpis.step_cycle_times(sources.step_times(one))
    data.tables.append(
        Table("steps", gettext("Cycle time per step"),
              [_("Step"), _("Title"), _("Executions"), _("Expected (min)"), _("Mean actual (min)"), _("Actual / expected (%)")],
              [[r.step, r.title, r.executions, r.expected_min, r.mean_actual_min, r.ratio_pct] for r in steps])
    )  # fmt: skip
    return data


def _movement(code: str) -> str:
    """A ledger movement as the reader names it ("issue" → Issue to batch / 投料); unknown codes as stored."""
    return str(EntryType(code).label) if code in EntryType.values else code


def quality(filters: Filters) -> ReportData:
    """Right-first-time and deviations by classification and cause."""
    facts = sources.batch_facts(sources.batch_queryset(filters))
    rft = kpis.right_first_time(facts)
    matrix = kpis.deviations_by_class_and_cause(sources.deviation_facts(filters), sources.deviation_classes())
    data = _report(ReportKind.QUALITY, TITLE_QUALITY(), filters)
    data.summary = [
        (_("Right first time"), f"{_pct(rft.pct)} ({rft.right_first_time}/{rft.finished})"),
        (_("Deviations"), matrix.total),
    ]
    class_label, cause_label = sources.deviation_labels("classification"), sources.deviation_labels("source")
    data.tables.append(
        Table("deviations", gettext("Deviations by classification and cause"),
              [_("Classification")] + [cause_label.get(k, k) for k in matrix.causes] + [_("Total")],
              [[class_label.get(c, c)] + [matrix.counts.get((c, k), 0) for k in matrix.causes]
               + [matrix.by_class.get(c, 0)] for c in matrix.classes])
    )  # fmt: skip
    data.tables.append(
        Table(
            "rft_failed", gettext("Batches not right first time"), [_("Batch")], [[n] for n in rft.failed], detail=True
        )
    )
    data.charts.append(
        charts.bar_chart(gettext("Deviations by classification"), [class_label.get(c, c) for c in matrix.by_class],
                         [(gettext("Deviations"), [float(v) for v in matrix.by_class.values()])])
    )  # fmt: skip
    return data


def efficiency(filters: Filters) -> ReportData:
    """OEE per equipment and per line (equipment.services.oee), batch cycle times."""

    equipment = list(Equipment.objects.select_related("line").order_by("line__code", "code"))
    if filters.line:
        equipment = [e for e in equipment if e.line and e.line.code == filters.line]
    per = oee_for_equipment(equipment, filters.start_dt, filters.end_dt)
    lines: dict[str, Oee] = {}
    for eq in equipment:
        key = eq.line.code if eq.line else "—"
        lines.setdefault(key, Oee(key)).add(per[eq.pk])
    data = _report(ReportKind.EFFICIENCY, TITLE_EFFICIENCY(), filters)
    cols = [_("Equipment / line"), _("Availability (%)"), _("Performance (%)"), _("Quality (%)"), _("OEE (%)")]

    def row(o: Oee) -> list:
        return [o.label] + [None if v is None else round(v * 100, 1)
                            for v in (o.availability, o.performance, o.quality, o.oee)]  # fmt: skip

    data.tables.append(Table("oee_line", gettext("OEE per line"), cols, [row(o) for o in lines.values()]))
    data.tables.append(Table("oee_equipment", gettext("OEE per equipment"), cols, [row(per[e.pk]) for e in equipment]))
    facts = sources.batch_facts(sources.batch_queryset(filters))
    cycles = kpis.cycle_times(facts)
    data.tables.append(
        Table("cycle", gettext("Batch cycle time"),
              [_("Batch"), _("Product"), _("Cycle time (min)"), _("Recipe time (min)"), _("Actual / expected (%)")],
              [[r.number, r.product, r.actual_min, r.recipe_min, r.ratio_pct] for r in cycles], detail=True)
    )  # fmt: skip
    data.charts.append(
        charts.bar_chart(gettext("OEE per line"), list(lines),
                         [(gettext("OEE (%)"), [None if o.oee is None else o.oee * 100 for o in lines.values()])])
    )  # fmt: skip
    return data


def inventory(filters: Filters) -> ReportData:
    """Lots with stock expiring within EXPIRY_DAYS days of the report's last day."""
    rows = kpis.near_expiry(sources.lot_rows(filters), filters.end, EXPIRY_DAYS)
    data = _report(ReportKind.INVENTORY, TITLE_INVENTORY(), filters)
    data.summary = [(_("Lots expiring within %(days)s days") % {"days": EXPIRY_DAYS}, len(rows))]
    data.tables.append(
        Table("expiry", gettext("Lots near expiry"),
              [_("Lot"), _("Material"), _("Expiry date"), _("Days left"), _("Stock"), _("Unit")],
              [[r.lot, r.material, r.expiry, r.days_left, r.stock, unit_label(r.unit)] for r in rows])
    )  # fmt: skip
    return data


def spc(filters: Filters) -> ReportData:
    """I-MR chart, Western Electric violations and Cp/Cpk of each critical parameter."""
    data = _report(ReportKind.SPC, TITLE_SPC(), filters)
    rows = []
    for p in sources.critical_parameters():
        product = p.step.recipe.product.code
        if filters.product and product != filters.product:
            continue
        values = sources.parameter_values(p, filters)
        chart = spc_mod.imr_chart(values)
        label = f"{product} · {p.step.number} · {p.name} ({p.unit})"
        if chart is None:
            rows.append([label, len(values), None, None, None, None, None, ""])
            continue
        lsl, usl = _num(p.minimum), _num(p.maximum)
        cap = spc_mod.capability(chart.mean, chart.sigma, lsl, usl)
        rows.append([label, len(values), round(chart.mean, 3), round(chart.lcl, 3), round(chart.ucl, 3),
                     None if cap.cp is None else round(cap.cp, 2), None if cap.cpk is None else round(cap.cpk, 2),
                     len(chart.violations)])  # fmt: skip
        data.charts.append(
            charts.control_chart(label, values, chart.mean, chart.lcl, chart.ucl, set(chart.violations), lsl, usl)
        )
    data.tables.append(
        Table("spc", gettext("Critical parameters"),
              [_("Parameter"), _("Values"), _("Mean"), _("LCL"), _("UCL"), _("Cp"), _("Cpk"), _("Out-of-control points")],
              rows)
    )  # fmt: skip
    if not data.charts:
        data.notes.append(_("No critical parameter has at least two recorded values in this period."))
    return data


BUILDERS = {
    ReportKind.PRODUCTION: production,
    ReportKind.QUALITY: quality,
    ReportKind.EFFICIENCY: efficiency,
    ReportKind.INVENTORY: inventory,
    ReportKind.SPC: spc,
}


def build(kind: str, filters: Filters) -> ReportData:
    return BUILDERS[kind](filters)


def default_period(frequency: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """The period a scheduled report covers: yesterday, the last 7 days, or the previous month."""
    if frequency == "daily":
        day = today - dt.timedelta(days=1)
        return day, day
    if frequency == "weekly":
        return today - dt.timedelta(days=7), today - dt.timedelta(days=1)
    last = today.replace(day=1) - dt.timedelta(days=1)
    return last.replace(day=1), last
