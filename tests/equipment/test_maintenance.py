"""Fault -> work order -> repair -> completion -> requalification by a second person -> available."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from audit.signatures import signatures_for
from equipment.models import EquipmentStatus, FaultStatus, LogbookEntry, WorkOrderStatus
from equipment.services import (
    equipment_calibration_record,
    equipment_check_usable,
    equipment_end_use,
    equipment_requalify,
    equipment_return_to_service,
    equipment_start_use,
    equipment_take_out_of_service,
    fault_dismiss,
    fault_report,
    workorder_complete,
    workorder_create,
    workorder_requalify,
    workorder_start,
)
from equipment.services.status import status_apply
from mes.generated import localized
from tests.equipment.conftest import fresh

pytestmark = pytest.mark.django_db


@pytest.mark.req("EQP-3", "EQP-7", "EQP-5")
def test_full_fault_to_requalification_path_with_the_repairer_refused(equipment, make_batch, users, password):
    tech, qa = users["maintenance"], users["qa"]
    fault = fault_report(equipment=equipment, user=users["operator"], description="Impeller seal leaking")
    assert fault.status == FaultStatus.OPEN
    wo = workorder_create(fault=fault, user=tech)
    assert fresh(fault).status == FaultStatus.IN_REPAIR and wo.status == WorkOrderStatus.OPEN

    workorder_start(work_order=wo, user=tech)
    assert fresh(equipment).status == EquipmentStatus.MAINTENANCE
    with pytest.raises(ValidationError, match="Under maintenance"):
        equipment_start_use(equipment=equipment, batch=make_batch(), user=users["operator"])

    with pytest.raises(ValidationError, match="working time"):
        workorder_complete(work_order=wo, user=tech, password=password, work_done="Replaced seal")
    workorder_complete(
        work_order=wo,
        user=tech,
        password=password,
        work_done="Replaced impeller seal",
        parts_replaced="Seal kit SK-220 x1",
        labour_minutes=95,
        reason="repair done",
    )
    wo = fresh(wo)
    assert wo.status == WorkOrderStatus.COMPLETED and wo.completed_by == tech and wo.labour_minutes == 95
    assert fresh(equipment).status == EquipmentStatus.AWAITING_REQUALIFICATION
    verdict = equipment_check_usable(equipment=equipment)
    assert any("not yet requalified" in r for r in verdict.reasons)
    with pytest.raises(ValidationError, match="not yet requalified"):
        equipment_start_use(equipment=equipment, batch=make_batch(), user=users["operator"])

    # the repairer may not requalify his own repair, even with a valid password
    with pytest.raises(ValidationError, match="someone other than"):
        workorder_requalify(work_order=wo, user=tech, password=password, notes="Leak test OK")
    assert fresh(wo).status == WorkOrderStatus.COMPLETED
    with pytest.raises(ValidationError, match="Record the checks"):
        workorder_requalify(work_order=wo, user=qa, password=password, notes="")

    workorder_requalify(work_order=wo, user=qa, password=password, notes="Leak test 30 min OK, OQ speed check OK")
    wo, eq = fresh(wo), fresh(equipment)
    assert wo.status == WorkOrderStatus.CLOSED and wo.requalified_by == qa
    assert fresh(fault).status == FaultStatus.CLOSED
    assert eq.status == EquipmentStatus.AVAILABLE
    assert equipment_check_usable(equipment=eq).ok
    meanings = sorted(s.meaning for s in signatures_for(wo))
    assert meanings == ["approved", "performed"]
    kinds = list(LogbookEntry.objects.filter(equipment=eq).values_list("kind", flat=True))
    assert kinds == ["fault", "maintenance", "maintenance", "maintenance", "requalification"]


@pytest.mark.req("EQP-7", "EQP-8")
def test_equipment_dirty_before_repair_returns_dirty(equipment, make_batch, users, password):
    equipment_start_use(equipment=equipment, batch=make_batch(), user=users["operator"])
    fault = fault_report(equipment=equipment, user=users["operator"], description="Spray nozzle blocked")
    wo = workorder_create(fault=fault, user=users["maintenance"])
    with pytest.raises(ValidationError, match="end use"):
        workorder_start(work_order=wo, user=users["maintenance"])
    equipment_end_use(equipment=equipment, user=users["operator"])
    workorder_start(work_order=wo, user=users["maintenance"])
    workorder_complete(
        work_order=wo, user=users["maintenance"], password=password, work_done="Cleared nozzle", labour_minutes=20
    )
    workorder_requalify(work_order=wo, user=users["supervisor"], password=password, notes="Spray pattern OK")
    assert fresh(equipment).status == EquipmentStatus.DIRTY


@pytest.mark.req("EQP-3")
def test_dismissed_fault_no_longer_blocks(equipment, users):
    fault = fault_report(equipment=equipment, user=users["operator"], description="Strange smell")
    assert not equipment_check_usable(equipment=equipment).ok
    with pytest.raises(ValidationError):
        fault_dismiss(fault=fault, user=users["maintenance"], reason="")
    fault_dismiss(fault=fault, user=users["maintenance"], reason="Smell from the neighbouring room")
    assert equipment_check_usable(equipment=equipment).ok


@pytest.mark.req("EQP-1")
def test_calibration_pass_moves_due_date_and_fail_opens_a_fault(make_equipment, users, password):
    eq = make_equipment(calibration_due_on=timezone.localdate() - dt.timedelta(days=3))
    assert not equipment_check_usable(equipment=eq).ok
    today = timezone.localdate()
    rec = equipment_calibration_record(
        equipment=eq,
        user=users["maintenance"],
        password=password,
        performed_on=today,
        passed=True,
        certificate="CAL-2026-118",
    )
    eq = fresh(eq)
    assert eq.calibration_due_on == today + dt.timedelta(days=180) and rec.next_due_on == eq.calibration_due_on
    assert equipment_check_usable(equipment=eq).ok
    assert signatures_for(rec)[0].meaning == "performed"
    equipment_calibration_record(
        equipment=eq,
        user=users["maintenance"],
        password=password,
        performed_on=today,
        passed=False,
        certificate="CAL-2026-119",
        remarks="drift 0.3% above tolerance",
    )
    verdict = equipment_check_usable(equipment=eq)
    assert not verdict.ok and any("Calibration FAILED" in r for r in verdict.reasons)
    # An operator may not record a calibration: refused for the permission, and the failed result stands.
    with pytest.raises(PermissionDenied, match="record calibrations"):
        equipment_calibration_record(
            equipment=eq, user=users["operator"], password=password, performed_on=today, passed=True
        )
    assert not equipment_check_usable(equipment=fresh(eq)).ok


@pytest.mark.req("EQP-7")
def test_return_to_service_needs_requalification_by_someone_else(equipment, users, password):
    from equipment.services import equipment_requalify, equipment_return_to_service, equipment_take_out_of_service

    sup, tech = users["supervisor"], users["maintenance"]
    equipment_take_out_of_service(equipment=equipment, user=sup, reason="Vendor overhaul")
    equipment_return_to_service(equipment=equipment, user=tech, reason="Overhaul finished")
    assert fresh(equipment).status == EquipmentStatus.AWAITING_REQUALIFICATION
    with pytest.raises(ValidationError, match="someone other than"):
        equipment_requalify(equipment=equipment, user=tech, password=password)
    equipment_requalify(equipment=equipment, user=sup, password=password, notes="OQ protocol OQ-77 passed")
    assert fresh(equipment).status == EquipmentStatus.AVAILABLE


def test_requalification_logbook_line_is_stored_in_english_and_read_in_chinese(equipment, users, password):
    """A requalification signed in the Chinese UI stores English and reads Chinese (mes.generated)."""
    sup, tech = users["supervisor"], users["maintenance"]
    equipment_take_out_of_service(equipment=equipment, user=sup, reason="Vendor overhaul")
    equipment_return_to_service(equipment=equipment, user=tech, reason="Overhaul finished")
    with translation.override("zh-hans"):
        equipment_requalify(equipment=equipment, user=sup, password=password, notes="OQ-77")
        entry = LogbookEntry.objects.filter(equipment=equipment).latest("pk")
        assert entry.text == "Requalified: OQ-77"
        assert localized(entry.text) == "已再确认：OQ-77"


def test_a_state_change_line_is_stored_in_english_and_read_in_the_readers_language(equipment, users):
    """A transition taken with no text of its own logs its label: from the Chinese UI it is stored in
    English and reads Chinese to a Chinese reader, English to an English one."""
    with translation.override("zh-hans"):
        status_apply(equipment=equipment, name="start_maintenance", user=users["maintenance"])
        entry = LogbookEntry.objects.filter(equipment=equipment).latest("pk")
        assert entry.text == "Start maintenance"
        chinese = localized(entry.text)
    assert chinese != entry.text and not any(c.isascii() and c.isalpha() for c in chinese), chinese
    with translation.override("en"):
        assert localized(entry.text) == "Start maintenance"
