"""Project-wide periodic tasks."""

import time

from celery import shared_task
from django.conf import settings


@shared_task
def heartbeat() -> float:
    """Beat and worker heartbeat: the system status page shows when it last ran."""
    stamp = time.time()
    path = settings.VAR_DIR / "heartbeat"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(str(stamp))
    return stamp
