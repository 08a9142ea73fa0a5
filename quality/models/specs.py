"""Specifications: what a material or product must meet, per inspection type, versioned and approved."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from audit.gmp import GMPModel
from mes.names import chinese_name
from mes.units import unit_label
from mes.workflow import StateMachine, Transition


class InspectionType(models.TextChoices):
    INCOMING = "incoming", _("Incoming")
    IN_PROCESS = "in_process", _("In-process")
    INTERMEDIATE = "intermediate", _("Intermediate")
    FINISHED = "finished", _("Finished product")


class SpecStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    EFFECTIVE = "effective", _("Effective")
    SUPERSEDED = "superseded", _("Superseded")
    RETIRED = "retired", _("Retired")


class Specification(GMPModel):
    """One version of the quality standard of a material for one inspection type.

    Only one version per material and inspection type is effective at a time (database constraint);
    approving a new version supersedes the previous one.
    """

    STATE_FIELD = "status"

    material = models.ForeignKey(
        "materials.Material", on_delete=models.PROTECT, related_name="specifications", verbose_name=_("material")
    )
    inspection_type = models.CharField(_("inspection type"), max_length=20, choices=InspectionType.choices)
    version = models.PositiveIntegerField(_("version"), default=1)
    title = models.CharField(_("title"), max_length=200)
    reference = models.CharField(_("document reference"), max_length=80, blank=True, default="")
    sample_size = models.CharField(_("sampling plan"), max_length=200, blank=True, default="")
    status = models.CharField(_("status"), max_length=20, choices=SpecStatus.choices, default=SpecStatus.DRAFT)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("author")
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("approved by"),
    )
    effective_at = models.DateTimeField(_("effective since"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    SIGNATURE_EXCLUDE = ("approved_by", "effective_at")

    class Meta:
        ordering = ["material__code", "inspection_type", "-version"]
        verbose_name = _("specification")
        verbose_name_plural = _("specifications")
        permissions = [
            ("approve_specification", _("Can approve a specification")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["material", "inspection_type", "version"], name="spec_unique_version"),
            models.UniqueConstraint(
                fields=["material", "inspection_type"],
                condition=Q(status="effective"),
                name="spec_one_effective",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.material.code} · {self.get_inspection_type_display()} v{self.version}"

    def active_items(self):
        return [i for i in self.items.all() if not i.removed]

    def signature_content(self) -> dict[str, Any]:
        """A signature binds the header and every active test item with its limits."""
        content = super().signature_content()
        content["items"] = [i.signature_content() for i in self.items.filter(removed=False).order_by("sequence", "pk")]
        return content


class LimitKind(models.TextChoices):
    NUMERIC = "numeric", _("Numeric range")
    PASS_FAIL = "pass_fail", _("Pass / fail")
    TEXT = "text", _("Text criterion")


class TestItem(GMPModel):
    """One test of a specification: method, unit and acceptance limit."""

    __test__ = False  # not a pytest test class

    specification = models.ForeignKey(Specification, on_delete=models.PROTECT, related_name="items")
    sequence = models.PositiveIntegerField(_("no."), default=10)
    name = models.CharField(_("test (English)"), max_length=200)
    name_zh = models.CharField(_("test (Chinese)"), max_length=200, blank=True, default="")
    method = models.CharField(_("method"), max_length=200, blank=True, default="")
    kind = models.CharField(_("limit type"), max_length=20, choices=LimitKind.choices, default=LimitKind.NUMERIC)
    unit = models.CharField(_("unit"), max_length=20, blank=True, default="")
    lower_limit = models.DecimalField(_("lower limit"), max_digits=16, decimal_places=4, null=True, blank=True)
    upper_limit = models.DecimalField(_("upper limit"), max_digits=16, decimal_places=4, null=True, blank=True)
    acceptance = models.CharField(_("acceptance criterion"), max_length=300, blank=True, default="")
    removed = models.BooleanField(_("removed"), default=False)

    class Meta:
        ordering = ["sequence", "pk"]
        verbose_name = _("test item")
        verbose_name_plural = _("test items")

    def __str__(self) -> str:
        return f"{self.sequence} {self.display_name}"

    @property
    def display_name(self) -> str:
        if (get_language() or "").startswith("zh") and self.name_zh:
            return self.name_zh
        return self.name

    @property
    def limit_text(self) -> str:
        """The acceptance limit as QC reads it on the worklist: "98.0 – 102.0 %", "≤ 0.5 %", "Pass"."""
        if self.kind == LimitKind.NUMERIC:
            unit = f" {unit_label(self.unit)}" if self.unit else ""
            lo, hi = _plain(self.lower_limit), _plain(self.upper_limit)
            if lo is not None and hi is not None:
                return f"{lo} – {hi}{unit}"
            if lo is not None:
                return f"≥ {lo}{unit}"
            if hi is not None:
                return f"≤ {hi}{unit}"
            return ""
        if self.kind == LimitKind.PASS_FAIL:
            return self.acceptance or str(_("Pass"))
        return self.acceptance

    def judge_numeric(self, value: Decimal) -> bool:
        """True when `value` lies within the limits (limits inclusive)."""
        if self.lower_limit is not None and value < self.lower_limit:
            return False
        return not (self.upper_limit is not None and value > self.upper_limit)


def test_name_shown(name: str) -> str:
    """A test's English name (as a generated sentence stores it) in the reader's language: the Chinese
    name its specification items give it, for a reader of Chinese; else as stored."""
    return chinese_name(TestItem, "name", "name_zh", name)


def _plain(value: Decimal | None) -> str | None:
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return text


SPEC_MACHINE = StateMachine(
    field="status",
    transitions=[
        Transition(
            "submit",
            ("draft",),
            "in_review",
            "quality.change_specification",
            _("Submit for approval"),
            signature="authored",
        ),
        Transition(
            "return",
            ("in_review",),
            "draft",
            "quality.approve_specification",
            _("Return to author"),
            reason_required=True,
            style="secondary",
        ),
        Transition(
            "approve",
            ("in_review",),
            "effective",
            "quality.approve_specification",
            _("Approve and make effective"),
            signature="approved",
        ),
        Transition(
            "supersede",
            ("effective",),
            "superseded",
            "quality.approve_specification",
            _("Supersede"),
            style="secondary",
        ),
        Transition(
            "retire",
            ("draft", "effective"),
            "retired",
            "quality.approve_specification",
            _("Retire"),
            signature="cancelled",
            reason_required=True,
            style="danger",
        ),
    ],
)
# Taken by the approval service only (the previous effective version), never offered as a button.
SPEC_INTERNAL = {"supersede"}
