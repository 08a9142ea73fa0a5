"""Archive export for long-term storage (BAT-4, QC-5, AUD-4).

For a period, writes every GMP record touched in the period (its current values and its full audit
trail), the audit events and signatures of the period, and the stored files (PDFs, labels) of those
records or written in the period, with a manifest of SHA-256 checksums:

    archive-2026-01-01_2026-03-31-<stamp>/
        records/<app.model>.jsonl   audit_trail.jsonl   signatures.jsonl   readings.jsonl   files/...
        manifest.json   manifest.sha256

Records stay in the database: the archive is an additional, verifiable copy, not a move.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections import defaultdict
from pathlib import Path

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from administration.retention import gmp_models
from administration.services.backup import sha256_file
from audit.canonical import jsonable
from audit.models import AuditEvent, Signature
from audit.services import audit_record, object_label
from equipment.models import TagReading

_EVENT_FIELDS = (
    "seq",
    "timestamp",
    "username",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "old_values",
    "new_values",
    "reason",
    "request_id",
    "ip_address",
    "prev_hash",
    "hash",
)


def _window(date_from: dt.date, date_to: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(date_from, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return start, end


def _write_jsonl(path: Path, rows) -> int:
    count = 0
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, sort_keys=True, ensure_ascii=False, default=str) + "\n")
            count += 1
    return count


def archive_export(*, actor=None, date_from: dt.date, date_to: dt.date, directory: Path | None = None) -> Path:
    """Export the period's records, audit trail, signatures and files, with a checksummed manifest."""
    if date_from > date_to:
        raise ValueError("the period starts after it ends")
    start, end = _window(date_from, date_to)
    root = Path(directory or settings.MES_ARCHIVE_DIR)
    target = root / f"archive-{date_from}_{date_to}-{timezone.now():%Y%m%dT%H%M%S%fZ}"
    (target / "records").mkdir(parents=True)
    events = AuditEvent.objects.filter(timestamp__gte=start, timestamp__lt=end).order_by("seq")
    touched: dict[str, set[str]] = defaultdict(set)
    for otype, oid in events.exclude(object_id="").values_list("object_type", "object_id").distinct():
        touched[otype].add(oid)
    counts, files = _export_records(target, touched)
    counts["audit_events"] = _write_jsonl(
        target / "audit_trail.jsonl", ({f: getattr(e, f) for f in _EVENT_FIELDS} for e in events.iterator())
    )
    signatures = Signature.objects.filter(signed_at__gte=start, signed_at__lt=end).order_by("signed_at", "id")
    counts["signatures"] = _write_jsonl(
        target / "signatures.jsonl",
        (
            {
                "signed_at": s.signed_at,
                "username": s.username,
                "printed_name": s.printed_name,
                "meaning": s.meaning,
                "reason": s.reason,
                "object_type": s.object_type,
                "object_id": s.object_id,
                "action": s.action,
                "content_hash": s.content_hash,
                "audit_seq": s.audit_event.seq,
            }
            for s in signatures.select_related("audit_event")
        ),
    )
    counts["files"] = _copy_files(target, files, start, end)
    counts["tag_readings"], counts["tag_readings_by_month"] = _export_readings(target, start, end)
    manifest = _manifest(target, date_from, date_to, counts, events)
    with transaction.atomic():
        audit_record(
            action="system.archive_export",
            actor=actor,
            object_type="system.archive",
            object_id=target.name,
            new={"period": [str(date_from), str(date_to)], "counts": counts, "files": len(manifest["files"])},
        )
    return target


def _export_records(target: Path, touched: dict[str, set[str]]) -> tuple[dict, set[str]]:
    counts: dict[str, int] = {}
    files: set[str] = set()
    for model in gmp_models():
        label = f"{model._meta.app_label}.{model._meta.model_name}"
        ids = touched.get(label)
        if not ids:
            continue
        pks = [model._meta.pk.to_python(i) for i in ids]
        records = model._base_manager.filter(pk__in=pks).order_by("pk")
        file_fields = [f.attname for f in model._meta.concrete_fields if isinstance(f, models.FileField)]
        rows = []
        for record in records:
            rows.append({"record_type": object_label(record), "id": jsonable(record.pk), **record.audit_values()})
            files.update(str(getattr(record, name)) for name in file_fields if getattr(record, name))
        counts[label] = _write_jsonl(target / "records" / f"{label}.jsonl", rows)
    return counts, files


def _export_readings(target: Path, start: dt.datetime, end: dt.datetime) -> tuple[int, dict[str, int]]:
    """Machine readings with their source time in the period, and how many per month (UTC): what
    manage.py readings_retire checks before it drops a month's partition."""
    by_month: dict[str, int] = defaultdict(int)
    readings = TagReading.objects.filter(source_ts__gte=start, source_ts__lt=end).order_by("source_ts", "id")

    def rows():
        for r in readings.select_related("tag").iterator(chunk_size=5000):
            by_month[f"{r.source_ts.astimezone(dt.UTC):%Y-%m}"] += 1
            yield {
                "id": r.id, "equipment": r.tag.equipment_id, "tag": r.tag.key, "value": r.value,
                "text": r.text_value, "status_code": r.status_code, "source_ts": r.source_ts,
                "server_ts": r.server_ts, "received_at": r.received_at, "clock_suspect": r.clock_suspect,
            }  # fmt: skip

    total = _write_jsonl(target / "readings.jsonl", rows())
    return total, dict(sorted(by_month.items()))


def _copy_files(target: Path, referenced: set[str], start: dt.datetime, end: dt.datetime) -> int:
    """Files referenced by the exported records, and files written in the period (reports, labels)."""
    media = Path(settings.MEDIA_ROOT)
    wanted = {media / name for name in referenced}
    if media.exists():
        for path in media.rglob("*"):
            if path.is_file():
                written = dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC)
                if start <= written < end:
                    wanted.add(path)
    copied = 0
    for path in sorted(wanted):
        if path.is_file():
            destination = target / "files" / path.relative_to(media)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, destination)
            copied += 1
    return copied


def _manifest(target: Path, date_from, date_to, counts: dict, events) -> dict:
    first = events.first()
    last = events.last()
    manifest = {
        "format": 1,
        "period": {"from": str(date_from), "to": str(date_to)},
        "created_at": timezone.now().isoformat(),
        "counts": counts,
        "audit_chain": {
            "first": {"seq": first.seq, "hash": first.hash} if first else None,
            "last": {"seq": last.seq, "hash": last.hash} if last else None,
        },
        "files": {
            str(p.relative_to(target)): {"sha256": sha256_file(p), "bytes": p.stat().st_size}
            for p in sorted(target.rglob("*"))
            if p.is_file()
        },
    }
    (target / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8")
    (target / "manifest.sha256").write_text(
        f"{sha256_file(target / 'manifest.json')}  manifest.json\n", encoding="utf-8"
    )
    return manifest


def archive_verify(path: Path) -> list[str]:
    """Problems found re-checking an archive against its manifest (empty when intact)."""
    path = Path(path)
    problems = []
    recorded = (path / "manifest.sha256").read_text(encoding="utf-8").split()[0]
    if sha256_file(path / "manifest.json") != recorded:
        return ["the manifest does not match its checksum"]
    manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    for name, info in manifest["files"].items():
        file = path / name
        if not file.exists():
            problems.append(f"{name} is missing")
        elif sha256_file(file) != info["sha256"]:
            problems.append(f"{name} does not match its checksum")
    return problems
