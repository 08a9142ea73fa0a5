"""The insider attacks of issue 15, each as written there, against real PostgreSQL roles.

Two attackers: someone holding the application's database credentials (the runtime role: refused by
the database) and a PostgreSQL superuser who can switch every trigger off (caught by verify_audit_trail,
because the chain is keyed with a secret outside the database and witnessed by signed checkpoints).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import psycopg
import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from audit.canonical import event_hash, format_timestamp
from audit.models import AuditEvent, ChainHead, Signature
from audit.refusals import refusals_fold, refusals_read
from audit.verification import verify_chain, write_checkpoint

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _events(n: int) -> None:
    from audit.services import audit_record

    for i in range(n):
        with transaction.atomic():
            audit_record(action="test.event", object_type="test.thing", object_id=str(i), new={"i": i})


def _refused(conn, sql: str, params=(), match: str = "permission denied|MES") -> None:
    with pytest.raises(psycopg.Error, match=match):
        conn.execute(sql, params)


def _public_hash_row(seq: int, prev_hash: str, action: str = "qa.signed") -> tuple:
    """An event hashed with the formula anyone can read in the source (plain SHA-256, no key)."""
    now = dt.datetime.now(dt.UTC)
    fields = dict(actor_id=None, username="qa", action=action, object_type="quality.batchrelease", object_id="1",
                  object_repr="B-1", old_values="", new_values="", reason="", request_id="", ip_address="")  # fmt: skip
    digest = event_hash(seq=seq, timestamp=format_timestamp(now), prev_hash=prev_hash, **fields)
    return now, fields, digest


def _insert_event(conn, seq, prev_hash, now, fields, digest, key_id=""):
    conn.execute(
        "INSERT INTO audit_auditevent (seq, timestamp, actor_id, username, action, object_type, object_id, "
        "object_repr, old_values, new_values, reason, request_id, ip_address, prev_hash, hash, key_id) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        [seq, now, *fields.values(), prev_hash, digest, key_id],
    )


def _problems() -> str:
    result = verify_chain()
    assert not result.ok
    return " | ".join(result.problems)


# --- 1. A forged event appended ----------------------------------------------------------------------
def test_1_forged_event_by_the_runtime_role_is_caught_and_the_head_cannot_be_moved(runtime):
    _events(3)
    write_checkpoint()
    head = ChainHead.objects.get(pk=1)
    _refused(runtime, "UPDATE audit_chainhead SET seq = seq + 1, hash = %s WHERE id = 1", ["f" * 64])
    now, fields, digest = _public_hash_row(head.seq + 1, head.hash)
    _insert_event(runtime, head.seq + 1, head.hash, now, fields, digest)  # the only door: it must link
    assert "unkeyed event after keyed ones" in _problems()
    now, fields, _ = _public_hash_row(head.seq + 2, digest)
    _insert_event(runtime, head.seq + 2, digest, now, fields, "e" * 64, key_id="stolen-id")
    assert "unknown key 'stolen-id'" in _problems()


def test_1_an_event_slotted_out_of_chain_is_refused_by_the_database(runtime):
    _events(2)
    head = ChainHead.objects.get(pk=1)
    now, fields, digest = _public_hash_row(head.seq + 5, head.hash)
    with pytest.raises(psycopg.Error, match="MES-AUDIT-CHAIN"):
        _insert_event(runtime, head.seq + 5, head.hash, now, fields, digest)


def test_1_forged_event_by_a_superuser_is_caught(superuser):
    _events(3)
    write_checkpoint()
    head = ChainHead.objects.get(pk=1)
    now, fields, digest = _public_hash_row(head.seq + 1, head.hash)
    superuser.execute("SET session_replication_role = replica")
    _insert_event(superuser, head.seq + 1, head.hash, now, fields, digest, key_id="test-k1")
    superuser.execute("UPDATE audit_chainhead SET seq = %s, hash = %s WHERE id = 1", [head.seq + 1, digest])
    assert f"event #{head.seq + 1}: content does not match its keyed hash" in _problems()


# --- 2. The tail after the last checkpoint ------------------------------------------------------------
def test_2_the_runtime_role_cannot_cut_the_tail(runtime):
    _events(5)
    before = AuditEvent.objects.count()
    for sql in (
        "SET session_replication_role = replica",
        "DELETE FROM audit_auditevent WHERE seq > 2",
        "TRUNCATE audit_auditevent CASCADE",
        "ALTER TABLE audit_auditevent DISABLE TRIGGER ALL",
        "UPDATE audit_chainhead SET seq = 2 WHERE id = 1",
        "DROP TRIGGER audit_auditevent_link ON audit_auditevent",
    ):
        _refused(runtime, sql, match="permission denied|must be owner|MES")
    assert AuditEvent.objects.count() == before


def test_2_a_superuser_cutting_the_tail_is_caught_by_the_witness(superuser):
    _events(5)
    last = write_checkpoint()["seq"]
    superuser.execute("SET session_replication_role = replica")
    superuser.execute("DELETE FROM audit_auditevent WHERE seq > %s", [last - 2])
    row = superuser.execute("SELECT hash FROM audit_auditevent WHERE seq = %s", [last - 2]).fetchone()
    superuser.execute("UPDATE audit_chainhead SET seq = %s, hash = %s WHERE id = 1", [last - 2, row[0]])
    assert f"names event #{last}, which no longer exists" in _problems()


# --- 3. The witness -------------------------------------------------------------------------------------
def test_3_a_missing_emptied_unsigned_or_rewritten_witness_fails(settings, tmp_path):
    _events(3)
    path = settings.MES_AUDIT_CHECKPOINT_FILE
    assert "is missing" in _problems()
    path.write_text("")
    assert "no valid checkpoint" in _problems()
    write_checkpoint()
    assert verify_chain().ok
    entry = json.loads(path.read_text())
    unsigned = {k: v for k, v in entry.items() if k != "sig"}
    path.write_text(json.dumps(unsigned) + "\n")
    assert "unsigned" in _problems()
    path.write_text(json.dumps({**entry, "seq": 2}) + "\n")
    assert "signature does not match" in _problems()
    path.write_text(json.dumps({**entry, "key_id": "other"}) + "\n")
    assert "unknown key 'other'" in _problems()


def test_3_a_chain_rebuilt_with_the_stolen_key_still_fails_the_signed_checkpoint(superuser):
    from audit.keys import key_ring

    _events(4)
    write_checkpoint()
    superuser.execute("SET session_replication_role = replica")
    prev = None
    for e in AuditEvent.objects.order_by("seq"):
        prev = prev or e.prev_hash
        values = e.new_values.replace('"i":1', '"i":7')
        digest = event_hash(seq=e.seq, timestamp=format_timestamp(e.timestamp), actor_id=e.actor_id,
                            username=e.username, action=e.action, object_type=e.object_type, object_id=e.object_id,
                            object_repr=e.object_repr, old_values=e.old_values, new_values=values, reason=e.reason,
                            request_id=e.request_id, ip_address=e.ip_address, prev_hash=prev, key_id=e.key_id,
                            key=key_ring().key(e.key_id))  # fmt: skip
        superuser.execute(
            "UPDATE audit_auditevent SET new_values = %s, prev_hash = %s, hash = %s WHERE seq = %s",
            [values, prev, digest, e.seq],
        )
        prev = digest
    superuser.execute("UPDATE audit_chainhead SET hash = %s WHERE id = 1", [prev])
    assert "differs from the checkpoint" in _problems()


# --- 4. A raw UPDATE of a GMP row; signatures rewritten ---------------------------------------------------
@pytest.fixture
def lot(users):
    from materials.models import Location
    from materials.services.lots import lot_receive
    from tests.materials.conftest import make_material

    material = make_material("RT-API")
    location = Location.objects.create(code="RT-WH", name="Red team store")
    return lot_receive(user=users["warehouse"], material=material, quantity=Decimal("10"), unit="kg",
                       location=location, expiry_date=dt.date.today() + dt.timedelta(days=100))  # fmt: skip


def test_4_raw_sql_update_of_a_gmp_row_is_refused_and_recorded(lot, users):
    expiry = lot.expiry_date
    with pytest.raises(DatabaseError, match="MES-AUDIT-GUARD"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE materials_lot SET expiry_date = expiry_date + interval '3 years'")
    lot.refresh_from_db()
    assert lot.expiry_date == expiry
    assert [e["stage"] for e in refusals_read()] == ["commit"]
    assert refusals_fold() == 1 and refusals_fold() == 0
    event = AuditEvent.objects.get(action="database.write_refused")
    assert "materials_lot" in event.new["message"]
    from administration.models import AlertKind, SecurityAlert

    assert SecurityAlert.objects.filter(kind=AlertKind.WRITE_REFUSED).exists()


def test_4_the_runtime_role_in_psql_cannot_change_a_gmp_row_either(lot, runtime):
    with pytest.raises(psycopg.Error, match="MES-AUDIT-GUARD"):
        runtime.execute("UPDATE materials_lot SET status = 'released' WHERE id = %s", [lot.pk])
    lot.refresh_from_db()
    assert lot.status == "quarantine"


def test_4_signature_rows_cannot_be_rewritten_and_a_rewrite_is_caught(lot, users, password, runtime, superuser):
    from audit.signatures import signature_sign

    signature = signature_sign(user=users["qc"], password=password, obj=lot, meaning="approved")
    _refused(runtime, "UPDATE audit_signature SET content_hash = %s", ["0" * 64])
    write_checkpoint()
    assert verify_chain().ok
    superuser.execute("SET session_replication_role = replica")
    superuser.execute("UPDATE audit_signature SET signer_id = %s WHERE id = %s", [users["qa"].pk, signature.pk])
    assert "signer differs" in _problems()
    superuser.execute(
        "UPDATE audit_signature SET signer_id = %s, content_hash = %s WHERE id = %s",
        [users["qc"].pk, "0" * 64, signature.pk],
    )
    assert "content hash differs" in _problems()
    assert Signature.objects.count() == 1


# --- 5. Other unaudited write paths ----------------------------------------------------------------------
def test_5_base_manager_update_is_refused(draft_order):
    from orders.models import ProductionOrder

    with pytest.raises(DatabaseError, match="MES-AUDIT-GUARD"), transaction.atomic():
        ProductionOrder._base_manager.filter(pk=draft_order.pk).update(planned_quantity=99999)
    draft_order.refresh_from_db()
    assert draft_order.planned_quantity == Decimal("400")


def test_5_loaddata_cannot_release_a_lot(lot, tmp_path):
    from django.core import serializers

    fixture = tmp_path / "lot.json"

    data = json.loads(serializers.serialize("json", [lot]))
    data[0]["fields"]["status"] = "released"
    fixture.write_text(json.dumps(data))
    with pytest.raises(DatabaseError, match="MES-AUDIT-GUARD"):
        call_command("loaddata", str(fixture), verbosity=0)
    lot.refresh_from_db()
    assert lot.status == "quarantine"


# --- 7. Refusals whatever the SQL form, recorded though the caller rolls back ---------------------------------
@pytest.mark.parametrize(
    "sql",
    [
        "/* x */ DELETE FROM materials_lot",
        "WITH d AS (DELETE FROM materials_lot RETURNING 1) SELECT count(*) FROM d",
        "delete from audit_auditevent",
    ],  # fmt: skip
)
def test_7_disguised_deletes_are_refused_recorded_and_alerted_after_a_rollback(lot, sql, users):
    users["admin"].email = "admin@plant.example"
    users["admin"].save()
    with pytest.raises(DatabaseError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql)
        raise AssertionError("not reached")
    assert len(refusals_read()) == 1  # kept although the transaction rolled back
    refusals_fold()  # the beat's minute: the refusal is in the trail (once) and alerted
    from administration.models import SecurityAlert

    entry_id = refusals_read()[0]["id"]
    assert AuditEvent.objects.filter(object_id=entry_id).count() == 1
    assert SecurityAlert.objects.exists()
    from django.core import mail

    # one mail per refusal, to the administrators, naming the kind of refusal and quoting the statement
    alerts = [m for m in mail.outbox if m.subject.startswith("[MES security]")]
    assert len(alerts) == 1, [m.subject for m in mail.outbox]
    assert alerts[0].to == ["admin@plant.example"]
    assert str(SecurityAlert.objects.get().get_kind_display()) in alerts[0].subject
    assert f"SQL: {sql}" in alerts[0].body


# --- the system check ------------------------------------------------------------------------------------
def _connected_as(user: str):
    import contextlib

    @contextlib.contextmanager
    def swap():
        saved = connection.settings_dict["USER"]
        connection.close()
        connection.settings_dict["USER"] = user
        try:
            yield
        finally:
            connection.close()
            connection.settings_dict["USER"] = saved

    return swap()


def test_the_system_check_passes_the_runtime_role_and_fails_a_superuser_or_a_disabled_guard(superuser):
    from audit.dbroles import runtime_role_problems

    assert runtime_role_problems(connection) == []
    with _connected_as("postgres"):
        assert any("superuser" in p for p in runtime_role_problems(connection))
    with _connected_as("mes_owner"):
        assert any("owns tables" in p for p in runtime_role_problems(connection))
    superuser.execute("ALTER TABLE audit_signature DISABLE TRIGGER audit_signature_append_only")
    try:
        assert any("audit_signature_append_only" in p for p in runtime_role_problems(connection))
    finally:
        superuser.execute("ALTER TABLE audit_signature ENABLE TRIGGER audit_signature_append_only")
