"""Celery tasks of the equipment app: thin wrappers around services."""

from celery import shared_task

from equipment.services import partitions as services_partitions
from equipment.services.monitoring import opcua_poll
from equipment.services.pm import pm_due_generate


@shared_task(ignore_result=True, autoretry_for=(), max_retries=0)
def poll_opcua() -> dict:
    """Beat task: poll every configured OPC UA endpoint once (a link in backoff is skipped).

    No retries: the next beat tick is the retry, and the link's own backoff decides when.
    """
    results = opcua_poll()
    return {r.endpoint: {"ok": r.ok, "skipped": r.skipped, "stored": r.stored, "faults": r.faults} for r in results}


@shared_task(ignore_result=True)
def pm_generate_work_orders() -> int:
    """Beat task: open the work orders of the preventive maintenance plans that are due (idempotent)."""
    return len(pm_due_generate())


@shared_task(ignore_result=True)
def reading_partitions_ensure() -> dict:
    """Beat task: machine readings' partitions for this month and the next three (idempotent)."""
    return services_partitions.reading_partitions_ensure()
