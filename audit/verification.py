"""Verification of the audit hash chain, and checkpoints of its head kept outside the database."""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection

from audit.canonical import EVENT_HASH_FIELDS, event_hash_of_fields, format_timestamp
from audit.models import GENESIS_HASH, ChainHead

logger = logging.getLogger("mes.audit")

_COLUMNS = ", ".join(EVENT_HASH_FIELDS) + ", hash"
# PostgreSQL formats the timestamp exactly as `format_timestamp` does (UTC, microseconds, "Z"): in C,
# several times faster than parsing it into a datetime and formatting it again in Python.
_PG_TIMESTAMP = """to_char(timestamp AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""


@dataclass
class VerificationResult:
    ok: bool = True
    events: int = 0
    problems: list[str] = field(default_factory=list)
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
    """(hashed fields, stored hash) per event in chain order, the timestamp formatted for hashing."""
    formatted = connection.vendor == "postgresql"
    columns = _COLUMNS.replace("timestamp", _PG_TIMESTAMP, 1) if formatted else _COLUMNS
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM audit_auditevent ORDER BY seq")
        while rows := cursor.fetchmany(chunk):
            for row in rows:
                fields = row[:-1]
                if not formatted:
                    fields = (fields[0], format_timestamp(_parse_ts(fields[1])), *fields[2:])
                yield fields, row[-1]


def verify_chain(checkpoint_file: Path | None = None) -> VerificationResult:
    """Recompute every hash in order; report the first event that does not fit the chain."""
    result = VerificationResult()
    expected_seq, prev = 1, GENESIS_HASH
    hashes_at: dict[int, str] = {}
    checkpoints = read_checkpoints(checkpoint_file)
    wanted = {c["seq"] for c in checkpoints}
    for fields, digest in _iter_rows():
        seq, prev_hash = fields[0], fields[-1]
        result.events += 1
        if seq != expected_seq:
            result.fail(seq, f"event #{seq}: expected position #{expected_seq} (events missing or inserted)")
        if prev_hash != prev:
            result.fail(seq, f"event #{seq}: previous-hash does not match event #{seq - 1}")
        if event_hash_of_fields(fields) != digest:
            result.fail(seq, f"event #{seq}: content does not match its hash (altered)")
        if seq in wanted:
            hashes_at[seq] = digest
        expected_seq, prev = seq + 1, digest
    _check_head(result, expected_seq - 1, prev)
    _check_checkpoints(result, checkpoints, hashes_at)
    return result


def _check_head(result: VerificationResult, last_seq: int, last_hash: str) -> None:
    head = ChainHead.objects.filter(pk=1).first()
    if head is None:
        result.fail(None, "the chain head record is missing")
    elif head.seq != last_seq or head.hash != last_hash:
        result.fail(last_seq + 1, f"chain head says #{head.seq} but the trail ends at #{last_seq} (events removed?)")


def _check_checkpoints(result: VerificationResult, checkpoints: list[dict], hashes_at: dict[int, str]) -> None:
    for cp in checkpoints:
        seq = cp["seq"]
        if seq == 0:
            continue
        if seq not in hashes_at:
            result.fail(seq, f"checkpoint of {cp['at']} names event #{seq}, which no longer exists")
        elif hashes_at[seq] != cp["hash"]:
            result.fail(seq, f"event #{seq} differs from the checkpoint of {cp['at']} (chain rebuilt?)")


def read_checkpoints(path: Path | None = None) -> list[dict]:
    path = Path(path or settings.MES_AUDIT_CHECKPOINT_FILE)
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def write_checkpoint(path: Path | None = None) -> dict:
    """Append the current chain head (position and hash) to the checkpoint file and the log."""
    path = Path(path or settings.MES_AUDIT_CHECKPOINT_FILE)
    head = ChainHead.objects.get(pk=1)
    entry = {"at": format_timestamp(dt.datetime.now(dt.UTC)), "seq": head.seq, "hash": head.hash}
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry, sort_keys=True) + "\n")
    logger.info("audit checkpoint seq=%s hash=%s", head.seq, head.hash)
    return entry
