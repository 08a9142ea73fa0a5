"""Material master data (the materials issue adds lots, locations, ledger and genealogy)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from audit.gmp import GMPModel
from mes.models import LocalizedNameMixin
from mes.units import Unit


class MaterialType(models.TextChoices):
    RAW = "raw", _("Raw material")
    PACKAGING = "packaging", _("Packaging material")
    INTERMEDIATE = "intermediate", _("Intermediate")
    FINISHED = "finished", _("Finished product")


class StorageCondition(models.TextChoices):
    AMBIENT = "ambient", _("Ambient (15–25 °C)")
    COOL = "cool", _("Cool (8–15 °C)")
    COLD = "cold", _("Refrigerated (2–8 °C)")
    FROZEN = "frozen", _("Frozen (≤ −20 °C)")


class Material(GMPModel, LocalizedNameMixin):
    """A material or product: what lots are of and what recipes consume and make."""

    code = models.CharField(_("material code"), max_length=40, unique=True)
    type = models.CharField(_("type"), max_length=20, choices=MaterialType.choices)
    unit = models.CharField(_("unit of measure"), max_length=10, choices=Unit.choices)
    specification = models.CharField(_("specification"), max_length=200, blank=True, default="")
    storage_condition = models.CharField(
        _("storage condition"), max_length=20, choices=StorageCondition.choices, default=StorageCondition.AMBIENT
    )
    shelf_life_days = models.PositiveIntegerField(_("shelf life (days)"), null=True, blank=True)
    retest_days = models.PositiveIntegerField(_("retest period (days)"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("material")
        verbose_name_plural = _("materials")

    def __str__(self) -> str:
        return f"{self.code} {self.display_name}"
