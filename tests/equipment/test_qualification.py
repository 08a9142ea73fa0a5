"""Equipment qualification status changes only through QA's signed record (issue 15): the Django
admin shows it read-only and the master-data path refuses it, whoever tries."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from audit.models import Signature
from audit.signatures import SignatureError
from equipment.models import Equipment, QualificationStatus
from equipment.services import equipment_qualification_set
from equipment.services.master import master_data_save

pytestmark = pytest.mark.django_db


def _set(user, equipment, password, status=QualificationStatus.NOT_QUALIFIED):
    return equipment_qualification_set(
        user=user,
        equipment_id=equipment.pk,
        status=status,
        qualified_on=timezone.localdate() if status == QualificationStatus.QUALIFIED else None,
        requalification_due_on=None,
        password=password,
        reason="PQ deviation DV-77",
    )


def test_the_administrator_cannot_change_qualification_in_the_django_admin(equipment, client_for):
    admin = client_for("admin")
    url = reverse("admin:equipment_equipment_change", args=[equipment.pk])
    page = admin.get(url).content.decode()
    assert 'name="qualification_status"' not in page and 'name="qualified_on"' not in page
    form = admin.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and not isinstance(v, list | dict)}
    data.update(
        {
            "code": equipment.code,
            "name": "renamed",
            "equipment_class": equipment.equipment_class_id,
            "qualification_status": QualificationStatus.NOT_QUALIFIED,
            "qualified_on": "2020-01-01",
            "change_reason": "tidy up",
        }
    )
    response = admin.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    stored = Equipment.objects.get(pk=equipment.pk)
    assert stored.name == equipment.name  # under change control: the admin shows it read-only (issue 16)
    assert stored.qualification_status == QualificationStatus.QUALIFIED
    assert stored.qualified_on == equipment.qualified_on


def test_the_master_data_path_refuses_a_qualification_change(equipment, users):
    eq = Equipment.objects.get(pk=equipment.pk)
    eq.qualification_status = QualificationStatus.NOT_QUALIFIED
    with pytest.raises(PermissionDenied, match="QA"):
        master_data_save(user=users["admin"], obj=eq, reason="just because")
    eq = Equipment.objects.get(pk=equipment.pk)
    eq.requalification_due_on = timezone.localdate() + dt.timedelta(days=3000)
    with pytest.raises(PermissionDenied, match="QA"):
        master_data_save(user=users["admin"], obj=eq, reason="extend")
    assert Equipment.objects.get(pk=equipment.pk).requalification_due_on == equipment.requalification_due_on


@pytest.mark.req("SEC-3")
def test_only_qa_changes_qualification_with_a_signature(equipment, users, password):
    for role in ("admin", "supervisor", "maintenance"):
        with pytest.raises(PermissionDenied):
            _set(users[role], equipment, password)
    with pytest.raises(SignatureError):
        _set(users["qa"], equipment, "wrong")
    assert Equipment.objects.get(pk=equipment.pk).qualification_status == QualificationStatus.QUALIFIED
    _set(users["qa"], equipment, password)
    assert Equipment.objects.get(pk=equipment.pk).qualification_status == QualificationStatus.NOT_QUALIFIED
    signature = Signature.objects.get(object_type="equipment.equipment", action="equipment.qualification")
    assert signature.signer == users["qa"] and signature.meaning == "rejected"
