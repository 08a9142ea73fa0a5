from celery import shared_task

from audit.refusals import refusals_fold
from audit.verification import write_checkpoint


@shared_task
def audit_checkpoint() -> dict:
    """Every minute: record refused writes in the trail, then sign the chain head into the witness."""
    folded = refusals_fold()
    entry = write_checkpoint()
    return {**entry, "refusals_recorded": folded}
