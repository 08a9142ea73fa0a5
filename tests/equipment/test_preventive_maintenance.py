"""Preventive maintenance plans by calendar and usage (issue 16): a work order when due, use blocked when overdue."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from audit.context import audit_context
from equipment.models import MaintenancePlan, WorkOrder
from equipment.services import (
    equipment_check_usable,
    equipment_cleaning_finish,
    equipment_cleaning_start,
    equipment_end_use,
    equipment_start_use,
    workorder_complete,
    workorder_requalify,
    workorder_start,
)
from equipment.services.pm import pm_due_generate
from mes.generated import localized
from tests.equipment.conftest import fresh

pytestmark = pytest.mark.django_db
BLOCK = "Preventive maintenance “Lubrication”"


def _plan(equipment, **kw):
    with audit_context(action="test.pm.plan"):
        return MaintenancePlan.objects.create(equipment=equipment, title="Lubrication", **kw)


def test_calendar_plan_generates_one_work_order_when_due_and_blocks_once_overdue(equipment, users, password):
    today = timezone.localdate()
    plan = _plan(equipment, interval_days=90, next_due_on=today + dt.timedelta(days=20))
    assert pm_due_generate() == [] and equipment_check_usable(equipment=equipment).ok
    assert pm_due_generate(today=today + dt.timedelta(days=14)) != []  # 6 days ahead: due
    assert pm_due_generate(today=today + dt.timedelta(days=15)) == []  # once, not on every tick
    wo = WorkOrder.objects.get(plan=plan)
    assert wo.fault is None and wo.created_by is None
    later = timezone.now() + dt.timedelta(days=21)
    verdict = equipment_check_usable(equipment=equipment, at=later)
    assert not verdict.ok and any(BLOCK in r for r in verdict.reasons), verdict.reasons
    workorder_start(work_order=wo, user=users["maintenance"])
    workorder_complete(
        work_order=wo, user=users["maintenance"], password=password, work_done="Greased bearings", labour_minutes=40
    )
    workorder_requalify(work_order=wo, user=users["supervisor"], password=password, notes="Test run OK")
    plan.refresh_from_db()
    assert plan.open_work_order is None and plan.last_done_on == today
    assert plan.next_due_on == today + dt.timedelta(days=90)
    assert not any(BLOCK in r for r in equipment_check_usable(equipment=equipment).reasons)


def _cleaned(equipment, user, password):
    equipment_cleaning_start(equipment=equipment, user=user, kind="full")
    equipment_cleaning_finish(equipment=equipment, user=user, password=password)
    return fresh(equipment)


def test_usage_plan_counts_batches_and_hours_and_blocks_when_used_up(equipment, make_batch, users, password):
    plan = _plan(equipment, interval_batches=2, interval_hours=Decimal("100"))
    operator = users["operator"]
    equipment_start_use(equipment=equipment, batch=make_batch(), user=operator)
    equipment_end_use(equipment=equipment, user=operator)
    plan.refresh_from_db()
    assert plan.used_batches == 1 and plan.used_hours >= 0
    assert pm_due_generate() == []  # 1 of 2 batches: below 80 %, not yet due
    eq = _cleaned(equipment, operator, password)
    assert not any(BLOCK in r for r in equipment_check_usable(equipment=eq).reasons)
    equipment_start_use(equipment=eq, batch=make_batch(), user=operator)
    equipment_end_use(equipment=eq, user=operator)
    eq = _cleaned(equipment, operator, password)
    verdict = equipment_check_usable(equipment=eq)
    assert not verdict.ok and any("2 batches since the last one" in r for r in verdict.reasons), verdict.reasons
    assert len(pm_due_generate()) == 1 and WorkOrder.objects.get(plan=plan).fault is None


def test_pm_page_lists_overdue_plans_first(equipment, make_equipment, client_for, django_assert_max_num_queries):
    today = timezone.localdate()
    _plan(make_equipment(code="GRAN-02"), interval_days=30, next_due_on=today + dt.timedelta(days=25))
    _plan(equipment, interval_days=30, next_due_on=today - dt.timedelta(days=2))
    client = client_for("maintenance")
    with django_assert_max_num_queries(12):
        page = client.get(reverse("equipment:pm_plans")).content.decode()
    assert page.index("pm-GRAN-01") < page.index("pm-GRAN-02") and "Overdue: blocks use" in page


def test_a_generated_work_order_reads_wholly_in_the_readers_language(equipment, make_batch, users):
    """A plan counting days, hours and batches: the logbook line names each counter; it is stored in
    English (whoever's request ran the beat) and every part of it reads Chinese to a Chinese reader."""
    today = timezone.localdate()
    plan = _plan(equipment, interval_days=30, next_due_on=today + dt.timedelta(days=3), interval_hours=Decimal("100"))
    with translation.override("zh-hans"):
        assert len(pm_due_generate()) == 1
    entry = equipment.logbook.filter(text__startswith="Work order").latest("pk")
    due = (today + dt.timedelta(days=3)).isoformat()
    assert entry.text.endswith(f"Preventive maintenance due: Lubrication (due on {due}, 0 of 100 h)")
    with translation.override("zh-hans"):
        chinese = localized(entry.text)
    assert chinese != entry.text and WorkOrder.objects.get(plan=plan).number in chinese
    for english_word in ("Work order", "generated", "Preventive maintenance", "due on", " of ", " h)"):
        assert english_word not in chinese, chinese
    assert due in chinese and "Lubrication" in chinese
