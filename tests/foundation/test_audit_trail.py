"""The audit trail is append-only in the database and tamper-evident through its hash chain."""

import datetime as dt
import json
import threading

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, connections, transaction

from audit.db import install_append_only, install_chain_guard, remove_append_only, remove_chain_guard
from audit.dbroles import as_owner
from audit.models import AuditEvent, ChainHead
from audit.services import audit_record
from audit.verification import verify_chain, write_checkpoint


def _events(n=5):
    with transaction.atomic():
        for i in range(n):
            audit_record(action="test.event", object_type="test.thing", object_id=str(i), new={"i": i, "name": "批次"})


@pytest.mark.req("AUD-2")
@pytest.mark.django_db(transaction=True)
def test_triggers_refuse_update_delete_and_truncate_even_through_raw_sql(users, password):
    from audit.signatures import signature_sign

    _events(3)
    signature_sign(user=users["qa"], password=password, obj=_any_record(), meaning="approved")
    statements = [
        "UPDATE audit_auditevent SET reason = 'edited' WHERE seq = 2",
        "DELETE FROM audit_auditevent WHERE seq = 3",
        "UPDATE audit_signature SET reason = 'x'",
        "DELETE FROM audit_signature",
    ]
    if connection.vendor == "postgresql":
        statements.append("TRUNCATE audit_auditevent CASCADE")
    for sql in statements:
        # the runtime role has no UPDATE/DELETE/TRUNCATE right; the owner meets the triggers
        with pytest.raises(DatabaseError, match="append-only|permission denied"):
            with transaction.atomic(), connection.cursor() as cur:
                cur.execute(sql)
    assert AuditEvent.objects.count() >= 3
    write_checkpoint()
    assert verify_chain().ok


@pytest.mark.req("AUD-2")
@pytest.mark.django_db
def test_model_level_changes_to_events_are_refused():
    _events(1)
    event = AuditEvent.objects.first()
    event.reason = "changed"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()


def _any_record():
    from materials.models import Material

    return Material.objects.create(code="T-1", name="Test", type="raw", unit="kg")


def _tamper(sql: str, params=()):
    """Act as the database owner: lift the triggers, change history, put the triggers back."""
    with as_owner(connection):
        remove_append_only(connection)
        remove_chain_guard(connection)
        try:
            with connection.cursor() as cur:
                cur.execute(sql, params)
        finally:
            install_append_only(connection)
            install_chain_guard(connection)


def _verify_exit_code(capsys):
    with pytest.raises(SystemExit) as exc:
        call_command("verify_audit_trail")
    return exc.value.code, capsys.readouterr().err


@pytest.mark.req("AUD-2", "AUD-3")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "sql, bad_seq",
    [
        ("UPDATE audit_auditevent SET new_values = '{\"i\":99}' WHERE seq = 4", 4),
        ("DELETE FROM audit_auditevent WHERE seq = 3", 4),
        ("UPDATE audit_auditevent SET username = 'mallory' WHERE seq = 2", 2),
    ],
    ids=["altered", "deleted", "reattributed"],
)
def test_tampering_is_detected_and_named(sql, bad_seq, capsys):
    _events(6)
    write_checkpoint()
    call_command("verify_audit_trail")  # intact before
    assert "intact" in capsys.readouterr().out
    _tamper(sql)
    code, err = _verify_exit_code(capsys)
    assert code == 1
    assert f"First bad event: #{bad_seq}" in err


@pytest.mark.req("AUD-2", "AUD-3")
@pytest.mark.django_db(transaction=True)
def test_a_timestamp_moved_by_one_microsecond_is_detected(capsys):
    _events(6)
    moved = AuditEvent.objects.get(seq=5).timestamp + dt.timedelta(microseconds=1)
    _tamper("UPDATE audit_auditevent SET timestamp = %s WHERE seq = 5", [moved])
    assert AuditEvent.objects.get(seq=5).timestamp == moved
    code, err = _verify_exit_code(capsys)
    assert code == 1 and "First bad event: #5" in err


