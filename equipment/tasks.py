"""Celery tasks of the equipment app: thin wrappers around services."""

from celery import shared_task


@shared_task(ignore_result=True, autoretry_for=(), max_retries=0)
def poll_opcua() -> dict:
    """Beat task: poll every configured OPC UA endpoint once (a link in backoff is skipped).

    No retries: the next beat tick is the retry, and the link's own backoff decides when.
    """
    from equipment.services.monitoring import opcua_poll

    results = opcua_poll()
    return {r.endpoint: {"ok": r.ok, "skipped": r.skipped, "stored": r.stored, "faults": r.faults} for r in results}
