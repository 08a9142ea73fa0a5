"""Weigh & dispense records (issue 19): one row per dispensed container.

A DispenseEntry is the evidence of one weighing: the balance, its serial number as read, gross,
tare and net as the balance reported them, when, and the raw MT-SICS answers; or, for a manual
entry, the typed values with the reason and the second person who verified them (flagged for
review by exception). It points to the issue entry it posted in the ledger, so stock, genealogy
(lot -> batch) and the batch record take their quantities from the same movement. The container
is a sub-lot of that issue: its code ("<lot>/D<n>") is what its label's barcodes read.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.gmp import GMPModel
from materials.models import LedgerEntry, Lot
from mes.units import Unit


class DispenseEntry(GMPModel):
    """One weighed (or, by exception, manually entered) container of material for a batch."""

    container_code = models.CharField(_("container"), max_length=60, unique=True)
    batch = models.ForeignKey(
        "batches.Batch", on_delete=models.PROTECT, related_name="dispense_entries", verbose_name=_("batch")
    )
    lot = models.ForeignKey(
        Lot, on_delete=models.PROTECT, related_name="dispense_entries", verbose_name=_("source lot")
    )
    ledger_entry = models.OneToOneField(LedgerEntry, on_delete=models.PROTECT, related_name="dispense")
    line_ref = models.CharField(_("recipe line"), max_length=40, blank=True, default="")
    balance = models.ForeignKey(
        "equipment.Equipment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="dispense_entries",
        verbose_name=_("balance"),
    )
    balance_serial = models.CharField(_("balance serial number (read)"), max_length=60, blank=True, default="")
    gross = models.DecimalField(_("gross"), max_digits=14, decimal_places=6)
    tare = models.DecimalField(_("tare"), max_digits=14, decimal_places=6)
    net = models.DecimalField(_("net"), max_digits=14, decimal_places=6)
    unit = models.CharField(_("unit"), max_length=10, choices=Unit.choices)
    target = models.DecimalField(_("target"), max_digits=14, decimal_places=6, null=True, blank=True)
    target_unit = models.CharField(_("target unit"), max_length=10, blank=True, default="")
    tolerance_pct = models.DecimalField(_("tolerance (%)"), max_digits=6, decimal_places=2, default=0)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    raw = models.TextField(_("balance answers"), blank=True, default="")
    manual = models.BooleanField(_("entered manually"), default=False)
    manual_reason = models.TextField(_("reason for manual entry"), blank=True, default="")
    weighed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("weighed by")
    )
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("verified by"),
    )
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    labels_printed = models.PositiveIntegerField(_("labels printed"), default=0)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("dispensed container")
        verbose_name_plural = _("dispensed containers")
        indexes = [models.Index(fields=["batch", "created_at"], name="mat_dispense_batch")]
        constraints = [
            models.CheckConstraint(condition=models.Q(net__gt=0), name="mat_dispense_net_positive"),
            # A weighing either comes from a balance (with its reading) or is manual with a reason and verifier.
            models.CheckConstraint(
                condition=models.Q(manual=False, balance__isnull=False, read_at__isnull=False)
                | models.Q(manual=True, verified_by__isnull=False) & ~models.Q(manual_reason=""),
                name="mat_dispense_captured_or_justified",
            ),
        ]

    def __str__(self) -> str:
        return self.container_code

    @staticmethod
    def _shown(value) -> str:
        """A weight as the operator reads it: without the trailing zeros of the stored precision."""
        return format(value.normalize(), "f")

    @property
    def net_text(self) -> str:
        return f"{self._shown(self.net)} {self.unit}"

    @property
    def tare_text(self) -> str:
        return f"{self._shown(self.tare)} {self.unit}"

    @property
    def gross_text(self) -> str:
        return f"{self._shown(self.gross)} {self.unit}"
