"""Deviations and their corrective and preventive actions (CAPA)."""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from audit.gmp import GMPModel
from mes.workflow import StateMachine, Transition


class DeviationSource(models.TextChoices):
    MANUAL = "manual", _("Raised by hand")
    PARAMETER = "parameter", _("Process parameter out of range")
    OOS = "oos", _("Out-of-specification result")
    YIELD = "yield", _("Yield or material balance out of limits")
    EQUIPMENT = "equipment", _("Equipment fault during a batch")
    SCAN = "scan", _("Repeated scan refusals")


class DeviationClass(models.TextChoices):
    MINOR = "minor", _("Minor")
    MAJOR = "major", _("Major")
    CRITICAL = "critical", _("Critical")


class DeviationStatus(models.TextChoices):
    OPEN = "open", _("Open")
    INVESTIGATING = "investigating", _("Investigating")
    CAPA_PENDING = "capa_pending", _("CAPA pending")
    CLOSED = "closed", _("Closed")


CLASS_RANK = {DeviationClass.MINOR: 1, DeviationClass.MAJOR: 2, DeviationClass.CRITICAL: 3}

OPEN_DEVIATION_STATES = (DeviationStatus.OPEN, DeviationStatus.INVESTIGATING, DeviationStatus.CAPA_PENDING)


class Deviation(GMPModel):
    """A departure from an approved instruction, specification or expected result, with its investigation."""

    STATE_FIELD = "status"

    number = models.CharField(_("deviation number"), max_length=30, unique=True)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"))
    source = models.CharField(_("source"), max_length=20, choices=DeviationSource.choices)
    classification = models.CharField(_("classification"), max_length=20, choices=DeviationClass.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=DeviationStatus.choices, default=DeviationStatus.OPEN, db_index=True
    )
    # Empty when the system raised it (an OPC UA alarm while a batch was running).
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("raised by"),
    )
    raised_at = models.DateTimeField(_("raised at"), default=timezone.now)
    root_cause = models.TextField(_("root cause"), blank=True, default="")
    impact_assessment = models.TextField(_("impact on batches and lots"), blank=True, default="")
    closure_summary = models.TextField(_("closure summary"), blank=True, default="")
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("closed by"),
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # A downgrade of the classification (QA only, with the reason): kept so the review sees it.
    original_classification = models.CharField(
        _("classification when raised"), max_length=20, choices=DeviationClass.choices, blank=True, default=""
    )
    reclassification_reason = models.TextField(_("reason for the reclassification"), blank=True, default="")
    reclassified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("reclassified by"),
    )
    # A major or critical deviation closed without a CAPA: QA's justification, signed with the closure.
    no_capa_justification = models.TextField(_("justification for closing without a CAPA"), blank=True, default="")

    # Each step's signature binds what the deviation is (number, description, classification, links).
    # The texts a later step writes are write-once (the services never change them afterwards) and
    # are recorded in the audit event signed in the same transaction; leaving them out keeps the
    # earlier steps' signatures valid when the next step adds its part.
    SIGNATURE_EXCLUDE = (
        "root_cause",
        "impact_assessment",
        "closure_summary",
        "closed_by",
        "closed_at",
        "original_classification",
        "reclassification_reason",
        "reclassified_by",
        "no_capa_justification",
    )

    class Meta:
        ordering = ["-raised_at", "-id"]
        verbose_name = _("deviation")
        verbose_name_plural = _("deviations")
        permissions = [
            ("investigate_deviation", _("Can investigate a deviation")),
            ("close_deviation", _("Can close a deviation")),
            ("approve_major_deviation", _("Can approve closing a major or critical deviation")),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_DEVIATION_STATES

    @property
    def downgraded(self) -> bool:
        return bool(self.original_classification) and CLASS_RANK.get(self.classification, 0) < CLASS_RANK.get(
            self.original_classification, 0
        )

    @property
    def needs_qa(self) -> bool:
        return self.classification in (DeviationClass.MAJOR, DeviationClass.CRITICAL)

    def signature_content(self) -> dict:
        """A signature binds the deviation and what it is linked to."""
        content = super().signature_content()
        content["links"] = sorted(f"{link.object_type}#{link.object_id}" for link in self.links.all())
        return content


class DeviationLink(GMPModel):
    """What a deviation concerns: any record, by type and id (a batch, a step, a lot, equipment).

    Generic on purpose: the quality app must not depend on the models of apps that own those records.
    Indexed on (object_type, object_id) for "open deviations linked to X".
    """

    deviation = models.ForeignKey(Deviation, on_delete=models.PROTECT, related_name="links")
    object_type = models.CharField(_("record type"), max_length=60)
    object_id = models.CharField(_("record id"), max_length=40)
    label = models.CharField(_("record"), max_length=200, blank=True, default="")

    class Meta:
        ordering = ["pk"]
        verbose_name = _("deviation link")
        verbose_name_plural = _("deviation links")
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="quality_devlink_object"),
            # the deviation list's search by batch number or lot code
            models.Index(fields=["label"], name="quality_devlink_label"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["deviation", "object_type", "object_id"], name="devlink_unique"),
        ]

    def __str__(self) -> str:
        return self.label or f"{self.object_type}#{self.object_id}"

    @property
    def type_label(self) -> str:
        """The record type as people call it ("物料批"), found by name in the app registry so this app
        still imports no other app's models; the stored code ("materials.lot") if that model is gone."""
        try:
            model = apps.get_model(self.object_type)
        except (LookupError, ValueError):
            return self.object_type
        return capfirst(model._meta.verbose_name)


