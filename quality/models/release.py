"""Nonconforming product dispositions and the two-step release of a batch's output lot."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from audit.gmp import GMPModel
from mes.workflow import StateMachine, Transition
from quality.models.common import DispositionKind


class DispositionStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    APPROVED = "approved", _("Approved")
    DONE = "done", _("Carried out")
    CANCELLED = "cancelled", _("Cancelled")


class Disposition(GMPModel):
    """What happens to a nonconforming (rejected) lot: rework under an approved instruction, or scrap/destruction.

    Rework: once approved, the batch-execution app creates the rework batch and records it here
    (`disposition_rework_started`). Scrap and destruction: carried out with a signature, and the stock is
    written off through the materials ledger.
    """

    STATE_FIELD = "status"

    number = models.CharField(_("disposition number"), max_length=30, unique=True)
    lot = models.ForeignKey(
        "materials.Lot", on_delete=models.PROTECT, related_name="dispositions", verbose_name=_("lot")
    )
    inspection = models.ForeignKey(
        "quality.Inspection", on_delete=models.PROTECT, null=True, blank=True, related_name="dispositions"
    )
    deviation = models.ForeignKey(
        "quality.Deviation", on_delete=models.PROTECT, null=True, blank=True, related_name="dispositions"
    )
    kind = models.CharField(_("disposition"), max_length=20, choices=DispositionKind.choices)
    instruction = models.TextField(_("instruction"))
    status = models.CharField(
        _("status"), max_length=20, choices=DispositionStatus.choices, default=DispositionStatus.PROPOSED
    )
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(_("proposed at"), auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    done_at = models.DateTimeField(_("carried out at"), null=True, blank=True)
    quantity_written_off = models.DecimalField(
        _("quantity written off"), max_digits=14, decimal_places=3, null=True, blank=True
    )
    rework_batch = models.ForeignKey(
        "batches.Batch",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="rework_dispositions",
        verbose_name=_("rework batch"),
    )

    SIGNATURE_EXCLUDE = ("approved_by", "done_by", "done_at", "quantity_written_off", "rework_batch")

    class Meta:
        ordering = ["-proposed_at", "-pk"]
        verbose_name = _("disposition")
        verbose_name_plural = _("dispositions")
        permissions = [
            ("approve_disposition", _("Can approve the disposition of nonconforming product")),
            ("execute_disposition", _("Can carry out scrap or destruction")),
        ]

    def __str__(self) -> str:
        return f"{self.number} · {self.get_kind_display()} · {self.lot}"


DISPOSITION_MACHINE = StateMachine(
    field="status",
    transitions=[
        Transition(
            "approve", ("proposed",), "approved", "quality.approve_disposition", _("Approve"), signature="approved"
        ),
        Transition(
            "execute",
            ("approved",),
            "done",
            "quality.execute_disposition",
            _("Carry out and write off"),
            signature="performed",
        ),
        # Taken only by the batches app when the supervisor starts the rework batch (batch_create_rework);
        # never offered as a button. The service also requires batches.prepare_batch (a permission of
        # another app cannot be the transition's: object-level checks are per app).
        Transition("rework_started", ("approved",), "done", "quality.view_disposition", _("Rework batch created")),
        Transition(
            "cancel",
            ("proposed", "approved"),
            "cancelled",
            "quality.approve_disposition",
            _("Cancel"),
            signature="cancelled",
            reason_required=True,
            style="secondary",
        ),
    ],
)


class ReleaseStatus(models.TextChoices):
    QC_RELEASED = "qc_released", _("QC released")
    RELEASED = "released", _("Released for stock and shipping")


class BatchRelease(GMPModel):
    """The release decision of a batch's output lot: QC release, then production release by another person."""

    STATE_FIELD = "status"

    batch = models.OneToOneField("batches.Batch", on_delete=models.PROTECT, related_name="release")
    lot = models.ForeignKey("materials.Lot", on_delete=models.PROTECT, related_name="+", verbose_name=_("output lot"))
    status = models.CharField(
        _("status"), max_length=20, choices=ReleaseStatus.choices, default=ReleaseStatus.QC_RELEASED
    )
    qc_released_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    qc_released_at = models.DateTimeField(_("QC released at"))
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    conditions = models.JSONField(_("conditions checked"), default=list)

    SIGNATURE_EXCLUDE = ("released_by", "released_at")

    class Meta:
        verbose_name = _("batch release")
        verbose_name_plural = _("batch releases")
        permissions = [
            ("qc_release_batch", _("Can QC-release a batch")),
            ("production_release_batch", _("Can production-release a batch")),
        ]

    def __str__(self) -> str:
        return f"{self.batch} · {self.get_status_display()}"


RELEASE_MACHINE = StateMachine(
    field="status",
    transitions=[
        Transition(
            "release",
            ("qc_released",),
            "released",
            "quality.production_release_batch",
            _("Production release"),
            signature="released",
        ),
    ],
)