@pytest.mark.req("AUD-2")
@pytest.mark.django_db
def test_the_verifier_reads_timestamps_exactly_as_they_were_hashed():
    """On PostgreSQL the verifier lets the database format the timestamp; it must give the very text
    the event was hashed with (UTC, six-digit microseconds, "Z"), whole seconds and time zones included."""
    from zoneinfo import ZoneInfo

    from audit.canonical import format_timestamp
    from audit.verification import _PG_TIMESTAMP

    if connection.vendor != "postgresql":
        pytest.skip("the SQLite verifier formats timestamps in Python")
    moments = [
        dt.datetime(2026, 1, 1, 0, 0, 0, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 29, 1, 59, 59, 1, tzinfo=dt.UTC),
        dt.datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=ZoneInfo("Asia/Shanghai")),
        dt.datetime(1999, 7, 4, 12, 30, 5, 120000, tzinfo=ZoneInfo("America/New_York")),
    ]
    with connection.cursor() as cur:
        for moment in moments:
            cur.execute(f"SELECT {_PG_TIMESTAMP} FROM (SELECT %s::timestamptz AS timestamp) t", [moment])
            assert cur.fetchone()[0] == format_timestamp(moment)


@pytest.mark.req("AUD-2")
@pytest.mark.django_db(transaction=True)
def test_event_inserted_out_of_chain_is_detected(capsys):
    _events(4)
    last = AuditEvent.objects.order_by("-seq").first()
    _tamper(
        "INSERT INTO audit_auditevent (seq, timestamp, username, action, object_type, object_id, object_repr, "
        "old_values, new_values, reason, request_id, ip_address, prev_hash, hash, key_id) "
        "VALUES (%s, %s, 'mallory', 'forged', '', '', '', '', '', '', '', '', %s, %s, '')",
        (last.seq + 1, last.timestamp, last.hash, "f" * 64),
    )
    code, err = _verify_exit_code(capsys)
    assert code == 1 and f"#{last.seq + 1}" in err


@pytest.mark.req("AUD-2")
@pytest.mark.django_db(transaction=True)
def test_rebuilt_chain_is_caught_by_the_external_checkpoint(tmp_path, settings):
    """A superuser who also stole the key rewrites an event and re-keys every later hash: the chain
    itself verifies, and the signed checkpoint still catches it."""
    settings.MES_AUDIT_CHECKPOINT_FILE = tmp_path / "cp.jsonl"
    _events(5)
    write_checkpoint()
    with as_owner(connection):
        _rebuild_chain()
    result = verify_chain()
    assert not result.ok
    assert all("checkpoint" in p for p in result.problems), result.problems


def _rebuild_chain():
    from audit.canonical import event_hash, format_timestamp
    from audit.keys import key_ring

    remove_append_only(connection)
    remove_chain_guard(connection)
    try:
        prev = None
        for e in AuditEvent.objects.order_by("seq"):
            new_values = e.new_values.replace('"i":2', '"i":42')
            prev = prev or e.prev_hash
            digest = event_hash(
                seq=e.seq,
                timestamp=format_timestamp(e.timestamp),
                actor_id=e.actor_id,
                username=e.username,
                action=e.action,
                object_type=e.object_type,
                object_id=e.object_id,
                object_repr=e.object_repr,
                old_values=e.old_values,
                new_values=new_values,
                reason=e.reason,
                request_id=e.request_id,
                ip_address=e.ip_address,
                prev_hash=prev,
                key_id=e.key_id,
                key=key_ring().key(e.key_id),
            )
            with connection.cursor() as cur:
                cur.execute(
                    "UPDATE audit_auditevent SET new_values=%s, prev_hash=%s, hash=%s WHERE seq=%s",
                    [new_values, prev, digest, e.seq],
                )
            prev = digest
        ChainHead.objects.filter(pk=1).update(hash=prev)
    finally:
        install_append_only(connection)
        install_chain_guard(connection)


@pytest.mark.req("AUD-2")
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_one_unbroken_chain():
    """Eight threads, each with its own database connection, append at once."""
    errors = []

    def writer(n):
        try:
            for i in range(15):
                with transaction.atomic():
                    audit_record(action="test.concurrent", object_type="t", object_id=f"{n}-{i}")
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    write_checkpoint()
    result = verify_chain()
    assert result.ok, result.problems
    assert AuditEvent.objects.filter(action="test.concurrent").count() == 120
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))


@pytest.mark.django_db
def test_events_store_canonical_values_that_round_trip():
    _events(1)
    event = AuditEvent.objects.order_by("-seq").first()
    assert json.loads(event.new_values) == {"i": 0, "name": "批次"}
    assert event.username == "system"
