"""Home-page work cards: batches to prepare, to execute, to review, to release."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from batches.models import Batch, BatchStatus
from mes.permcache import holds
from mes.roles import role_codes
from mes.workflow import objects_granted
from mes.workqueue import WorkCard


def _card(title, status, hint, tone="warn"):
    count = Batch.objects.filter(status=status).count()
    return WorkCard(title, count, f"{reverse('batches:list')}?status={status}", hint, tone if count else "ok")


def cards(user) -> list[WorkCard]:
    result: list[WorkCard] = []
    if holds(user, "batches.prepare_batch"):
        result.append(_card(_("Batches to prepare"), BatchStatus.PLANNED, _("Interlocks, materials, line clearance")))
    if holds(user, "batches.view_batch") and "operator" in role_codes(user):
        running = Batch.objects.filter(status__in=[BatchStatus.IN_PROGRESS, BatchStatus.CORRECTION_REQUESTED])
        count = objects_granted(user, "batches.execute_batch", running).count()
        result.append(
            WorkCard(
                _("My running batches"),
                count,
                f"{reverse('batches:list')}?status=in_progress",
                _("Steps to execute or values to correct"),
                "warn" if count else "ok",
            )
        )
    if holds(user, "batches.review_batch"):
        result.append(_card(_("Batch records to review"), BatchStatus.COMPLETED, _("Review by exception")))
    if holds(user, "batches.release_batch"):
        result.append(_card(_("Batches to release"), BatchStatus.QC_RELEASED, _("QC has released them")))
    return result
