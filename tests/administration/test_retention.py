"""Retention (BAT-4, QC-5, AUD-4): no GMP record is deleted, by any entry point; refusals are audited.
Archive export with a manifest of checksums."""

import datetime as dt
import json

import pytest
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection, models, transaction
from django.utils import timezone

from administration.retention import gmp_models, retention_tables
from administration.services.archive import archive_export, archive_verify
from audit.context import audit_context
from audit.gmp import AuditBypassError
from audit.models import AuditEvent
from materials.models import Material
from mes.changecontrol import controlled_writes

pytestmark = pytest.mark.django_db


@pytest.fixture
def material():
    with audit_context(action="test.create"):
        return Material.objects.create(code="API-7", name="Paracetamol", type="raw", unit="kg")


def _refusals(entry_point):
    return [
        e
        for e in AuditEvent.objects.filter(action="retention.delete_refused")
        if e.new.get("entry_point") == entry_point
    ]


@pytest.mark.req("BAT-4", "QC-5", "AUD-4")
def test_every_gmp_table_and_its_history_has_a_retention_trigger():
    tables = retention_tables(connection)
    for model in gmp_models():
        assert model._meta.db_table in tables
        assert model.history.model._meta.db_table in tables
    assert "auth_user" in tables
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT DISTINCT tgrelid::regclass::text FROM pg_trigger WHERE tgname LIKE '%%_retention'")
        else:
            cursor.execute("SELECT tbl_name FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%_retention'")
        protected = {row[0].strip('"') for row in cursor.fetchall()}
    assert set(tables) <= protected


@pytest.mark.req("BAT-4", "QC-5")
def test_orm_instance_delete_is_refused_and_audited(material):
    with pytest.raises(AuditBypassError):
        material.delete()
    assert Material.objects.filter(pk=material.pk).exists()
    event = _refusals("orm-instance")[-1]
    assert event.object_type == "materials.material" and event.object_id == str(material.pk)


@pytest.mark.req("BAT-4", "QC-5")
def test_queryset_delete_is_refused_and_audited(material):
    with pytest.raises(AuditBypassError):
        Material.objects.filter(pk=material.pk).delete()
    assert Material.objects.filter(pk=material.pk).exists()
    assert _refusals("orm-queryset")[-1].object_type == "materials.material"


@pytest.mark.req("BAT-4", "QC-5")
def test_admin_delete_is_refused_and_audited(material, client):
    root = get_user_model().objects.create_superuser("root", "root@example.com", "Root-password-2026!")
    client.force_login(root)
    assert client.post(f"/admin/materials/material/{material.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Material.objects.filter(pk=material.pk).exists()
    event = _refusals("admin")[-1]
    assert event.username == "root" and event.object_id == str(material.pk)


@pytest.mark.req("BAT-4", "QC-5", "AUD-4")
def test_raw_sql_delete_is_refused_by_the_database_and_audited(
    material, users, admin_mail, django_capture_on_commit_callbacks
):
    # (The event is written in the caller's transaction; here the test's. The e-mail goes when it commits;
    # a caller that rolls back leaves the mail to the fold: tests/redteam test_7.)
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(DatabaseError, match="MES-RETENTION|permission denied"),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM materials_material WHERE id = %s", [material.pk])
    assert Material.objects.filter(pk=material.pk).exists()
    event = _refusals("sql")[-1]
    assert event.object_type == "materials_material" and "DELETE FROM materials_material" in event.new["statement"]
    from administration.models import AlertKind, SecurityAlert

    assert SecurityAlert.objects.filter(kind=AlertKind.DELETE_REFUSED).exists()
    from django.core import mail

    assert len(mail.outbox) == 1 and "materials_material" in mail.outbox[0].body


@pytest.fixture
def admin_mail(users):
    users["admin"].email = "admin@plant.example"
    users["admin"].save()


@pytest.mark.req("AUD-4")
def test_raw_sql_cannot_delete_history_rows_or_accounts(material, users):
    for sql, params in [
        ("DELETE FROM materials_historicalmaterial WHERE id = %s", [material.pk]),
        ("DELETE FROM auth_user WHERE username = %s", ["analyst"]),
    ]:
        with (
            pytest.raises(DatabaseError, match="MES-RETENTION|permission denied"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, params)
    assert material.history.count() == 1
    assert get_user_model().objects.filter(username="analyst").exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE exists only on PostgreSQL")
@pytest.mark.req("BAT-4")
def test_truncate_is_refused(material):
    with (
        pytest.raises(DatabaseError, match="MES-RETENTION|permission denied"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("TRUNCATE materials_material CASCADE")
    assert Material.objects.filter(pk=material.pk).exists()


@pytest.mark.req("BAT-4", "QC-5")
def test_relations_to_and_from_gmp_records_are_protected():
    """No deletion can cascade through a GMP record: every foreign key touching one uses PROTECT."""
    from django.apps import apps

    gmp = set(gmp_models())
    wrong = []
    for model in apps.get_models():
        if model.__name__.startswith("Historical"):
            continue  # simple-history copies keep DO_NOTHING references by design
        for field in model._meta.concrete_fields:
            if not isinstance(field, models.ForeignKey):
                continue
            involved = model in gmp or field.related_model in gmp
            if involved and field.remote_field.on_delete is not models.PROTECT:
                wrong.append(f"{model._meta.label}.{field.name}")
    assert not wrong, f"use on_delete=PROTECT: {wrong}"


@pytest.mark.req("BAT-4", "QC-5", "AUD-4")
def test_archive_export_writes_records_trail_files_and_a_checksummed_manifest(material, users, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    (tmp_path / "media" / "reports").mkdir(parents=True)
    (tmp_path / "media" / "reports" / "batch-record-B1.pdf").write_bytes(b"%PDF-1.7 batch record")
    with (
        audit_context(actor=users["admin"], action="materials.material.update", reason="spec v2"),
        controlled_writes("test: a material renamed (its history goes into the archive)"),
    ):
        material.name = "Paracetamol (DC grade)"
        material.save()
    today = timezone.localdate()
    path = archive_export(
        actor=users["auditor"], date_from=today - dt.timedelta(days=1), date_to=today, directory=tmp_path / "arch"
    )
    manifest = json.loads((path / "manifest.json").read_text())
    records = [json.loads(line) for line in (path / "records" / "materials.material.jsonl").read_text().splitlines()]
    assert records[0]["name"] == "Paracetamol (DC grade)"
    trail = [json.loads(line) for line in (path / "audit_trail.jsonl").read_text().splitlines()]
    assert any(e["action"] == "materials.material.update" and e["reason"] == "spec v2" for e in trail)
    assert "files/reports/batch-record-B1.pdf" in manifest["files"]
    assert manifest["counts"]["materials.material"] == 1
    assert archive_verify(path) == []
    (path / "files" / "reports" / "batch-record-B1.pdf").write_bytes(b"%PDF-1.7 altered")
    assert archive_verify(path) == ["files/reports/batch-record-B1.pdf does not match its checksum"]
    assert AuditEvent.objects.filter(action="system.archive_export", username="auditor").exists()
    assert Material.objects.filter(pk=material.pk).exists()  # an archive copies; it never removes
