"""Celery tasks of the integrations: thin wrappers around the outbox services.

The per-system tasks live in integrations/<system>/tasks.py and are imported here so that the
worker registers them (Celery autodiscovers only `<app>.tasks`).
"""

from __future__ import annotations

from celery import shared_task

from integrations.erp import tasks as erp_tasks  # noqa: F401 - registers the ERP tasks
from integrations.services import outbox


@shared_task
def outbox_dispatch(system: str) -> dict:
    """Deliver `system`'s due messages (safe to run many at once: claims skip locked rows)."""
    report = outbox.outbox_drain(system=system)
    return {"delivered": report.delivered, "failed": report.failed, "dead": report.dead}


@shared_task
def outbox_sweep() -> list[str]:
    """Beat: queue a dispatch for each system with due messages (retries, lost tasks, broker outages)."""
    return outbox.outbox_sweep()
