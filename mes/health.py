"""Reachability of the message broker, for /healthz and the system status page; and the parts of
the system status that an app above the foundation provides (`status_provider_register`)."""

from __future__ import annotations

from collections.abc import Callable
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


_STATUS_PROVIDERS: dict[str, Callable[[], dict]] = {}


def status_provider_register(name: str, provider: Callable[[], dict]) -> None:
    """An app adds `name` to the system status (for example the integrations app its outbox and
    inbox, in its AppConfig.ready()): the status page, in an app that may not import it, calls
    `provider()` when it is shown. Registering a name again replaces its provider."""
    _STATUS_PROVIDERS[name] = provider


def status_provided(name: str) -> dict | None:
    """The state `name`'s provider reports now, or None when no app provides it."""
    provider = _STATUS_PROVIDERS.get(name)
    return provider() if provider is not None else None
