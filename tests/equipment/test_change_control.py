"""Master data under change control (issue 16): proposed with a reason, approved by ANOTHER person with
an e-signature, effective on approval; Django admin shows controlled fields read-only."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from audit.models import Signature
from audit.signatures import SignatureError
from equipment.models import ChecklistItem, EquipmentTag, MachineStateMap
from equipment.opcua.config import tags_configure
from equipment.services.master import master_data_save
from mes.changecontrol import (
    masterdata_change_approve,
    masterdata_change_reject,
    masterdata_change_withdraw,
    masterdata_propose,
    registry,
)
from mes.models import MasterDataChange

pytestmark = pytest.mark.django_db


@pytest.fixture
def tag(equipment):
    tags_configure(equipment, "opc.tcp://127.0.0.1:4999/mes/cc")
    return EquipmentTag.objects.get(equipment=equipment, key="temperature")


def _limit_change(tag, users, high=58.0):
    edited = EquipmentTag.objects.get(pk=tag.pk)
    edited.high_limit = high
    return masterdata_propose(user=users["maintenance"], obj=edited, reason="narrower range after PQ report 12")


def test_registry_declares_the_controlled_models():
    keys = set(registry())
    assert {"equipment.equipment", "equipment.equipmenttag", "equipment.checklistitem"} <= keys
    assert {"equipment.machinestatemap", "materials.material"} <= keys


def test_a_limit_changes_only_when_another_person_approves_it_signed(tag, users, password):
    change = _limit_change(tag, users)
    assert change.before == {"high_limit": "60.0"} and change.after == {"high_limit": "58.0"}
    assert EquipmentTag.objects.get(pk=tag.pk).high_limit == 60.0  # a proposal changes nothing
    with pytest.raises(ValidationError, match="someone other"):
        masterdata_change_approve(user=users["maintenance"], change_id=change.pk, password=password)
    with pytest.raises(PermissionDenied):
        masterdata_change_approve(user=users["supervisor"], change_id=change.pk, password=password)
    with pytest.raises(SignatureError):
        masterdata_change_approve(user=users["qa"], change_id=change.pk, password="wrong-password-9")
    assert EquipmentTag.objects.get(pk=tag.pk).high_limit == 60.0
    masterdata_change_approve(user=users["qa"], change_id=change.pk, password=password, reason="per PQ")
    assert EquipmentTag.objects.get(pk=tag.pk).high_limit == 58.0
    change.refresh_from_db()
    assert change.status == "effective" and change.decided_by == users["qa"]
    assert Signature.objects.filter(signer=users["qa"], meaning="approved").count() == 1


def test_direct_save_of_a_controlled_field_is_refused(tag, users):
    edited = EquipmentTag.objects.get(pk=tag.pk)
    edited.node_id = "ns=2;s=OTHER.temperature"
    with pytest.raises(ValidationError, match="change control"):
        master_data_save(user=users["admin"], obj=edited, reason="quick fix")
    assert EquipmentTag.objects.get(pk=tag.pk).node_id != "ns=2;s=OTHER.temperature"


def test_rejected_withdrawn_and_stale_requests_change_nothing(tag, users, password):
    rejected = _limit_change(tag, users)
    with pytest.raises(ValidationError):
        masterdata_change_reject(user=users["qa"], change_id=rejected.pk, password=password, reason="")
    masterdata_change_reject(user=users["qa"], change_id=rejected.pk, password=password, reason="no PQ evidence")
    withdrawn = _limit_change(tag, users, high=57.0)
    masterdata_change_withdraw(user=users["maintenance"], change_id=withdrawn.pk, reason="typo")
    assert EquipmentTag.objects.get(pk=tag.pk).high_limit == 60.0
    first, second = _limit_change(tag, users, 59.0), _limit_change(tag, users, 55.0)
    masterdata_change_approve(user=users["qa"], change_id=first.pk, password=password)
    with pytest.raises(ValidationError, match="changed since"):
        masterdata_change_approve(user=users["qa"], change_id=second.pk, password=password)
    assert EquipmentTag.objects.get(pk=tag.pk).high_limit == 59.0


def test_a_new_state_mapping_is_created_on_approval(equipment, users, password):
    new = MachineStateMap(equipment_class=equipment.equipment_class, value="stoerung", state="fault")
    change = masterdata_propose(user=users["maintenance"], obj=new, reason="German HMI sends Störung")
    assert change.object_id == "" and not MachineStateMap.objects.filter(value="stoerung").exists()
    masterdata_change_approve(user=users["qa"], change_id=change.pk, password=password)
    created = MachineStateMap.objects.get(value="stoerung")
    change.refresh_from_db()
    assert change.object_id == str(created.pk) and created.state == "fault"


def test_pages_propose_and_approve_a_checklist_change(equipment, client_for, users, password):
    item = ChecklistItem.objects.filter(equipment_class=equipment.equipment_class).order_by("order").first()
    url = reverse("administration:masterdata_propose", kwargs={"model": "equipment.checklistitem", "pk": item.pk})
    maintenance = client_for("maintenance")
    data = {
        "equipment_class": item.equipment_class_id,
        "order": item.order,
        "name": "Guards, interlocks and emergency stop tested",
        "name_zh": "",
        "active": "on",
        "change_reason": "SOP-EQ-3 rev 4",
    }
    response = maintenance.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    change = MasterDataChange.objects.get()
    assert ChecklistItem.objects.get(pk=item.pk).name == item.name
    detail = reverse("administration:masterdata_detail", args=[change.pk])
    own = maintenance.get(detail).content.decode()
    assert 'data-testid="action-approve"' not in own and 'data-testid="action-withdraw"' in own
    qa = client_for("qa")
    page = qa.get(detail).content.decode()
    assert (
        "Guards, interlocks and emergency stop tested" in page
        and item.name in page
        and 'data-testid="action-approve"' in page
    )
    qa.post(detail, {"action": "approve", "password": password, "reason": "ok"})
    assert ChecklistItem.objects.get(pk=item.pk).name == "Guards, interlocks and emergency stop tested"
    listing = qa.get(reverse("administration:masterdata_list") + "?status=effective").content.decode()
    assert f"MDC-{change.pk:05d}" in listing


def test_django_admin_shows_controlled_fields_read_only(tag, client_for):
    page = client_for("admin").get(reverse("admin:equipment_equipmenttag_change", args=[tag.pk])).content.decode()
    assert 'name="high_limit"' not in page and 'name="node_id"' not in page
    assert "change-control-note" in page
    assert client_for("admin").get(reverse("admin:equipment_equipmenttag_add")).status_code == 403
