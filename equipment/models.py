"""Equipment master data (the equipment issue adds equipment, status, logbook and more)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from audit.gmp import GMPModel
from mes.models import LocalizedNameMixin


class EquipmentClass(GMPModel, LocalizedNameMixin):
    """A kind of equipment (granulator, tablet press, ...). Recipe steps require a class."""

    code = models.CharField(_("code"), max_length=30, unique=True)
    description = models.TextField(_("description"), blank=True, default="")

    class Meta:
        ordering = ["code"]
        verbose_name = _("equipment class")
        verbose_name_plural = _("equipment classes")

    def __str__(self) -> str:
        return f"{self.code} {self.display_name}"
