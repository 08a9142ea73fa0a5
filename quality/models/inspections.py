"""Inspections of lots (incoming, in-process, intermediate, finished): samples, results, decision."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop, pgettext_lazy

from audit.gmp import GMPModel
from mes.generated import GeneratedText, localized
from mes.units import unit_in_text
from mes.workflow import StateMachine, Transition
from quality.models.specs import InspectionType, LimitKind, _plain

# A result as records store it (a deviation's text, a signature's content): English, whatever the language
# of the person who entered it; shown in the reader's language (mes.generated).
RESULT_PASS = GeneratedText(gettext_noop("Pass"))
RESULT_FAIL = GeneratedText(gettext_noop("Fail"))
RESULT_CONFORMS = GeneratedText(gettext_noop("conforms"))
RESULT_NOT_CONFORMING = GeneratedText(gettext_noop("does not conform"))
RESULT_TEXT_CONFORMS = GeneratedText(gettext_noop("%(text)s (conforms)"))
RESULT_TEXT_NOT_CONFORMING = GeneratedText(gettext_noop("%(text)s (does not conform)"))


def result_shown(stored: str) -> str:
    """A stored result or limit ("Fail", "7 pcs", "cloudy (does not conform)") in the reader's language."""
    return unit_in_text(localized(stored))


class InspectionStatus(models.TextChoices):
    DUE = "due", pgettext_lazy("inspection status", "Due")
    IN_TESTING = "in_testing", _("In testing")
    PASSED = "passed", _("Passed")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class InspectionOrigin(models.TextChoices):
    RECEIPT = "receipt", _("Goods receipt")
    BATCH_OUTPUT = "batch_output", _("Batch output")
    MANUAL = "manual", _("Created by hand")


class LotDecision(models.TextChoices):
    NONE = "", _("Not decided")
    RELEASED = "released", _("Lot released")
    REJECTED = "rejected", _("Lot rejected")
    HELD = "held", _("Lot held for investigation")


class Inspection(GMPModel):
    """The inspection of one lot against one effective specification version."""

    STATE_FIELD = "status"

    number = models.CharField(_("inspection number"), max_length=30, unique=True)
    lot = models.ForeignKey(
        "materials.Lot", on_delete=models.PROTECT, related_name="inspections", verbose_name=_("lot")
    )
    batch = models.ForeignKey(
        "batches.Batch",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="inspections",
        verbose_name=_("batch"),
    )
    specification = models.ForeignKey(
        "quality.Specification", on_delete=models.PROTECT, related_name="inspections", verbose_name=_("specification")
    )
    inspection_type = models.CharField(_("inspection type"), max_length=20, choices=InspectionType.choices)
    origin = models.CharField(_("created from"), max_length=20, choices=InspectionOrigin.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=InspectionStatus.choices, default=InspectionStatus.DUE, db_index=True
    )
    due_date = models.DateField(_("due date"), default=timezone.localdate)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    conclusion = models.TextField(_("conclusion"), blank=True, default="")
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("completed by"),
    )
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    lot_decision = models.CharField(
        _("lot decision"), max_length=20, choices=LotDecision.choices, blank=True, default=""
    )

    # The decision on the lot comes after the signed completion (its own signature in materials).
    SIGNATURE_EXCLUDE = ("lot_decision",)

    class Meta:
        ordering = ["due_date", "pk"]
        verbose_name = _("inspection")
        verbose_name_plural = _("inspections")
        permissions = [
            ("enter_result", _("Can take samples and enter inspection results")),
            ("complete_inspection", _("Can complete (sign) an inspection")),
        ]

    def __str__(self) -> str:
        return f"{self.number} · {self.lot}"

    @property
    def is_open(self) -> bool:
        return self.status in (InspectionStatus.DUE, InspectionStatus.IN_TESTING)

    def current_results(self):
        return [r for r in self.results.all() if r.current]

    def signature_content(self) -> dict:
        """The completion signature binds the inspection and every current result."""
        content = super().signature_content()
        content["results"] = [
            {"item": r.item_id, "value": r.stored_value, "conforms": r.conforms}
            for r in self.results.filter(current=True).order_by("item_id", "pk")
        ]
        return content


