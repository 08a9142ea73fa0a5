"""A missing daily check blocks use by default; only an approved configuration change makes it a warning (issue 16)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from administration.models import ConfigChange, ConfigParameter
from administration.services.config import config_change_approve, config_propose
from audit.context import audit_context
from audit.models import AuditEvent, Signature
from equipment.models import DailyCheck, EquipmentStatus
from equipment.services import equipment_check_usable, equipment_daily_check_record, equipment_start_use
from equipment.services.care import checklist_for
from tests.equipment.conftest import fresh

pytestmark = pytest.mark.django_db
MISSING = "Daily check not done today"


def test_equipment_without_todays_check_cannot_be_used(make_equipment, make_batch, users):
    eq = make_equipment(daily_check=False)
    with pytest.raises(ValidationError) as exc:
        equipment_start_use(equipment=eq, batch=make_batch(), user=users["operator"])
    assert MISSING in " ".join(exc.value.messages)
    assert fresh(eq).status == EquipmentStatus.AVAILABLE
    answers = {i.pk: (True, "") for i in checklist_for(eq)}
    equipment_daily_check_record(equipment=eq, user=users["operator"], answers=answers)
    equipment_start_use(equipment=eq, batch=make_batch(), user=users["operator"])
    assert fresh(eq).status == EquipmentStatus.IN_USE


def test_yesterdays_check_does_not_count(make_equipment, users):
    eq = make_equipment(daily_check=False)
    with audit_context(action="test.daily_check.yesterday"):
        DailyCheck.objects.create(
            equipment=eq,
            performed_by=users["operator"],
            passed=True,
            performed_at=timezone.now() - dt.timedelta(days=1),
        )
    verdict = equipment_check_usable(equipment=eq)
    assert not verdict.ok and any(MISSING in r for r in verdict.reasons)


def test_a_class_without_checklist_needs_no_daily_check(make_equipment):
    eq = make_equipment(code="TPRS-01", cls="TPRS", daily_check=False)
    assert equipment_check_usable(equipment=eq).ok


@pytest.mark.req("CFG-1")
def test_warning_only_after_an_approved_and_signed_configuration_change(make_equipment, users, password):
    eq = make_equipment(daily_check=False)
    parameter = ConfigParameter.objects.get(name="equipment.daily_check_blocks_use")
    change = config_propose(
        user=users["admin"], parameter_id=parameter.pk, new_value="no", reason="line 2 uses paper checks (SOP-EQ-7)"
    )
    assert not equipment_check_usable(equipment=eq).ok  # a proposal changes nothing
    config_change_approve(user=users["qa"], change_id=change.pk, password=password)
    verdict = equipment_check_usable(equipment=eq)
    assert verdict.ok and MISSING in " ".join(verdict.warnings)
    change = ConfigChange.objects.get(pk=change.pk)
    assert change.old_value == "true" and change.new_value == "false" and change.decided_by == users["qa"]
    assert Signature.objects.filter(signer=users["qa"], meaning="approved").exists()
    assert AuditEvent.objects.filter(action="administration.configparameter.change").exists()


def test_equipment_page_shows_the_block(make_equipment, client_for):
    eq = make_equipment(daily_check=False)
    page = client_for("operator").get(reverse("equipment:detail", args=[eq.pk])).content.decode()
    assert "Daily check not done today: do it before use." in page
