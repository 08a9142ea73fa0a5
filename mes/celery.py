"""The Celery application. Tasks are thin: they take ids and call services."""

import os
from pathlib import Path

from celery import Celery
from celery.contrib.django.task import DjangoTask
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mes.settings")

app = Celery("mes")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class MesTask(DjangoTask):
    """Default task behaviour: retry with exponential backoff and jitter, acknowledge late,
    and `delay_on_commit()` to queue only once the business transaction has committed."""

    autoretry_for = (ConnectionError, TimeoutError, OSError)
    retry_backoff = True
    retry_backoff_max = 600
    retry_jitter = True
    max_retries = 8
    acks_late = True


app.Task = MesTask


def _ensure_filesystem_broker_folders() -> None:
    """The embedded broker keeps messages in folders that must exist before any process uses them."""
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
            Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS[key]).mkdir(parents=True, exist_ok=True)


@app.on_after_configure.connect
def _on_configure(sender, **kwargs):
    _ensure_filesystem_broker_folders()
