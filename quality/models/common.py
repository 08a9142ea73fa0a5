"""Shared pieces of the quality records."""

from __future__ import annotations

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Counter(models.Model):
    """Running numbers per prefix and year (DEV-2026-0001). Not a GMP record: the numbered record is."""

    key = models.CharField(max_length=40, unique=True)
    value = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.key}={self.value}"


def next_number(prefix: str) -> str:
    """The next number for `prefix` this year, gap-free under concurrency (row lock)."""
    year = timezone.localdate().year
    key = f"{prefix}-{year}"
    with transaction.atomic():
        counter, _created = Counter.objects.get_or_create(key=key)
        counter = Counter.objects.select_for_update().get(pk=counter.pk)
        counter.value += 1
        counter.save(update_fields=["value"])
    return f"{key}-{counter.value:04d}"


class DispositionKind(models.TextChoices):
    REWORK = "rework", _("Rework")
    SCRAP = "scrap", _("Scrap")
    DESTRUCTION = "destruction", _("Destruction")
