"""What the System status page shows of the integrations: the true state of the outbox and the inbox.
Registered as the "integrations" part of the system status (mes.health.status_provider_register) by
IntegrationsConfig.ready(): administration does not import this app."""

from __future__ import annotations

from django.db.models import Count, Min, Q
from django.utils import timezone

from integrations.models import InboxMessage, InboxStatus, OutboxMessage, OutboxStatus


def _age_seconds(moment) -> float | None:
    return max(0.0, (timezone.now() - moment).total_seconds()) if moment else None


def integration_state() -> dict:
    """Outbox: waiting (pending or being sent), retrying (failed at least once), dead letters and the
    age of the oldest undelivered message; inbox: not yet processed, failed, parked and the age of
    the oldest that failed. Two aggregate queries."""
    undelivered = Q(status__in=[OutboxStatus.PENDING, OutboxStatus.SENDING])
    outbox = OutboxMessage.objects.aggregate(
        pending=Count("id", filter=undelivered),
        retrying=Count("id", filter=undelivered & Q(attempts__gt=0)),
        dead=Count("id", filter=Q(status=OutboxStatus.DEAD)),
        oldest=Min("created_at", filter=undelivered | Q(status=OutboxStatus.DEAD)),
    )
    inbox = InboxMessage.objects.aggregate(
        received=Count("id", filter=Q(status=InboxStatus.RECEIVED)),
        failed=Count("id", filter=Q(status=InboxStatus.FAILED)),
        parked=Count("id", filter=Q(status=InboxStatus.PARKED)),
        oldest=Min("received_at", filter=Q(status__in=[InboxStatus.FAILED, InboxStatus.RECEIVED])),
    )
    return {
        "outbox_pending": outbox["pending"],
        "outbox_retrying": outbox["retrying"],
        "outbox_dead": outbox["dead"],
        "outbox_oldest_age": _age_seconds(outbox["oldest"]),
        "inbox_received": inbox["received"],
        "inbox_failed": inbox["failed"],
        "inbox_parked": inbox["parked"],
        "inbox_oldest_age": _age_seconds(inbox["oldest"]),
        "ok": outbox["dead"] == 0 and inbox["failed"] == 0,
    }
