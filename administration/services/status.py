"""The system status for administrators: worker/beat heartbeat, queue length, last backup, disk space,
open alerts, and the state of the integration outbox and inbox, which the integrations app (a sibling
in the top layer, which administration may not import) provides through
`mes.health.status_provider_register("integrations", ...)` in its AppConfig.ready()."""

from __future__ import annotations

import datetime as dt
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone

from administration.services.alerts import open_alerts
from administration.services.backup import backup_list
from audit.dbroles import runtime_role_problems
from audit.verification import read_checkpoints
from mes.health import broker_reachable, status_provided

HEARTBEAT_STALE_SECONDS = 180  # beat schedules the heartbeat every 60 s; three missed ones is a problem


@dataclass
class Check:
    label: str
    value: Any
    ok: bool | None  # None: nothing to judge yet
    detail: str = ""


def heartbeat_age() -> float | None:
    path = Path(settings.VAR_DIR) / "heartbeat"
    try:
        return max(0.0, time.time() - float(path.read_text().strip()))
    except (OSError, ValueError):
        return None


def queue_length() -> int | None:
    url = settings.CELERY_BROKER_URL
    try:
        if url.startswith("filesystem://"):
            folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
            return (
                sum(1 for p in folder.glob("*") if p.is_file() and not p.name.startswith(".")) if folder.exists() else 0
            )

        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        return int(client.llen("celery"))
    except Exception:  # noqa: BLE001 - an unreachable broker shows as "unknown"
        return None


def disk_free(path: Path) -> tuple[int, int]:
    path.mkdir(parents=True, exist_ok=True)
    usage = shutil.disk_usage(path)
    return usage.free, usage.total


def integration_state() -> dict | None:
    """The outbox and inbox state (pending, retrying, dead letters, failed, oldest ages), or None
    without an integrations app."""
    return status_provided("integrations")


def system_status() -> dict:
    age = heartbeat_age()
    backups = backup_list()
    last = backups[0] if backups else None
    max_age = dt.timedelta(hours=settings.MES_BACKUP_MAX_AGE_HOURS)
    free, total = disk_free(Path(settings.MES_BACKUP_DIR))
    broker = broker_reachable()
    queued = queue_length()
    integrations = integration_state()
    dead = integrations["outbox_dead"] if integrations is not None else None
    return {
        "heartbeat_age": age,
        "heartbeat_ok": age is not None and age < HEARTBEAT_STALE_SECONDS,
        "broker": broker,
        "queue_length": queued,
        "last_backup": last,
        "backup_ok": last is not None and timezone.now() - last.created_at < max_age,
        "backup_count": len(backups),
        "disk_free": free,
        "disk_total": total,
        "disk_ok": total == 0 or free / total > 0.1,
        "open_alerts": open_alerts().count(),
        "dead_letters": dead,
        "integrations": integrations,
        **audit_protection(),
    }


def audit_protection() -> dict:
    """The runtime database role and the audit guards (audit.dbroles), and the age of the witness."""

    problems = runtime_role_problems(connection)
    checkpoints = read_checkpoints()
    age = None
    if checkpoints:
        newest = dt.datetime.fromisoformat(checkpoints[-1]["at"].replace("Z", "+00:00"))
        age = (dt.datetime.now(dt.UTC) - newest).total_seconds()
    return {
        "db_problems": problems,
        "db_roles": connection.vendor == "postgresql",
        "witness_age": age,
        "witness_ok": age is not None and age < 3 * settings.MES_AUDIT_CHECKPOINT_SECONDS,
        "witness_interval": settings.MES_AUDIT_CHECKPOINT_SECONDS,
    }
