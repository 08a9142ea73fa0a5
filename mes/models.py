"""Project-wide records: account security state (lock-out) and the role catalogue."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class UserSecurity(models.Model):
    """Failed authentication attempts in a row and the lock-out they cause (21 CFR 11.300(d))."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="security")
    failed_attempts = models.PositiveIntegerField(default=0)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    locked_at = models.DateTimeField(_("locked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("account security")
        verbose_name_plural = _("account security")

    def __str__(self) -> str:
        return f"{self.user} ({self.failed_attempts} failed)"

    @property
    def is_locked(self) -> bool:
        return self.locked_at is not None
