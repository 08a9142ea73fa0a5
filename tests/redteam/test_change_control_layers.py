"""Issue 16, red team: a person changes a tag limit by hand (ORM, raw SQL as the runtime role) and is
refused with the record unchanged; the approved change request changes it (another person, signed)."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError

from audit.models import AuditEvent, Signature
from audit.services import audit_record
from equipment.models import EquipmentTag
from equipment.opcua.config import tags_configure
from mes.changecontrol import ChangeControlError, masterdata_change_approve, masterdata_propose
from tests.equipment.conftest import equipment, make_equipment, plant  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def tag(equipment):  # noqa: F811
    tags_configure(equipment, "opc.tcp://127.0.0.1:4999/mes/redteam")
    return EquipmentTag.objects.get(equipment=equipment, key="temperature")


def test_orm_save_of_a_tag_limit_is_refused_and_the_record_unchanged(tag):
    tag.high_limit = 99.0
    with pytest.raises(ChangeControlError, match="change control"), transaction.atomic():
        tag.save()
    assert EquipmentTag.objects.get(pk=tag.pk).high_limit == 60.0


@pytest.mark.django_db(transaction=True)  # a real COMMIT: the deferred trigger fires there
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the database guard is PostgreSQL's (SQLite: ORM only)")
def test_raw_sql_as_the_runtime_role_is_refused_at_commit(tag):
    with pytest.raises(DatabaseError, match="MES-(CHANGE-CONTROL|AUDIT-GUARD)"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE equipment_equipmenttag SET high_limit = 99 WHERE id = %s", [tag.pk])
    assert EquipmentTag.objects.get(pk=tag.pk).high_limit == 60.0


def test_the_approved_change_request_changes_the_limit_signed_in_one_transaction(tag, users, password):
    edited = EquipmentTag.objects.get(pk=tag.pk)
    edited.high_limit = 58.0
    change = masterdata_propose(user=users["maintenance"], obj=edited, reason="narrower range after PQ")
    masterdata_change_approve(user=users["qa"], change_id=change.pk, password=password)
    assert EquipmentTag.objects.get(pk=tag.pk).high_limit == 58.0
    assert Signature.objects.filter(object_id=str(change.pk), signer=users["qa"]).exists()
    assert AuditEvent.objects.filter(object_type="equipment.equipmenttag", object_id=str(tag.pk)).exists()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the database guard accepts the approval


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the database guard is PostgreSQL's (SQLite: ORM only)")
def test_raw_sql_with_a_self_written_audit_event_is_still_refused_by_the_change_control_trigger(tag):
    """The insider writes the audit event the GMP write guard wants, then the raw UPDATE: only the
    change-control trigger stands between them and a silently widened limit."""
    with pytest.raises(DatabaseError, match="MES-CHANGE-CONTROL"):
        with transaction.atomic():
            audit_record(action="equipment.tag.update", obj=tag, new={"high_limit": 99}, reason="quick fix")
            with connection.cursor() as cursor:
                cursor.execute("UPDATE equipment_equipmenttag SET high_limit = 99 WHERE id = %s", [tag.pk])
    assert EquipmentTag.objects.get(pk=tag.pk).high_limit == 60.0
