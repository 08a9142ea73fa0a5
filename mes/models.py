"""Project-wide records: account security state (lock-out) and the role catalogue."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from audit.gmp import GMPModel


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


class UserPreference(models.Model):
    """Per-user settings that are not security state: the person's language (screens at sign-in, e-mails).

    Empty means "the plant's language" (settings.LANGUAGE_CODE, MES_LANGUAGE), so a plant that
    switches its language carries every user who never chose one along with it."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="preference")
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, blank=True, default="", help_text=_(
            "The screens' language at sign-in and the e-mails' language; empty: the plant's language."
        )
    )  # fmt: skip

    class Meta:
        verbose_name = _("user preference")
        verbose_name_plural = _("user preferences")

    def __str__(self) -> str:
        return f"{self.user} ({self.language or '-'})"


class LocalizedNameMixin(models.Model):
    """English and Chinese names; `display_name` follows the user's language."""

    name = models.CharField(_("name (English)"), max_length=200)
    name_zh = models.CharField(_("name (Chinese)"), max_length=200, blank=True, default="")

    class Meta:
        abstract = True

    @property
    def display_name(self) -> str:
        if (get_language() or "").startswith("zh") and self.name_zh:
            return self.name_zh
        return self.name


class Site(GMPModel, LocalizedNameMixin):
    """ISA-95 site: a plant."""

    code = models.CharField(_("code"), max_length=30, unique=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("site")
        verbose_name_plural = _("sites")

    def __str__(self) -> str:
        return f"{self.code} {self.display_name}"


class Area(GMPModel, LocalizedNameMixin):
    """ISA-95 area within a site (for example: solid dose, packaging)."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="areas")
    code = models.CharField(_("code"), max_length=30, unique=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("area")
        verbose_name_plural = _("areas")

    def __str__(self) -> str:
        return f"{self.code} {self.display_name}"


class Line(GMPModel, LocalizedNameMixin):
    """ISA-95 production line / work centre: where orders are planned and batches run."""

    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="lines")
    code = models.CharField(_("code"), max_length=30, unique=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("production line")
        verbose_name_plural = _("production lines")

    def __str__(self) -> str:
        return f"{self.code} {self.display_name}"


class MasterDataChangeStatus(models.TextChoices):
    PROPOSED = "proposed", _("Waiting for approval")
    EFFECTIVE = "effective", _("Approved and effective")
    REJECTED = "rejected", pgettext_lazy("change request", "Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class MasterDataChange(GMPModel):
    """A request to create or change one master-data record whose fields are under change control
    (declared in `<app>/changecontrol.py`, see mes.changecontrol).

    `before` and `after` hold the controlled fields as text (only those that change; every field
    for a new record). Nothing changes until another person approves it with an e-signature; the
    approval writes `after` to the record in the same transaction (effective on approval).
    """

    STATE_FIELD = "status"

    object_type = models.CharField(_("record type"), max_length=100, db_index=True)
    object_id = models.CharField(_("record id"), max_length=64, blank=True, default="")  # empty: a new record
    object_repr = models.CharField(_("record"), max_length=200)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=MasterDataChangeStatus.choices,
        default=MasterDataChangeStatus.PROPOSED,
        db_index=True,
    )
    before = models.JSONField(_("before"), default=dict, blank=True)
    after = models.JSONField(_("after"), default=dict)
    reason = models.TextField(_("reason for change"))
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("proposed by")
    )
    proposed_at = models.DateTimeField(_("proposed at"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_comment = models.TextField(_("decision comment"), blank=True, default="")

    class Meta:
        ordering = ["-proposed_at", "-id"]
        verbose_name = _("master data change request")
        verbose_name_plural = _("master data change requests")
        permissions = [
            ("propose_masterdatachange", _("Can propose master data changes")),
            ("approve_masterdatachange", _("Can approve or reject master data changes")),
        ]

    def __str__(self) -> str:
        return f"MDC-{self.pk:05d} {self.object_repr}" if self.pk else f"MDC {self.object_repr}"
