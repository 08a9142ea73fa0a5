"""Celery tasks of the reports app: thin wrappers around services."""

from celery import shared_task

from reports.services import report_generate_for_batch as generate
from reports.services import subscriptions_run_due as run


@shared_task(ignore_result=True)
def report_generate_for_batch(batch_id: int) -> int:
    """The production report of a closed batch (BAT-15). Idempotent: a second run returns the first."""
    return generate(batch_id=batch_id).pk


@shared_task(ignore_result=True)
def subscriptions_run_due() -> int:
    """Beat task: send every subscription that is due."""
    return len(run())
