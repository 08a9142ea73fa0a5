"""Equipment bulk import (CSV, issue 23) goes through change control: checked, proposed, effective on approval."""

from __future__ import annotations

import pytest
from django.urls import reverse

from equipment.models import Equipment
from equipment.services.importing import equipment_import
from mes.changecontrol import masterdata_change_approve
from mes.models import MasterDataChange

pytestmark = pytest.mark.django_db
HEADER = "code,name,class,line,location,calibration_interval_days,opcua_endpoint\n"


def test_lines_are_checked_first_and_nothing_is_proposed_on_an_error(equipment, users):
    text = HEADER + "GRAN-09,New granulator,GRAN,L1,OSD-109,365,\nTPRS-09,Press,NOPE,L1,,,\nGRAN-09,Twice,GRAN,L1,,,\n"
    result = equipment_import(user=users["admin"], text=text, reason="plant extension")
    assert any("Line 3" in e and "NOPE" in e for e in result.errors)
    assert any("Line 4" in e and "twice" in e for e in result.errors)
    assert not MasterDataChange.objects.exists() and not Equipment.objects.filter(code="GRAN-09").exists()


def test_new_and_changed_equipment_become_change_requests(equipment, users, password):
    text = (
        HEADER
        + "GRAN-09,New granulator,GRAN,L1,OSD-109,365,opc.tcp://10.0.0.9:4840\n"
        + f"{equipment.code},{equipment.name},GRAN,L1,OSD-200,180,\n"
        + "TPRS-01,Press one,TPRS,L1,,,\n"
    )
    result = equipment_import(user=users["admin"], text=text, reason="plant extension, CR-2026-114")
    assert not result.errors and len(result.proposed) == 3
    assert not Equipment.objects.filter(code="GRAN-09").exists()
    assert Equipment.objects.get(pk=equipment.pk).location == ""
    for change in result.proposed:
        masterdata_change_approve(user=users["qa"], change_id=change.pk, password=password)
    new = Equipment.objects.get(code="GRAN-09")
    assert new.location == "OSD-109" and new.calibration_interval_days == 365 and new.line.code == "L1"
    assert Equipment.objects.get(pk=equipment.pk).location == "OSD-200"
    again = equipment_import(user=users["admin"], text=text, reason="same file again")
    assert again.proposed == [] and again.unchanged == 3


def test_import_page_proposes(equipment, client_for):
    text = HEADER + "GRAN-10,Granulator ten,GRAN,L1,OSD-110,365,\n"
    response = client_for("maintenance").post(
        reverse("equipment:equipment_import"), {"text": text, "reason": "new line"}
    )
    assert response.status_code == 302
    assert MasterDataChange.objects.filter(object_type="equipment.equipment", object_id="").count() == 1
