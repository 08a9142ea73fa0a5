"""Batches (the orders issue creates them from released orders; batch execution adds the eBR)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from audit.gmp import GMPModel
from mes.units import Unit


class BatchStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    READY = "ready", _("Ready")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")
    UNDER_REVIEW = "under_review", _("Under review")
    CORRECTION_REQUESTED = "correction_requested", _("Correction requested")
    REVIEWED = "reviewed", _("Reviewed")
    QC_RELEASED = "qc_released", _("QC released")
    RELEASED = "released", _("Released")
    REJECTED = "rejected", _("Rejected")
    CLOSED = "closed", _("Closed")
    ARCHIVED = "archived", _("Archived")


class Batch(GMPModel):
    """A batch of a product: unique number, planned size, status, assigned operators."""

    STATE_FIELD = "status"

    number = models.CharField(_("batch number"), max_length=40, unique=True)
    product = models.ForeignKey(
        "materials.Material", on_delete=models.PROTECT, related_name="batches", verbose_name=_("product")
    )
    line = models.ForeignKey(
        "mes.Line", on_delete=models.PROTECT, null=True, blank=True, related_name="batches", verbose_name=_("line")
    )
    planned_quantity = models.DecimalField(_("planned quantity"), max_digits=14, decimal_places=3)
    unit = models.CharField(_("unit"), max_length=10, choices=Unit.choices)
    status = models.CharField(
        _("status"), max_length=30, choices=BatchStatus.choices, default=BatchStatus.PLANNED, db_index=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # Set when the batch is created from a released production order (ORD-6); the recipe is the
    # order's frozen master batch record version, copied here so the eBR never has to guess.
    order = models.ForeignKey("orders.ProductionOrder", on_delete=models.PROTECT, null=True, blank=True,
                              related_name="batches", verbose_name=_("production order"))
    recipe = models.ForeignKey("orders.Recipe", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="batches", verbose_name=_("master batch record"))
    sequence = models.PositiveIntegerField(_("batch of the order"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("batch")
        verbose_name_plural = _("batches")
        permissions = [("execute_batch", _("Can execute steps of a batch"))]
        constraints = [
            models.CheckConstraint(condition=models.Q(planned_quantity__gt=0), name="batch_quantity_positive"),
            models.UniqueConstraint(fields=["order", "sequence"], name="batch_unique_sequence_in_order"),
        ]

    def __str__(self) -> str:
        return self.number