DEVIATION_MACHINE = StateMachine(
    field="status",
    transitions=[
        Transition(
            "investigate",
            ("open",),
            "investigating",
            "quality.investigate_deviation",
            _("Start investigation"),
            signature="reviewed",
        ),
        Transition(
            "conclude",
            ("investigating",),
            "capa_pending",
            "quality.investigate_deviation",
            _("Record root cause and impact"),
            signature="authored",
        ),
        Transition(
            "close", ("capa_pending",), "closed", "quality.close_deviation", _("Close deviation"), signature="closed"
        ),
    ],
)


class CAPAKind(models.TextChoices):
    CORRECTIVE = "corrective", _("Corrective action")
    PREVENTIVE = "preventive", _("Preventive action")


class CAPAStatus(models.TextChoices):
    OPEN = "open", _("Open")
    IN_PROGRESS = "in_progress", _("In progress")
    EFFECTIVENESS_CHECK = "effectiveness_check", _("Effectiveness check")
    CLOSED = "closed", _("Closed")


class CAPA(GMPModel):
    """A corrective or preventive action with an owner, a due date and the evidence it was done."""

    STATE_FIELD = "status"

    number = models.CharField(_("CAPA number"), max_length=30, unique=True)
    deviation = models.ForeignKey(
        Deviation, on_delete=models.PROTECT, related_name="capas", null=True, blank=True, verbose_name=_("deviation")
    )
    kind = models.CharField(_("type"), max_length=20, choices=CAPAKind.choices, default=CAPAKind.CORRECTIVE)
    action = models.TextField(_("action"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="capas", verbose_name=_("owner")
    )
    due_date = models.DateField(_("due date"))
    evidence = models.TextField(_("evidence"), blank=True, default="")
    effectiveness = models.TextField(_("effectiveness check result"), blank=True, default="")
    status = models.CharField(
        _("status"), max_length=30, choices=CAPAStatus.choices, default=CAPAStatus.OPEN, db_index=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    # The effectiveness result is written by the closing step (after the owner's signature on the evidence).
    SIGNATURE_EXCLUDE = ("effectiveness", "closed_at")

    class Meta:
        ordering = ["due_date", "pk"]
        indexes = [models.Index(fields=["status", "due_date"], name="quality_capa_board")]
        verbose_name = _("CAPA")
        verbose_name_plural = _("CAPAs")
        permissions = [("verify_capa", _("Can verify the effectiveness of a CAPA"))]

    def __str__(self) -> str:
        return f"{self.number} {self.get_kind_display()}"

    @property
    def is_overdue(self) -> bool:
        return self.status != CAPAStatus.CLOSED and self.due_date < timezone.localdate()


CAPA_MACHINE = StateMachine(
    field="status",
    transitions=[
        Transition("start", ("open",), "in_progress", "quality.change_capa", _("Start work")),
        Transition(
            "submit",
            ("in_progress",),
            "effectiveness_check",
            "quality.change_capa",
            _("Done — submit evidence"),
            signature="performed",
        ),
        Transition(
            "reopen",
            ("effectiveness_check",),
            "in_progress",
            "quality.verify_capa",
            _("Not effective — reopen"),
            reason_required=True,
            style="secondary",
        ),
        Transition(
            "close",
            ("effectiveness_check",),
            "closed",
            "quality.verify_capa",
            _("Effective — close"),
            signature="closed",
        ),
    ],
)
