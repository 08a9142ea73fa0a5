"""Balances (issue 19): a balance is equipment with a connection, metrology master data and checks.

- Balance: how the MES reaches the balance (protocol, host, port, timeout). Configuration.
- BalanceMetrology: the balance's metrology master data: serial number (what the balance must
  report), unit, capacity, readability d, minimum weight (USP <41> / Ph. Eur. 2.1.7: the smallest
  net quantity that meets the required accuracy) and the daily check's test weight and tolerance.
  Kept in its own model so master-data change control can govern it on its own.
- BalanceCheck: one daily check with a certified test weight, the weight read from the balance
  (never typed), the tolerance applied and the result. A passed check today gates use.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.gmp import GMPModel
from equipment.models import Equipment
from mes.units import Unit


class BalanceProtocol(models.TextChoices):
    MTSICS = "mtsics", _("MT-SICS (Mettler Toledo) over TCP")


class Balance(GMPModel):
    """How to reach one balance; the equipment record carries its status, calibration and logbook."""

    equipment = models.OneToOneField(
        Equipment, on_delete=models.PROTECT, related_name="balance", verbose_name=_("equipment")
    )
    protocol = models.CharField(
        _("protocol"), max_length=20, choices=BalanceProtocol.choices, default=BalanceProtocol.MTSICS
    )
    host = models.CharField(_("host"), max_length=100, default="127.0.0.1")
    port = models.PositiveIntegerField(_("TCP port"))
    timeout_s = models.DecimalField(_("answer timeout (s)"), max_digits=5, decimal_places=1, default=5)

    class Meta:
        ordering = ["equipment__code"]
        verbose_name = _("balance")
        verbose_name_plural = _("balances")

    def __str__(self) -> str:
        return self.equipment.code


class BalanceMetrology(GMPModel):
    """A balance's metrology master data (under change control: see the module docstring)."""

    balance = models.OneToOneField(Balance, on_delete=models.PROTECT, related_name="metrology")
    serial_number = models.CharField(_("serial number"), max_length=60)
    unit = models.CharField(_("unit"), max_length=10, choices=Unit.choices, default=Unit.G)
    capacity = models.DecimalField(_("capacity"), max_digits=14, decimal_places=4)
    readability = models.DecimalField(_("readability (d)"), max_digits=14, decimal_places=6)
    minimum_weight = models.DecimalField(
        _("minimum weight"),
        max_digits=14,
        decimal_places=4,
        help_text=_("Smallest net quantity that meets the required accuracy (USP <41>, Ph. Eur. 2.1.7)."),
    )
    check_weight = models.DecimalField(_("daily check test weight (nominal)"), max_digits=14, decimal_places=4)
    check_tolerance = models.DecimalField(_("daily check tolerance (±)"), max_digits=14, decimal_places=6)

    class Meta:
        verbose_name = _("balance metrology")
        verbose_name_plural = _("balance metrology")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(capacity__gt=0, readability__gt=0, minimum_weight__gt=0, check_tolerance__gt=0),
                name="eq_balance_metrology_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(minimum_weight__lt=models.F("capacity"), check_weight__lte=models.F("capacity")),
                name="eq_balance_metrology_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.balance_id} {self.serial_number}"

    def text(self, field: str) -> str:
        """A metrology value as people write it (no trailing zeros of the stored precision), with the unit."""
        return f"{format(getattr(self, field).normalize(), 'f')} {self.unit}"

    @property
    def capacity_text(self) -> str:
        return self.text("capacity")

    @property
    def readability_text(self) -> str:
        return self.text("readability")

    @property
    def minimum_text(self) -> str:
        return self.text("minimum_weight")

    @property
    def check_weight_text(self) -> str:
        return self.text("check_weight")


class BalanceCheck(GMPModel):
    """One daily check of a balance with a test weight; the reading comes from the balance."""

    balance = models.ForeignKey(Balance, on_delete=models.PROTECT, related_name="checks")
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("performed by")
    )
    performed_at = models.DateTimeField(_("performed at"), default=timezone.now)
    test_weight = models.CharField(_("test weight (ID / certificate)"), max_length=80)
    nominal = models.DecimalField(_("nominal"), max_digits=14, decimal_places=4)
    reading = models.DecimalField(_("reading"), max_digits=14, decimal_places=6)
    unit = models.CharField(_("unit"), max_length=10, choices=Unit.choices)
    tolerance = models.DecimalField(_("tolerance (±)"), max_digits=14, decimal_places=6)
    passed = models.BooleanField(_("passed"))
    raw = models.TextField(_("balance answer"), blank=True, default="")

    class Meta:
        ordering = ["-performed_at", "-id"]
        verbose_name = _("balance check")
        verbose_name_plural = _("balance checks")
        indexes = [models.Index(fields=["balance", "performed_at"], name="eq_balance_check_at")]

    def __str__(self) -> str:
        return f"{self.balance_id} {self.performed_at:%Y-%m-%d} {'pass' if self.passed else 'FAIL'}"