INSPECTION_MACHINE = StateMachine(
    field="status",
    transitions=[
        Transition("start", ("due",), "in_testing", "quality.enter_result", _("Start testing")),
        Transition(
            "pass",
            ("in_testing",),
            "passed",
            "quality.complete_inspection",
            _("Complete: passed"),
            signature="approved",
        ),
        Transition(
            "fail",
            ("in_testing",),
            "failed",
            "quality.complete_inspection",
            _("Complete: failed"),
            signature="rejected",
            style="danger",
        ),
        Transition(
            "cancel",
            ("due", "in_testing"),
            "cancelled",
            "quality.complete_inspection",
            _("Cancel inspection"),
            signature="cancelled",
            reason_required=True,
            style="secondary",
        ),
    ],
)


class InspectionSample(GMPModel):
    """A sample taken from a lot for an inspection."""

    inspection = models.ForeignKey(Inspection, on_delete=models.PROTECT, related_name="samples")
    code = models.CharField(_("sample"), max_length=40)
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3)
    unit = models.CharField(_("unit"), max_length=10)
    container = models.CharField(_("container(s)"), max_length=60, blank=True, default="")
    taken_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    taken_at = models.DateTimeField(_("taken at"), default=timezone.now)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("sample")
        verbose_name_plural = _("samples")

    def __str__(self) -> str:
        return self.code


class Result(GMPModel):
    """One result of one test. A correction adds a new current result and keeps the old one, with the reason."""

    inspection = models.ForeignKey(Inspection, on_delete=models.PROTECT, related_name="results")
    item = models.ForeignKey("quality.TestItem", on_delete=models.PROTECT, related_name="results")
    sample = models.ForeignKey(
        InspectionSample, on_delete=models.PROTECT, null=True, blank=True, related_name="results"
    )
    value_numeric = models.DecimalField(_("value"), max_digits=16, decimal_places=4, null=True, blank=True)
    value_text = models.CharField(_("observation"), max_length=300, blank=True, default="")
    passed = models.BooleanField(_("passed / conforms"), null=True, blank=True)
    conforms = models.BooleanField(_("within specification"))
    current = models.BooleanField(default=True)
    replaces = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="replaced_by", verbose_name=_("corrects")
    )
    correction_reason = models.TextField(_("reason for correction"), blank=True, default="")
    deviation = models.ForeignKey(
        "quality.Deviation", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("OOS")
    )
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField(_("entered at"), default=timezone.now)

    SIGNATURE_EXCLUDE = ("current",)

    class Meta:
        ordering = ["item__sequence", "pk"]
        verbose_name = _("result")
        verbose_name_plural = _("results")
        constraints = [
            models.UniqueConstraint(
                fields=["inspection", "item"], condition=Q(current=True), name="result_one_current_per_item"
            )
        ]

    def __str__(self) -> str:
        return f"{self.item.name}: {self.display_value}"

    @property
    def stored_value(self) -> str:
        """The result as records store it: English words, the unit's code ("7 pcs", "Fail"). The same in
        every language, so a signature binds the same content whoever reads it."""
        if self.item.kind == LimitKind.NUMERIC:
            unit = f" {self.item.unit}" if self.item.unit else ""
            return f"{_plain(self.value_numeric)}{unit}"
        if self.item.kind == LimitKind.PASS_FAIL:
            return RESULT_PASS() if self.passed else RESULT_FAIL()
        if self.value_text:
            return (RESULT_TEXT_CONFORMS if self.passed else RESULT_TEXT_NOT_CONFORMING)(text=self.value_text)
        return RESULT_CONFORMS() if self.passed else RESULT_NOT_CONFORMING()

    @property
    def display_value(self) -> str:
        """The result in the reader's language ("7 件", "不合格")."""
        return result_shown(self.stored_value)
