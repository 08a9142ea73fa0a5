"""Retiring a month of machine readings (issue 20; PostgreSQL).

Readings older than the controlled retention (`retention.readings_months`) may leave the database,
one month's partition at a time, only once an archive export covers that month: its manifest must
verify against its checksum, its period must include the whole month (UTC) and it must hold exactly
the rows the partition holds. The partition is then DETACHed and DROPped by the owner role (the
runtime role owns nothing and cannot), with an audit event (month, rows, the manifest's checksum)
written in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from administration.services.archive import _window, archive_verify
from audit.dbroles import as_owner
from audit.services import audit_record
from equipment import partitions
from mes.config import config_get


class RetireRefused(Exception):
    """The month may not be retired (yet); the message says why."""


def _months_before(month: dt.date, count: int) -> dt.date:
    index = month.year * 12 + month.month - 1 - count
    return dt.date(index // 12, index % 12 + 1, 1)


def _check_age(month: dt.date, today: dt.date) -> None:
    keep = int(config_get("retention.readings_months"))
    oldest_kept = _months_before(partitions.month_start(today), keep - 1)
    if month >= oldest_kept:
        raise RetireRefused(
            _("%(month)s is within the retention period (%(keep)s months are kept online).")
            % {"month": f"{month:%Y-%m}", "keep": keep}
        )


def _check_archive(archive: Path, month: dt.date, rows: int) -> str:
    """The archive's manifest checksum, once it verifies and covers the month with all its rows."""
    if not (archive / "manifest.sha256").is_file():
        raise RetireRefused(_("No archive export with a checksummed manifest at %(path)s.") % {"path": archive})
    problems = archive_verify(archive)
    if problems:
        raise RetireRefused(_("The archive does not verify: %(problems)s") % {"problems": "; ".join(problems)})
    manifest = json.loads((archive / "manifest.json").read_text(encoding="utf-8"))
    period = manifest["period"]
    start, end = _window(dt.date.fromisoformat(period["from"]), dt.date.fromisoformat(period["to"]))
    first = dt.datetime.combine(month, dt.time.min, tzinfo=dt.UTC)
    last = dt.datetime.combine(partitions.next_month(month), dt.time.min, tzinfo=dt.UTC)
    archived = manifest["counts"].get("tag_readings_by_month", {}).get(f"{month:%Y-%m}", 0)
    if start > first or end < last or archived != rows:
        raise RetireRefused(
            _("The archive does not hold the %(rows)s readings of %(month)s (it holds %(archived)s).")
            % {"rows": rows, "month": f"{month:%Y-%m}", "archived": archived}
        )
    return (archive / "manifest.sha256").read_text(encoding="utf-8").split()[0]


def readings_retire(*, month: dt.date, archive: Path, actor=None, today: dt.date | None = None) -> dict:
    """DETACH and DROP the month's partition, as the owner, audited. Refuses (RetireRefused) when the
    month is too recent, has no partition, or no verified archive holds its readings."""
    month = partitions.month_start(month)
    if not partitions.is_partitioned(connection):
        raise RetireRefused(_("Machine readings are not partitioned on this database."))
    _check_age(month, today or timezone.now().astimezone(dt.UTC).date())
    if partitions.partition_name(month) not in partitions.partitions(connection):
        raise RetireRefused(_("There is no partition for %(month)s.") % {"month": f"{month:%Y-%m}"})
    with as_owner(connection), transaction.atomic():
        rows = partitions.partition_rows(connection, month)
        checksum = _check_archive(Path(archive), month, rows)
        partitions.partition_drop(connection, month)
        audit_record(
            action="equipment.readings_retired",
            actor=actor,
            object_type="equipment.tagreading",
            object_id=partitions.partition_name(month),
            new={"month": f"{month:%Y-%m}", "rows": rows, "archive": Path(archive).name, "manifest_sha256": checksum},
            reason="older than the retention period and archived",
        )
    return {"month": f"{month:%Y-%m}", "rows": rows, "manifest_sha256": checksum}


def archive_covering(month: dt.date, root: Path | None = None) -> Path | None:
    """The newest archive export under MES_ARCHIVE_DIR whose period includes the whole month."""
    root = Path(root or settings.MES_ARCHIVE_DIR)
    first, last = month, partitions.next_month(month) - dt.timedelta(days=1)
    found = []
    for manifest in root.glob("archive-*/manifest.json"):
        period = json.loads(manifest.read_text(encoding="utf-8")).get("period", {})
        if period.get("from", "9999") <= f"{first}" and period.get("to", "") >= f"{last}":
            found.append(manifest.parent)
    return max(found, key=lambda p: p.name.rsplit("-", 1)[-1], default=None)
