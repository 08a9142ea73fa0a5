"""Home-page work cards for QC, QA and the people who own actions."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from batches.models import Batch
from mes.permcache import holds
from mes.workqueue import WorkCard
from quality.models import (
    CAPA,
    BatchRelease,
    CAPAStatus,
    Deviation,
    DeviationStatus,
    Disposition,
    Inspection,
    ReleaseStatus,
    Specification,
    SpecStatus,
)
from quality.selectors import overdue_capas
from quality.services.release import REVIEWED_STATES


def cards(user) -> list[WorkCard]:
    out: list[WorkCard] = _inspection_cards(user)
    if holds(user, "quality.investigate_deviation"):
        open_count = Deviation.objects.filter(status=DeviationStatus.OPEN).count()
        investigating = Deviation.objects.filter(status=DeviationStatus.INVESTIGATING).count()
        out.append(
            WorkCard(
                _("Deviations to investigate"),
                open_count + investigating,
                reverse("quality:deviation_list"),
                _("open or under investigation"),
                "danger" if open_count else "warn",
            )
        )
    if holds(user, "quality.approve_major_deviation"):
        n = Deviation.objects.filter(
            status=DeviationStatus.CAPA_PENDING, classification__in=("major", "critical")
        ).count()
        out.append(
            WorkCard(
                _("Major deviations awaiting QA closure"),
                n,
                reverse("quality:deviation_list") + "?status=capa_pending",
                _("QA manager approval (QC-11)"),
                "warn" if n else "ok",
            )
        )
    if holds(user, "quality.approve_specification"):
        n = Specification.objects.filter(status=SpecStatus.IN_REVIEW).count()
        if n:
            out.append(
                WorkCard(
                    _("Specifications to approve"), n, reverse("quality:spec_list") + "?status=in_review", "", "warn"
                )
            )
    if holds(user, "quality.change_capa"):
        mine = CAPA.objects.filter(owner=user).exclude(status=CAPAStatus.CLOSED).count()
        if mine:
            out.append(
                WorkCard(_("My open actions (CAPA)"), mine, reverse("quality:capa_board") + "?mine=1", "", "info")
            )
    if holds(user, "quality.verify_capa"):
        n = CAPA.objects.filter(status=CAPAStatus.EFFECTIVENESS_CHECK).count()
        out.append(
            WorkCard(_("CAPA effectiveness checks"), n, reverse("quality:capa_board"), "", "warn" if n else "ok")
        )
    if holds(user, "quality.view_capa"):
        n = overdue_capas().count()
        if n:
            out.append(WorkCard(_("Overdue actions (CAPA)"), n, reverse("quality:capa_board"), "", "danger"))
    return out


def _inspection_cards(user) -> list[WorkCard]:
    out: list[WorkCard] = []
    if holds(user, "quality.enter_result"):
        n = Inspection.objects.filter(status__in=("due", "in_testing")).count()
        out.append(WorkCard(_("Inspections due"), n, reverse("quality:worklist"), "", "warn" if n else "ok"))
    if holds(user, "quality.complete_inspection"):
        n = Inspection.objects.filter(
            status__in=("passed", "failed"), lot_decision="", lot__produced_by__isnull=True
        ).count()
        if n:
            out.append(
                WorkCard(
                    _("Lot decisions waiting"), n, reverse("quality:worklist"), _("release, reject or hold"), "warn"
                )
            )
    if holds(user, "quality.qc_release_batch"):
        n = (
            Batch.objects.filter(status__in=REVIEWED_STATES, release__isnull=True, output_lots__isnull=False)
            .distinct()
            .count()
        )
        out.append(WorkCard(_("Batches to QC release"), n, reverse("quality:release_list"), "", "warn" if n else "ok"))
    if holds(user, "quality.production_release_batch"):
        n = BatchRelease.objects.filter(status=ReleaseStatus.QC_RELEASED).exclude(qc_released_by=user).count()
        out.append(
            WorkCard(
                _("Batches to production release"),
                n,
                reverse("quality:release_list"),
                _("after QC release"),
                "warn" if n else "ok",
            )
        )
    if holds(user, "quality.approve_disposition"):
        n = Disposition.objects.filter(status="proposed").count()
        if n:
            out.append(WorkCard(_("Dispositions to approve"), n, reverse("quality:disposition_list"), "", "warn"))
    if holds(user, "batches.prepare_batch") and holds(user, "quality.view_disposition"):
        n = Disposition.objects.filter(status="approved", kind="rework").count()
        if n:  # the supervisor starts the rework batch from the disposition's page
            out.append(
                WorkCard(
                    _("Rework batches to start"),
                    n,
                    reverse("quality:disposition_list"),
                    _("Approved rework of a nonconforming lot"),
                    "warn",
                )
            )
    if holds(user, "quality.execute_disposition"):
        n = Disposition.objects.filter(status="approved").exclude(kind="rework").count()
        if n:
            out.append(
                WorkCard(_("Scrap / destruction to carry out"), n, reverse("quality:disposition_list"), "", "warn")
            )
    return out
