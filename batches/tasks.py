"""Background work of batch execution."""

from celery import shared_task
from django.contrib.auth import get_user_model

from batches.pdf import batch_record_pdf_store


@shared_task(max_retries=0, queue="pdf")
def batch_record_pdf(batch_id: int, user_id: int | None = None) -> dict:
    """Render the batch record PDF on the "pdf" queue, whose worker runs --max-tasks-per-child 1
    (docker-compose worker-pdf): one render per child, so its memory is returned. The PDF and its
    SHA-256 are stored on the batch record."""
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    record = batch_record_pdf_store(batch_id=batch_id, user=user)
    return {"batch": batch_id, "sha256": record.pdf_sha256, "pages": record.pdf_pages}
