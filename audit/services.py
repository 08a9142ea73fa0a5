"""Writing the audit trail: one service appends an event to the hash chain."""

from __future__ import annotations

import threading
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from audit.canonical import canonical_json, event_hash, format_timestamp
from audit.context import current_actor, current_audit_context, current_request
from audit.keys import key_ring
from audit.models import GENESIS_HASH, AuditEvent, ChainHead
from audit.prepared import audit_cursor

SYSTEM_USERNAME = "system"


def object_label(obj: models.Model) -> str:
    return f"{obj._meta.app_label}.{obj._meta.model_name}"


def audit_record(
    *,
    action: str,
    actor: Any = None,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    old: dict | None = None,
    new: dict | None = None,
    reason: str = "",
    username: str = "",
    also: Any = None,
    head: tuple[int, str] | None = None,
    then: Any = None,
) -> AuditEvent:
    """Append one event to the audit trail, in the caller's transaction.

    The chain head row is locked (SELECT ... FOR UPDATE; an IMMEDIATE transaction on SQLite) so
    positions and previous hashes are assigned one at a time, whatever the concurrency.
    `also`: one more INSERT to run in the same statement as the event (`sql`, `params`, and
    `written(returned_value)` called once it is stored): the record's history version, so an
    audited save costs one round trip less (audit.history).
    `head`: (seq, hash) of the chain head when this transaction has just locked it and no event
    was appended since (audit.saveround), so it is not read a second time.
    `then`: one more INSERT that names the event (`sql` with `{event}` where the event's id goes,
    `params`, `written(row_id, event_id)`, and `write(event_id)` where it runs on its own): the
    signature row of a signature event, stored in the event's statement (audit.signatures).
    """
    if actor is None:
        actor = current_actor()
    ctx = current_audit_context()
    if not reason and ctx is not None:
        reason = ctx.reason
    if obj is not None:
        object_type = object_type or object_label(obj)
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:255]
    info = current_request()
    actor_id = actor.pk if actor is not None and getattr(actor, "pk", None) else None
    username = username or (actor.get_username() if actor_id else SYSTEM_USERNAME)
    fields = {
        "actor_id": actor_id,
        "username": username[:150],
        "action": action[:80],
        "object_type": object_type[:100],
        "object_id": str(object_id)[:64],
        "object_repr": object_repr[:255],
        "old_values": canonical_json(old) if old else "",
        "new_values": canonical_json(new) if new else "",
        "reason": reason or "",
        "request_id": info.request_id if info else "",
        "ip_address": info.ip_address if info else "",
    }
    return _append(fields, also, head, then)


_INSERT = (
    "INSERT INTO audit_auditevent (seq, timestamp, actor_id, username, action, object_type, object_id, "
    "object_repr, old_values, new_values, reason, request_id, ip_address, prev_hash, hash, key_id) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id"
)


_local = threading.local()  # per thread, like its database connection and transaction


def append_count() -> int:
    """How many events this thread appended: a head it read and locked earlier in its transaction is
    still the head while this count is unchanged (nobody else can move a head we hold locked)."""
    return getattr(_local, "appends", 0)


def _append(fields: dict, also: Any = None, head: tuple[int, str] | None = None, then: Any = None) -> AuditEvent:
    """The critical section: lock the head, link, insert, move the head. Raw SQL keeps it short,
    because every other writer waits for this lock until our transaction commits."""
    # savepoint=False: no extra round trips; a failure here must fail the caller's whole action anyway.
    with transaction.atomic(savepoint=False):
        with audit_cursor() as cursor:
            row = head or _head_appended_here()
            if row is None:
                cursor.execute("SELECT seq, hash FROM audit_chainhead WHERE id = 1" + _for_update())
                row = cursor.fetchone()
            if row is None:  # only after a test flush: the head row comes back at the genesis
                if connection.vendor != "postgresql":  # (PostgreSQL's link trigger creates it)
                    ChainHead.objects.create(pk=1)
                row = (0, GENESIS_HASH)
            seq, prev_hash = row[0] + 1, row[1]
            now = timezone.now()
            ring = key_ring()
            fields["key_id"] = ring.current
            digest = event_hash(
                seq=seq, timestamp=format_timestamp(now), prev_hash=prev_hash, key=ring.key(ring.current), **fields
            )
            params = [
                seq,
                _db_timestamp(now),
                fields["actor_id"],
                fields["username"],
                fields["action"],
                fields["object_type"],
                fields["object_id"],
                fields["object_repr"],
                fields["old_values"],
                fields["new_values"],
                fields["reason"],
                fields["request_id"],
                fields["ip_address"],
                prev_hash,
                digest,
                fields["key_id"],
            ]
            _local.appends = (
                append_count() + 1
            )  # before the insert: a head read before this append is no longer trusted
            event_id = _insert_and_move_head(cursor, params, seq, digest, also, then)
            _remember_head(seq, digest)
    event = AuditEvent(id=event_id, seq=seq, timestamp=now, prev_hash=prev_hash, hash=digest, **fields)
    event._state.adding = False
    return event


