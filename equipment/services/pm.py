"""Preventive maintenance: when a plan is due or overdue, its work orders, its usage counters (issue 16).

- `pm_plan_state` judges a plan (no queries): due (generate the work order) or overdue (blocks use).
- `pm_due_generate` (beat task) opens one work order per due plan; the technician then carries it
  out like a repair (start -> complete, signed -> requalified by another person, signed).
- `pm_usage_record` adds a finished use (hours, one batch) to the equipment's usage plans.
- `pm_plan_done` resets the plan when its work order is requalified.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from audit.context import audit_context
from equipment.models import LogbookKind, MaintenancePlan, WorkOrder
from equipment.services.logbook import logbook_write
from mes.changecontrol import controlled_writes
from mes.generated import GeneratedText
from mes.units import quantity_text

PM_DUE_REASON = GeneratedText(gettext_noop("Preventive maintenance due: %(title)s (%(note)s)"))
# A plan may count days, hours and batches at once: its reason names each, and each part is a declared
# sentence, so the stored (English) reason reads wholly in the reader's language.
PM_DUE_REASON_2 = GeneratedText(gettext_noop("Preventive maintenance due: %(title)s (%(note)s, %(note2)s)"))
PM_DUE_REASON_3 = GeneratedText(gettext_noop("Preventive maintenance due: %(title)s (%(note)s, %(note2)s, %(note3)s)"))
PM_DUE_ON = GeneratedText(gettext_noop("due on %(date)s"))
PM_HOURS_USED = GeneratedText(gettext_noop("%(used)s of %(limit)s h"))
PM_BATCHES_USED = GeneratedText(gettext_noop("%(used)s of %(limit)s batches"))
PM_WORK_ORDER_GENERATED = GeneratedText(gettext_noop("Work order %(wo)s generated. %(reason)s"))

DUE_DAYS_AHEAD = 7  # a calendar plan's work order is generated this many days before its date
DUE_USAGE_FRACTION = Decimal("0.8")  # ... and a usage plan's at 80 % of its interval


@dataclass(frozen=True)
class PlanState:
    due: bool
    overdue: str  # words for the interlock ("" while not overdue)
    note: str  # what is due next, in words
    parts: tuple[str, ...] = ()  # the note's parts, one per counter


def _due_reason(title: str, parts: tuple[str, ...]) -> str:
    """The stored reason of a generated work order: English, one declared sentence per part count."""
    parts = parts or ("",)
    sentence = {1: PM_DUE_REASON, 2: PM_DUE_REASON_2, 3: PM_DUE_REASON_3}[len(parts)]
    return sentence(title=title, **dict(zip(("note", "note2", "note3"), parts, strict=False)))


def pm_plan_state(plan: MaintenancePlan, today: dt.date) -> PlanState:
    """Due / overdue from the calendar date and the usage counters of the plan."""
    due, overdue, notes = False, "", []
    if plan.interval_days and plan.next_due_on:
        notes.append(_("due on %(date)s") % {"date": date_format(plan.next_due_on, "Y-m-d")})
        due |= plan.next_due_on <= today + dt.timedelta(days=DUE_DAYS_AHEAD)
        if plan.next_due_on < today:
            overdue = _("overdue since %(date)s") % {"date": date_format(plan.next_due_on, "Y-m-d")}
    if plan.interval_hours:
        notes.append(
            _("%(used)s of %(limit)s h")
            % {"used": quantity_text(plan.used_hours, 1), "limit": quantity_text(plan.interval_hours, 1)}
        )
        due |= plan.used_hours >= plan.interval_hours * DUE_USAGE_FRACTION
        if plan.used_hours >= plan.interval_hours and not overdue:
            overdue = _("%(used)s operating hours used of %(limit)s") % {
                "used": quantity_text(plan.used_hours, 1), "limit": quantity_text(plan.interval_hours, 1),
            }  # fmt: skip
    if plan.interval_batches:
        notes.append(_("%(used)s of %(limit)s batches") % {"used": plan.used_batches, "limit": plan.interval_batches})
        due |= plan.used_batches >= plan.interval_batches * DUE_USAGE_FRACTION
        if plan.used_batches >= plan.interval_batches and not overdue:
            overdue = _("%(used)s batches since the last one (every %(limit)s)") % {
                "used": plan.used_batches, "limit": plan.interval_batches,
            }  # fmt: skip
    return PlanState(due=due or bool(overdue), overdue=overdue, note=", ".join(notes), parts=tuple(notes))


def pm_interlock(eq, today: dt.date, reasons: list[str], warnings: list[str]) -> None:
    """Overdue plans block use; due ones warn (plans prefetched as `eq.active_pm_plans`)."""
    for plan in getattr(eq, "active_pm_plans", None) or []:
        state = pm_plan_state(plan, today)
        if state.overdue:
            reasons.append(
                _("Preventive maintenance “%(title)s” %(when)s: carry out the work order first.")
                % {"title": plan.title, "when": state.overdue}
            )
        elif state.due:
            warnings.append(
                _("Preventive maintenance “%(title)s” due (%(note)s).") % {"title": plan.title, "note": state.note}
            )


def pm_due_generate(*, today: dt.date | None = None) -> list[WorkOrder]:
    """Beat task: one work order for each active plan that is due and has none open (idempotent)."""
    today = today or timezone.localdate()
    created = []
    for plan_id in MaintenancePlan.objects.filter(active=True, open_work_order__isnull=True).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            plan = MaintenancePlan.objects.select_for_update().select_related("equipment").get(pk=plan_id)
            with translation.override("en"):  # the note goes into a stored sentence: English, like the sentence
                state = pm_plan_state(plan, today)
            if plan.open_work_order_id or not state.due:
                continue
            reason = _due_reason(plan.title, state.parts)
            with audit_context(action="equipment.pm.work_order", reason=reason[:100]):
                wo = WorkOrder.objects.create(equipment=plan.equipment, plan=plan, created_by=None)
                plan.open_work_order = wo
                plan.save(update_fields=["open_work_order"])
            logbook_write(
                equipment=plan.equipment,
                kind=LogbookKind.MAINTENANCE,
                text=PM_WORK_ORDER_GENERATED % {"wo": wo.number, "reason": reason},
            )
            created.append(wo)
    return created


def pm_usage_record(*, equipment_id: int, started: dt.datetime | None, ended: dt.datetime) -> None:
    """A finished use adds its hours and one batch to the equipment's active plans (in the caller's transaction)."""
    hours = Decimal(0)
    if started is not None:
        hours = (Decimal((ended - started).total_seconds()) / Decimal(3600)).quantize(Decimal("0.01"))
    plans = MaintenancePlan.objects.select_for_update().filter(equipment_id=equipment_id, active=True)
    for plan in plans:
        plan.used_hours, plan.used_batches = plan.used_hours + hours, plan.used_batches + 1
        with audit_context(action="equipment.pm.usage", reason=f"{hours} h, 1 batch"):
            plan.save(update_fields=["used_hours", "used_batches"])


def pm_plan_done(*, work_order: WorkOrder, today: dt.date) -> None:
    """The plan's work order is requalified: counters restart, the next date is set."""
    plan = MaintenancePlan.objects.select_for_update().get(pk=work_order.plan_id)
    plan.used_hours, plan.used_batches, plan.last_done_on = Decimal(0), 0, today
    plan.next_due_on = today + dt.timedelta(days=plan.interval_days) if plan.interval_days else None
    if plan.open_work_order_id == work_order.pk:
        plan.open_work_order = None
    # The plan's rule moves the next date on, not a person: said in the trail (mes.controlled_write). A
    # person postponing the date is a change request.
    why = f"{work_order.number} requalified: next due date from the plan's interval"
    with controlled_writes(why), audit_context(action="equipment.pm.done", reason=work_order.number):
        plan.save()
