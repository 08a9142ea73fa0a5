"""Writes the database refused: recorded outside the caller's transaction, then folded into the trail.

A refused write (an UPDATE or DELETE of an append-only row, a DELETE of a GMP record, an event that does
not extend the chain, a GMP row written without its audit event, a privilege the runtime role lacks)
usually aborts the caller's transaction, and with it anything that transaction would have recorded. So
every refusal the application meets is first appended, signed, to a refusal file beside the witness
(MES_AUDIT_REFUSAL_FILE) and logged ("mes.security"); whatever the caller then does, the line stays.
`refusals_fold` (beat, with each checkpoint) turns every line not yet in the trail into a
`database.write_refused` event and announces it (`write_refused`), which raises the security alert.

Whatever SQL form the statement had (comments, CTEs, lower case) does not matter: the refusal is
recognised by the database's answer, not by parsing the statement. SQL typed outside the application
(psql as the runtime role) is refused by the same privileges and triggers and logged by the database
server (log_min_error_statement), which is where such a session is seen.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import threading
import uuid
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, transaction
from django.dispatch import Signal

from audit.canonical import format_timestamp
from audit.db import CHAIN_MARK, GUARD_MARK, RETENTION_MARK
from audit.keys import key_ring
from audit.models import AuditEvent
from audit.services import audit_record

logger = logging.getLogger("mes.security")
write_refused = Signal()  # kwargs: entry (dict), in the transaction that records its event

REFUSAL_MARKS = (RETENTION_MARK, CHAIN_MARK, GUARD_MARK, "the table is append-only", "permission denied for")
_lock = threading.Lock()


def is_refusal(message: str) -> bool:
    return any(mark in message for mark in REFUSAL_MARKS)


def refusal_path() -> Path:
    return Path(settings.MES_AUDIT_REFUSAL_FILE)


def _payload(entry: dict) -> bytes:
    body = {k: v for k, v in entry.items() if k != "sig"}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")


def refusal_record(*, message: str, statement: str = "", stage: str = "statement", db_user: str = "") -> dict:
    """Append the refusal to the refusal file (signed) and the security log. Never raises."""
    ring = key_ring()
    entry = {
        "id": uuid.uuid4().hex,
        "at": format_timestamp(dt.datetime.now(dt.UTC)),
        "stage": stage,
        "message": message.strip().splitlines()[0][:500] if message.strip() else "",
        "statement": (statement or "")[:500],
        "db_user": db_user,
        "key_id": ring.current,
    }
    entry["sig"] = ring.sign(_payload(entry))
    logger.error("database refused a write (%s): %s | %s", stage, entry["message"], entry["statement"][:200])
    try:
        path = refusal_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        with _lock, path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry, sort_keys=True) + "\n")
    except OSError:
        logger.exception("could not write the refusal file")
    return entry


def refusals_read() -> list[dict]:
    path = refusal_path()
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def refusals_fold() -> int:
    """Record every refusal of the file that is not in the trail yet; returns how many were recorded."""

    entries = refusals_read()
    if not entries:
        return 0
    known = set(AuditEvent.objects.filter(object_id__in=[e["id"] for e in entries]).values_list("object_id", flat=True))
    recorded = 0
    for entry in entries:
        if entry["id"] in known:
            continue
        with transaction.atomic():
            audit_record(
                action="database.write_refused",
                object_type="database",
                object_id=entry["id"],
                object_repr=entry.get("statement", "")[:255],
                new=entry,
                reason="the database refused a write that bypassed the audited path",
            )
            write_refused.send(sender=None, entry=entry)
        recorded += 1
    return recorded


# --- the connection hooks ---------------------------------------------------------------------------
_WRITES = re.compile(r"\b(DELETE|TRUNCATE|UPDATE|INSERT|ALTER|DROP|SET|COPY|GRANT|REVOKE|CREATE)\b")


def _statement_may_be_refused(sql: str) -> bool:
    """Statements the database may refuse at once: a write that is not a plain INSERT or UPDATE of an
    application table (those are refused at COMMIT when unaudited), and any UPDATE of the audit tables.
    Reads (a SELECT, a read-only CTE) and the audit trail's own statements are not."""
    upper = sql.lstrip().upper()
    if upper.startswith(
        ("SELECT", "SAVEPOINT", "RELEASE", "ROLLBACK TO", "WITH ALSO AS", "WITH UPD AS", "WITH INS AS")
    ):
        return False
    if upper.startswith(("INSERT", "UPDATE")):
        return upper.startswith(("UPDATE AUDIT_", 'UPDATE "AUDIT_'))
    return bool(_WRITES.search(upper))


def refusal_guard(execute, sql, params, many, context):
    """Execute wrapper: a statement the database refuses is recorded (file, log) before the error is
    raised, and, where the caller's transaction can still take it, audited in it too (`write_refused`
    receivers). Inside an atomic block on PostgreSQL a statement that may be refused runs in a savepoint,
    rolled back on refusal, so the caller's transaction stays usable for that event."""
    connection = context["connection"]
    savepoint = None
    if not isinstance(sql, str):
        return execute(sql, params, many, context)
    if connection.vendor == "postgresql" and connection.in_atomic_block and _statement_may_be_refused(sql):
        savepoint = connection.savepoint()
    try:
        result = execute(sql, params, many, context)
    except Exception as exc:
        if savepoint is not None:
            connection.savepoint_rollback(savepoint)
        if is_refusal(str(exc)):
            entry = refusal_record(message=str(exc), statement=sql, db_user=connection.settings_dict.get("USER") or "")
            usable = connection.vendor == "sqlite" or not connection.in_atomic_block or savepoint is not None
            if usable:
                _audit_now(entry, sql)
        raise
    if savepoint is not None:
        connection.savepoint_commit(savepoint)
    return result


def _audit_now(entry: dict, sql: str) -> None:
    try:
        with transaction.atomic():
            write_refused.send(sender="statement", entry=entry)
    except DatabaseError:  # never hide the refusal behind a failure to record it; the file has it
        logger.exception("could not audit the refused write at once; the refusal file keeps it")


def _guard_commit(connection) -> None:
    """Wrap the connection's COMMIT: a GMP row written without its audit event is refused there."""
    original = connection._commit

    def _commit():
        try:
            return original()
        except Exception as exc:
            if is_refusal(str(exc)):
                refusal_record(message=str(exc), stage="commit", db_user=connection.settings_dict.get("USER") or "")
            raise

    connection._commit = _commit


def install_refusal_hooks(sender, connection, **kwargs) -> None:
    """connection_created receiver: the execute wrapper (first in the list, because
    `connection.execute_wrapper()` context managers pop the last one) and the COMMIT hook."""
    if refusal_guard not in connection.execute_wrappers:
        connection.execute_wrappers.insert(0, refusal_guard)
    if not getattr(connection, "_mes_commit_guarded", False):
        _guard_commit(connection)
        connection._mes_commit_guarded = True
