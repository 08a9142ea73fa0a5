"""Reachability of the message broker, for /healthz and the system status page."""

from __future__ import annotations

from pathlib import Path

import redis
from django.conf import settings


def broker_reachable() -> dict:
    url = settings.CELERY_BROKER_URL
    if url.startswith("filesystem://"):
        folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
        try:
            folder.mkdir(parents=True, exist_ok=True)
            probe = folder / ".healthz"
            probe.write_text("ok")
            probe.unlink()
            return {"ok": True, "transport": "filesystem"}
        except OSError as exc:
            return {"ok": False, "transport": "filesystem", "error": exc.__class__.__name__}
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        client.ping()
        return {"ok": True, "transport": "redis"}
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "transport": "redis", "error": exc.__class__.__name__}
