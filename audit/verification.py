"""Verification of the audit trail: the keyed hash chain, its signed checkpoints (the witness kept outside
the database), and every electronic signature against the event that recorded it.

Verification fails, naming the reason, when:
- an event's hash does not match its content (altered, or forged without the key), its key is unknown,
  an unkeyed event follows keyed ones, or positions are missing or inserted;
- the chain head does not name the last event;
- the checkpoint store is missing, or empty while events exist; a checkpoint is unsigned, signed by an
  unknown key or its signature does not match; an event named by a checkpoint is missing or differs
  (so a tail removed silently is at most one checkpoint interval long);
- a signature row differs from its `signature.sign` event (signer, printed name, meaning, record,
  content hash, time).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils.translation import gettext as _

from audit.canonical import EVENT_HASH_FIELDS, event_hash_of_fields, format_timestamp
from audit.keys import KeyRing, key_ring
from audit.models import GENESIS_HASH, ChainHead, Signature

logger = logging.getLogger("mes.audit")

_COLUMNS = ", ".join(EVENT_HASH_FIELDS) + ", key_id, hash"
# PostgreSQL formats the timestamp exactly as `format_timestamp` does (UTC, microseconds, "Z"): in C,
# several times faster than parsing it into a datetime and formatting it again in Python.
_PG_TIMESTAMP = """to_char(timestamp AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""


@dataclass
class VerificationResult:
    ok: bool = True
    events: int = 0
    signatures: int = 0
    checkpoints: int = 0
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    first_bad_seq: int | None = None

    def fail(self, seq: int | None, message: str) -> None:
        if self.ok:
            self.first_bad_seq = seq
        self.ok = False
        self.problems.append(message)


def _parse_ts(value) -> dt.datetime:
    if isinstance(value, str):  # SQLite may return text from a raw cursor
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:  # SQLite stores UTC without an offset
        value = value.replace(tzinfo=dt.UTC)
    return value


def _iter_rows(chunk: int = 20000):
    """(hashed fields, key id, stored hash) per event in chain order, the timestamp formatted for hashing."""
    formatted = connection.vendor == "postgresql"
    columns = _COLUMNS.replace("timestamp", _PG_TIMESTAMP, 1) if formatted else _COLUMNS
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM audit_auditevent ORDER BY seq")
        while rows := cursor.fetchmany(chunk):
            for row in rows:
                fields = row[:-2]
                if not formatted:
                    fields = (fields[0], format_timestamp(_parse_ts(fields[1])), *fields[2:])
                yield fields, row[-2], row[-1]


def verify_chain(checkpoint_file: Path | None = None) -> VerificationResult:
    """Recompute every hash in order, check the head, the witness and the signatures."""
    result, witness = VerificationResult(), VerificationResult()
    ring = key_ring()
    checkpoints = _read_witness(witness, checkpoint_file, ring)
    wanted = {c["seq"] for c in checkpoints}
    hashes_at: dict[int, str] = {}
    expected_seq, prev = _verify_events(result, ring, wanted, hashes_at)
    _check_head(result, expected_seq - 1, prev)
    result.checkpoints = witness.checkpoints
    for problem in witness.problems:  # after the events', so the first bad event is named first
        result.fail(witness.first_bad_seq, problem)
    if result.events and not checkpoints and checkpoint_path(checkpoint_file).exists():
        result.fail(None, _("the checkpoint store has no valid checkpoint while the trail has events (emptied?)"))
    _check_checkpoints(result, checkpoints, hashes_at)
    _check_freshness(result, checkpoints, expected_seq - 1)
    _verify_signatures(result)
    return result


def _verify_events(result: VerificationResult, ring: KeyRing, wanted: set[int], hashes_at: dict) -> tuple[int, str]:
    expected_seq, prev, keyed_seen = 1, GENESIS_HASH, False
    for fields, key_id, digest in _iter_rows():
        seq, prev_hash = fields[0], fields[-1]
        result.events += 1
        if seq != expected_seq:
            result.fail(
                seq,
                _("event #%(seq)s: expected position #%(expected)s (events missing or inserted)")
                % {"seq": seq, "expected": expected_seq},
            )
        if prev_hash != prev:
            result.fail(
                seq, _("event #%(seq)s: previous-hash does not match event #%(prev)s") % {"seq": seq, "prev": seq - 1}
            )
        if key_id:
            keyed_seen = True
            key = ring.key(key_id)
            if key is None:
                result.fail(seq, _("event #%(seq)s: keyed with unknown key '%(key)s'") % {"seq": seq, "key": key_id})
            elif event_hash_of_fields(fields, key_id, key) != digest:
                result.fail(
                    seq, _("event #%(seq)s: content does not match its keyed hash (altered or forged)") % {"seq": seq}
                )
        elif keyed_seen:
            result.fail(seq, _("event #%(seq)s: unkeyed event after keyed ones (forged?)") % {"seq": seq})
        elif event_hash_of_fields(fields) != digest:
            result.fail(seq, _("event #%(seq)s: content does not match its hash (altered)") % {"seq": seq})
        if seq in wanted:
            hashes_at[seq] = digest
        expected_seq, prev = seq + 1, digest
    return expected_seq, prev


def _check_head(result: VerificationResult, last_seq: int, last_hash: str) -> None:
    head = ChainHead.objects.filter(pk=1).first()
    if head is None:
        if last_seq:
            result.fail(None, _("the chain head record is missing"))
    elif head.seq != last_seq or head.hash != last_hash:
        result.fail(
            last_seq + 1,
            _("chain head says #%(head)s but the trail ends at #%(last)s (events removed?)")
            % {"head": head.seq, "last": last_seq},
        )


def _check_checkpoints(result: VerificationResult, checkpoints: list[dict], hashes_at: dict[int, str]) -> None:
    for cp in checkpoints:
        seq = cp["seq"]
        if seq == 0:
            continue
        if seq not in hashes_at:
            result.fail(
                seq,
                _("checkpoint of %(at)s names event #%(seq)s, which no longer exists (tail removed?)")
                % {"at": cp["at"], "seq": seq},
            )
        elif hashes_at[seq] != cp["hash"]:
            result.fail(
                seq,
                _("event #%(seq)s differs from the checkpoint of %(at)s (chain rebuilt?)")
                % {"seq": seq, "at": cp["at"]},
            )


def _check_freshness(result: VerificationResult, checkpoints: list[dict], last_seq: int) -> None:
    """A witness that stopped being written lengthens the window a removed tail could hide in: warn."""
    if not checkpoints or checkpoints[-1]["seq"] >= last_seq:
        return
    newest = dt.datetime.fromisoformat(checkpoints[-1]["at"].replace("Z", "+00:00"))
    age = (dt.datetime.now(dt.UTC) - newest).total_seconds()
    if age > 3 * settings.MES_AUDIT_CHECKPOINT_SECONDS:
        result.warnings.append(
            _(
                "the newest checkpoint is %(min)s min old: events after #%(seq)s are not witnessed yet "
                "(is the beat scheduler running?)"
            )
            % {"min": int(age // 60), "seq": checkpoints[-1]["seq"]}
        )


# --- signatures -----------------------------------------------------------------------------------
def _verify_signatures(result: VerificationResult) -> None:
    rows = Signature.objects.select_related("audit_event").order_by("id")
    for signature in rows.iterator(chunk_size=2000):
        result.signatures += 1
        problem = _signature_problem(signature)
        if problem:
            result.fail(
                signature.audit_event.seq, _("signature %(id)s: %(problem)s") % {"id": signature.pk, "problem": problem}
            )


def _signature_problem(signature: Signature) -> str:
    event = signature.audit_event
    recorded = event.new
    checks = [
        (event.action == "signature.sign", _("its event is not a signature event")),
        (signature.signer_id == event.actor_id, _("signer differs from the signing event (moved to another person?)")),
        (signature.username == event.username, _("user name differs from the signing event")),
        (signature.object_type == event.object_type and signature.object_id == event.object_id, _("record differs")),
        (signature.meaning == recorded.get("meaning"), _("meaning differs from the signing event")),
        (signature.content_hash == recorded.get("content_hash"), _("content hash differs from the signing event")),
        (signature.printed_name == recorded.get("printed_name", signature.printed_name), _("printed name differs")),
        (_same_time(signature, event, recorded), _("signing time differs from the signing event")),
    ]
    return "; ".join(message for ok, message in checks if not ok)


def _same_time(signature: Signature, event, recorded: dict) -> bool:
    if "signed_at" in recorded:
        return format_timestamp(signature.signed_at) == recorded["signed_at"]
    return abs((signature.signed_at - event.timestamp).total_seconds()) < 60  # written before it was recorded


# --- the witness: signed checkpoints --------------------------------------------------------------
def _checkpoint_payload(entry: dict) -> bytes:
    body = {k: entry[k] for k in ("at", "seq", "hash", "key_id")}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")


def checkpoint_path(path: Path | None = None) -> Path:
    return Path(path or settings.MES_AUDIT_CHECKPOINT_FILE)


def read_checkpoints(path: Path | None = None) -> list[dict]:
    """The checkpoints as written (unchecked): for reports of the witness."""
    path = checkpoint_path(path)
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _read_witness(result: VerificationResult, path: Path | None, ring: KeyRing) -> list[dict]:
    """The checkpoints whose signatures hold; every other line is a failure named by its line number."""
    path = checkpoint_path(path)
    if not path.exists():
        result.fail(None, _("the checkpoint store %(path)s is missing") % {"path": path})
        return []
    good = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        problem, entry = _checkpoint_problem(line, ring)
        if problem:
            result.fail(
                entry.get("seq") if entry else None,
                _("checkpoint line %(n)s: %(problem)s") % {"n": number, "problem": problem},
            )
        else:
            good.append(entry)
    result.checkpoints = len(good)
    return good


def _checkpoint_problem(line: str, ring: KeyRing) -> tuple[str, dict | None]:
    try:
        entry = json.loads(line)
        payload = _checkpoint_payload(entry)
    except (ValueError, KeyError, TypeError):
        return _("unreadable or unsigned"), None
    signature = entry.get("sig")
    if not signature:
        return _("unsigned"), entry
    if ring.key(entry["key_id"]) is None:
        return _("signed by unknown key '%(key)s'") % {"key": entry["key_id"]}, entry
    if ring.sign(payload, entry["key_id"]) != signature:
        return _("its signature does not match (altered)"), entry
    return "", entry


def checkpoint_signed(seq: int, digest: str) -> dict:
    """A checkpoint of the chain at `seq` (whose hash is `digest`), signed with the current key."""
    ring = key_ring()
    entry = {"at": format_timestamp(dt.datetime.now(dt.UTC)), "seq": seq, "hash": digest, "key_id": ring.current}
    entry["sig"] = ring.sign(_checkpoint_payload(entry))
    return entry


def write_checkpoint(path: Path | None = None) -> dict:
    """Append the current chain head (position and hash), signed with the current key, to the witness."""
    path = checkpoint_path(path)
    head = ChainHead.objects.filter(pk=1).first()
    seq, digest = (head.seq, head.hash) if head else (0, GENESIS_HASH)
    entry = checkpoint_signed(seq, digest)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry, sort_keys=True) + "\n")
    logger.info("audit checkpoint seq=%s hash=%s key=%s", seq, digest, entry["key_id"])
    return entry
