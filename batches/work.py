"""Home-page work cards: batches to prepare, to execute, to review, to release."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from guardian.shortcuts import get_objects_for_user

from batches.models import Batch, BatchStatus
from mes.workqueue import WorkCard


def _card(title, status, hint, tone="warn"):
    count = Batch.objects.filter(status=status).count()
    return WorkCard(title, count, f"{reverse('batches:list')}?status={status}", hint, tone if count else "ok")


def cards(user) -> list[WorkCard]:
    result: list[WorkCard] = []
    if user.has_perm("batches.prepare_batch"):
        result.append(_card(_("Batches to prepare"), BatchStatus.PLANNED, _("Interlocks, materials, line clearance")))
    if user.has_perm("batches.view_batch") and user.groups.filter(name="operator").exists():
        mine = get_objects_for_user(user, "batches.execute_batch", klass=Batch, accept_global_perms=False)
        count = mine.filter(status__in=[BatchStatus.IN_PROGRESS, BatchStatus.CORRECTION_REQUESTED]).count()
        result.append(
            WorkCard(
                _("My running batches"),
                count,
                f"{reverse('batches:list')}?status=in_progress",
                _("Steps to execute or values to correct"),
                "warn" if count else "ok",
            )
        )
    if user.has_perm("batches.review_batch"):
        result.append(_card(_("Batch records to review"), BatchStatus.COMPLETED, _("Review by exception")))
    if user.has_perm("batches.release_batch"):
        result.append(_card(_("Batches to release"), BatchStatus.QC_RELEASED, _("QC has released them")))
    return result