def _remember_head(seq: int, digest: str) -> None:
    """The head this append left, for the next append of the same transaction: the transaction holds
    the head's row lock from now until it ends, so nobody else can move it. A no-op commit hook marks
    the append: Django drops the hooks of a savepoint rolled back, so a surviving mark means the
    append (and the head it left) is still part of the transaction; once it commits (or rolls back),
    Django empties the hooks and the next transaction reads the head. A transaction appending many
    events keeps one mark while nothing else registers a hook and no savepoint opens in between."""
    hooks = connection.run_on_commit
    known = getattr(_local, "head", None)
    if known is not None and hooks and hooks[-1][1] is known[0] and hooks[-1][0] == set(connection.savepoint_ids):
        _local.head = (known[0], seq, digest)  # the same mark still stands for this append
        return

    def appended() -> None:
        """The mark: does nothing when the transaction commits."""

    transaction.on_commit(appended)
    _local.head = (appended, seq, digest)


def _head_appended_here() -> tuple[int, str] | None:
    """(seq, hash) of the head this transaction's last append left, when it is still part of the
    transaction; None otherwise (the head is then read and locked). Were it ever wrong, the database's
    link trigger (audit.db) would refuse the event, never link it elsewhere."""
    known = getattr(_local, "head", None)
    if known is None or not connection.in_atomic_block:
        return None
    mark, seq, digest = known
    if any(hook[1] is mark for hook in reversed(connection.run_on_commit)):  # the mark is at or near the end
        return seq, digest
    return None


def _insert_and_move_head(cursor, params: list, seq: int, digest: str, also: Any = None, then: Any = None) -> int:
    if connection.vendor == "postgresql":
        # The database's link trigger (audit.db) checks that the event extends the chain at the head
        # and moves the head: the runtime role cannot move it itself.
        if also is None and then is None:
            cursor.execute(_INSERT, params)
            return cursor.fetchone()[0]
        return _insert_with(cursor, params, also, then)
    if also is not None:
        also.write()
    cursor.execute(_INSERT, params)
    event_id = cursor.fetchone()[0]
    cursor.execute("UPDATE audit_chainhead SET seq = %s, hash = %s WHERE id = 1", [seq, digest])
    if then is not None:
        then.write(event_id)
    return event_id


def _insert_with(cursor, params: list, also: Any, then: Any) -> int:
    """The event, and the rows written with it, in one data-modifying statement (PostgreSQL): the
    record's history version before it, a row naming the event (its signature) after it."""
    ctes, values, selected = [], [], ["(SELECT id FROM ins)"]
    if also is not None:
        ctes.append(f"also AS ({also.sql})")
        values += also.params
        selected.append("(SELECT * FROM also)")
    ctes.append(f"ins AS ({_INSERT})")
    values += params
    if then is not None:
        ctes.append(f"then_ AS ({then.sql.format(event='(SELECT id FROM ins)')})")
        values += then.params
        selected.append("(SELECT id FROM then_)")
    cursor.execute(f"WITH {', '.join(ctes)} SELECT {', '.join(selected)}", values)
    row = list(cursor.fetchone())
    event_id = row.pop(0)
    if also is not None:
        also.written(row.pop(0))
    if then is not None:
        then.written(row.pop(0), event_id)
    return event_id


def _for_update() -> str:
    return " FOR UPDATE" if connection.features.has_select_for_update else ""


def _db_timestamp(value):
    return connection.ops.adapt_datetimefield_value(value)
