"""The batch-closed hook: when a batch reaches its final disposition (released, rejected, or the
legacy "closed" state), its production report is generated (BAT-15).

Listens to the batch's own save (every state change goes through transition_apply, which saves
the batch), and queues the task after the transaction commits, so a rolled-back close queues
nothing and the report reads the committed records.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from reports.models import Report, ReportKind
from reports.tasks import report_generate_for_batch

# The batch machine ends in released or rejected (then archived); "closed" is kept for older records.
CLOSED_STATES = ("released", "rejected", "closed")


def on_batch_closed(batch_id: int) -> None:
    """What batch execution may call directly instead of relying on the signal."""
    # robust: the batch change has committed; a broker outage must not turn it into an error page.
    transaction.on_commit(lambda: report_generate_for_batch.delay(batch_id), robust=True)


@receiver(post_save, sender="batches.Batch", dispatch_uid="reports_batch_closed")
def _batch_saved(sender, instance, created, **kwargs):
    if instance.status not in CLOSED_STATES or kwargs.get("raw"):
        return

    if not Report.objects.filter(kind=ReportKind.BATCH, batch_id=instance.pk).exists():
        on_batch_closed(instance.pk)
