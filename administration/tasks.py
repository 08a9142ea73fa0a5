"""Scheduled administration tasks (thin wrappers over services)."""

from celery import shared_task

from administration.services.backup import backup_create


@shared_task(acks_late=True)
def backup_run() -> str:
    """The daily backup (CELERY_BEAT_SCHEDULE "backup-daily"); prunes by retention.backup_days."""
    return str(backup_create())
