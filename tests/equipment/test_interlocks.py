"""The equipment status is a hard interlock: every block refuses use, with a reason in words."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from audit.context import audit_context
from equipment.models import EquipmentStatus, LogbookEntry
from equipment.services import (
    equipment_check_usable,
    equipment_cleaning_finish,
    equipment_cleaning_start,
    equipment_daily_check_record,
    equipment_end_use,
    equipment_start_use,
    fault_report,
)
from equipment.services.care import checklist_for
from tests.equipment.conftest import fresh

pytestmark = [pytest.mark.django_db, pytest.mark.req("EQP-4")]


def refused(equipment, batch, user, fragment, product=None):
    """start_use must refuse and say `fragment`; nothing may change."""
    before = fresh(equipment).status
    with pytest.raises(ValidationError) as exc:
        equipment_start_use(equipment=equipment, batch=batch, user=user, product=product)
    text = " ".join(exc.value.messages)
    assert fragment in text, text
    assert fresh(equipment).status == before
    verdict = equipment_check_usable(equipment=equipment, product=product)
    assert not verdict.ok and any(fragment in r for r in verdict.reasons)


def test_clean_qualified_calibrated_equipment_is_usable_and_use_is_logged(equipment, make_batch, users):
    batch = make_batch()
    assert equipment_check_usable(equipment=equipment).ok
    equipment_start_use(equipment=equipment, batch=batch, user=users["operator"], step="Wet granulation")
    eq = fresh(equipment)
    assert eq.status == EquipmentStatus.IN_USE and eq.current_batch == batch
    refused(eq, make_batch(), users["operator"], "In use by batch B-TEST-001")
    entry = LogbookEntry.objects.filter(equipment=eq).last()
    assert entry.kind == "use_start" and entry.batch == batch and entry.step == "Wet granulation"
    assert entry.from_status == "available" and entry.to_status == "in_use" and entry.user == users["operator"]


@pytest.mark.req("EQP-8")
def test_dirty_after_use_refuses_until_cleaning_is_signed(equipment, make_batch, users, password):
    op = users["operator"]
    equipment_start_use(equipment=equipment, batch=make_batch(), user=op)
    equipment_end_use(equipment=equipment, user=op)
    eq = fresh(equipment)
    assert eq.status == EquipmentStatus.DIRTY and eq.last_product.code == "FG-A"
    refused(eq, make_batch(), op, "Dirty after FG-A")
    equipment_cleaning_start(equipment=eq, user=op, kind="full", procedure="SOP-CL-012")
    refused(eq, make_batch(), op, "Cleaning is in progress")
    equipment_cleaning_finish(equipment=eq, user=op, password=password, reason="cleaned per SOP")
    assert equipment_check_usable(equipment=eq, product=make_batch("FG-B").product).ok


@pytest.mark.req("EQP-8")
def test_minor_cleaning_allows_only_the_same_product(equipment, make_batch, users, password):
    op = users["operator"]
    equipment_start_use(equipment=equipment, batch=make_batch("FG-A"), user=op)
    equipment_end_use(equipment=equipment, user=op)
    equipment_cleaning_start(equipment=equipment, user=op, kind="minor")
    equipment_cleaning_finish(equipment=equipment, user=op, password=password)
    batch_b = make_batch("FG-B")
    refused(equipment, batch_b, op, "a full changeover cleaning is needed before FG-B", product=batch_b.product)
    equipment_start_use(equipment=equipment, batch=make_batch("FG-A"), user=op)  # same product: allowed


def test_calibration_overdue_refuses(make_equipment, make_batch, users):
    eq = make_equipment(calibration_due_on=timezone.localdate() - dt.timedelta(days=1))
    refused(eq, make_batch(), users["operator"], "Calibration overdue since")


def test_clean_hold_time_expired_refuses(make_equipment, make_batch, users):
    eq = make_equipment(cleaned_at=timezone.now() - dt.timedelta(hours=80), clean_hold_hours=72)
    refused(eq, make_batch(), users["operator"], "Clean hold time expired")


def test_open_fault_refuses(equipment, make_batch, users):
    fault_report(equipment=equipment, user=users["operator"], description="Chopper makes a grinding noise")
    refused(equipment, make_batch(), users["operator"], "Open fault FR-")


@pytest.mark.req("EQP-6")
def test_failed_daily_check_refuses_and_opens_a_fault(equipment, make_batch, users):
    items = checklist_for(equipment)
    answers = {i.pk: (True, "") for i in items}
    answers[items[1].pk] = (False, "oil leak under the bowl")
    check = equipment_daily_check_record(equipment=equipment, user=users["operator"], answers=answers)
    assert not check.passed and check.fault is not None and check.fault.source == "daily_check"
    assert "oil leak under the bowl" in check.fault.description
    refused(equipment, make_batch(), users["operator"], "Daily check failed")
    refused(equipment, make_batch(), users["operator"], "Open fault")


@pytest.mark.req("EQP-6")
def test_daily_check_needs_every_item_and_a_note_for_failures(equipment, users):
    items = checklist_for(equipment)
    with pytest.raises(ValidationError, match="Answer every item"):
        equipment_daily_check_record(equipment=equipment, user=users["operator"], answers={items[0].pk: (True, "")})
    answers = {i.pk: (True, "") for i in items}
    answers[items[0].pk] = (False, "")
    with pytest.raises(ValidationError, match="Describe what is wrong"):
        equipment_daily_check_record(equipment=equipment, user=users["operator"], answers=answers)
    answers[items[0].pk] = (True, "")
    check = equipment_daily_check_record(equipment=equipment, user=users["operator"], answers=answers)
    assert check.passed and check.results.count() == 3
    assert equipment_check_usable(equipment=equipment).ok


def test_not_qualified_and_requalification_overdue_refuse(make_equipment, make_batch, users):
    a = make_equipment("GRAN-A", qualification_status="not_qualified")
    refused(a, make_batch(), users["operator"], "Not qualified")
    b = make_equipment("GRAN-B", requalification_due_on=timezone.localdate() - dt.timedelta(days=2))
    refused(b, make_batch(), users["operator"], "Periodic requalification overdue")


def test_out_of_service_refuses(equipment, make_batch, users):
    from equipment.services import equipment_take_out_of_service

    with pytest.raises(ValidationError):
        equipment_take_out_of_service(equipment=equipment, user=users["supervisor"], reason="")
    equipment_take_out_of_service(equipment=equipment, user=users["supervisor"], reason="Motor replaced by vendor")
    refused(equipment, make_batch(), users["operator"], "Out of service")


@pytest.mark.req("EQP-5")
def test_logbook_is_append_only_and_in_time_order(equipment, make_batch, users, password):
    from audit.gmp import AuditBypassError

    op = users["operator"]
    equipment_start_use(equipment=equipment, batch=make_batch(), user=op)
    equipment_end_use(equipment=equipment, user=op)
    equipment_cleaning_start(equipment=equipment, user=op, kind="full")
    equipment_cleaning_finish(equipment=equipment, user=op, password=password)
    entries = list(LogbookEntry.objects.filter(equipment=equipment))
    assert [e.kind for e in entries] == ["use_start", "use_end", "cleaning", "cleaning"]
    assert [e.at for e in entries] == sorted(e.at for e in entries)
    assert entries[1].period_start is not None and entries[1].period_end is not None
    entry = entries[0]
    entry.text = "changed"
    with pytest.raises(AuditBypassError), audit_context(actor=op):
        entry.save()
    with pytest.raises(AuditBypassError):
        LogbookEntry.objects.filter(pk=entry.pk).update(text="x")
    with pytest.raises(AuditBypassError):
        entry.delete()


def test_operator_without_permission_cannot_start_use(equipment, make_batch, users):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        equipment_start_use(equipment=equipment, batch=make_batch(), user=users["qc"])


@pytest.mark.req("SEC-3")
def test_cleaning_sign_off_needs_the_password_and_is_signed(equipment, make_batch, users, password):
    from audit.signatures import SignatureError, signatures_for

    op = users["operator"]
    equipment_start_use(equipment=equipment, batch=make_batch(), user=op)
    equipment_end_use(equipment=equipment, user=op)
    record = equipment_cleaning_start(equipment=equipment, user=op, kind="full")
    with pytest.raises(SignatureError):
        equipment_cleaning_finish(equipment=equipment, user=op, password="wrong-password-1")
    assert fresh(equipment).status == EquipmentStatus.CLEANING
    equipment_cleaning_finish(equipment=equipment, user=op, password=password, reason="done")
    (sig,) = signatures_for(fresh(record))
    assert sig.meaning == "performed" and sig.signer == op


@pytest.mark.req("EQP-4")
def test_pre_use_verification_checks_every_equipment_of_the_batch(
    make_equipment, make_batch, users, password, django_assert_max_num_queries
):
    from equipment.services import equipment_verify_for_batch

    good = make_equipment("GRAN-1")
    overdue = make_equipment("BAL-1", cls="DISP", calibration_due_on=timezone.localdate() - dt.timedelta(days=1))
    minor = make_equipment("TPRS-1", cls="TPRS")
    op = users["operator"]
    equipment_start_use(equipment=minor, batch=make_batch("FG-A"), user=op)
    equipment_end_use(equipment=minor, user=op)
    equipment_cleaning_start(equipment=minor, user=op, kind="minor")
    equipment_cleaning_finish(equipment=minor, user=op, password=password)
    product_b = make_batch("FG-B").product
    with django_assert_max_num_queries(3):
        result = equipment_verify_for_batch(equipment=[good, overdue.pk, minor], product=product_b)
    assert result["GRAN-1"].ok
    assert not result["BAL-1"].ok and "Calibration overdue" in result["BAL-1"].reasons[0]
    assert not result["TPRS-1"].ok and "full changeover cleaning" in result["TPRS-1"].reasons[0]
