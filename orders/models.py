"""Master batch records (recipes), production orders and training records.

A recipe is a versioned, signed instruction for making one product; an order is a plan to make a
quantity of that product with the recipe version that was effective when it was created. Every
record here is a GMP record (audited, versioned, never deleted). The state machines that move
recipes and orders are declared next to the models; the services in `orders/services/` are the
only code that takes them.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from audit.canonical import jsonable
from audit.gmp import GMPModel
from mes.units import Unit
from mes.workflow import StateMachine, Transition

# --- Recipes -------------------------------------------------------------------------------------


class RecipeStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    APPROVED = "approved", _("Approved")
    EFFECTIVE = "effective", _("Effective")
    SUPERSEDED = "superseded", _("Superseded")
    RETIRED = "retired", _("Retired")


class RecipePurpose(models.TextChoices):
    STANDARD = "standard", _("Production")
    REWORK = "rework", _("Rework")


class Recipe(GMPModel):
    """One version of a product's master batch record: BOM, ordered steps, yield limits.

    A rework master batch record (purpose "rework") is how a nonconforming lot of the product is
    reworked under an approved rework disposition: its BOM lists the product itself (the lot taken
    back in). It has its own versions, approval and effective version; orders never use it.
    """

    STATE_FIELD = "status"
    # Workflow bookkeeping is not part of what the author and QA sign.
    SIGNATURE_EXCLUDE = ("approved_by", "effective_at", "created_at", "based_on")

    product = models.ForeignKey(
        "materials.Material", on_delete=models.PROTECT, related_name="recipes", verbose_name=_("product")
    )
    version = models.PositiveIntegerField(_("version"))
    title = models.CharField(_("title"), max_length=200)
    batch_size = models.DecimalField(_("standard batch size"), max_digits=14, decimal_places=3)
    unit = models.CharField(_("unit"), max_length=10, choices=Unit.choices)
    expected_yield = models.DecimalField(_("expected yield (%)"), max_digits=5, decimal_places=2, default=98)
    yield_min = models.DecimalField(_("lowest acceptable yield (%)"), max_digits=5, decimal_places=2, default=95)
    yield_max = models.DecimalField(_("highest acceptable yield (%)"), max_digits=5, decimal_places=2, default=100)
    description = models.TextField(_("description"), blank=True, default="")
    purpose = models.CharField(
        _("purpose"), max_length=20, choices=RecipePurpose.choices, default=RecipePurpose.STANDARD
    )
    status = models.CharField(
        _("status"), max_length=20, choices=RecipeStatus.choices, default=RecipeStatus.DRAFT, db_index=True
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("author")
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    effective_at = models.DateTimeField(_("effective since"), null=True, blank=True)
    based_on = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("copied from")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["product__code", "-version"]
        verbose_name = _("master batch record")
        verbose_name_plural = _("master batch records")
        permissions = [
            ("submit_recipe", _("Can submit a master batch record for review")),
            ("approve_recipe", _("Can approve a master batch record (QA)")),
            ("make_effective_recipe", _("Can make a master batch record effective")),
            ("retire_recipe", _("Can retire a master batch record")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["product", "version"], name="recipe_unique_version"),
            # GMP: exactly one effective process definition per product (and one rework process) at any time.
            models.UniqueConstraint(
                fields=["product", "purpose"],
                condition=Q(status="effective"),
                name="recipe_one_effective_per_product",
            ),
            models.CheckConstraint(
                condition=Q(batch_size__gt=0),
                name="recipe_batch_size_positive",
                violation_error_message=_("The standard batch size must be greater than zero."),
            ),
            models.CheckConstraint(
                condition=Q(yield_min__lte=models.F("expected_yield")) & Q(expected_yield__lte=models.F("yield_max")),
                name="recipe_yield_limits_ordered",
            ),
        ]

    def __str__(self) -> str:
        if self.purpose == RecipePurpose.REWORK:
            return f"{self.product.code} v{self.version} ({RecipePurpose.REWORK.label})"
        return f"{self.product.code} v{self.version}"

    @property
    def is_editable(self) -> bool:
        return self.status == RecipeStatus.DRAFT

    def active_bom(self):
        return [b for b in self.bom_lines.all() if not b.removed]

    def active_steps(self):
        return [s for s in self.steps.all() if not s.removed]

    def signature_content(self) -> dict[str, Any]:
        """The header plus BOM, steps, checks and parameters: a signature covers the whole MBR."""
        content = super().signature_content()
        if content.get("purpose") == RecipePurpose.STANDARD:
            # Signatures made before rework records existed stay valid: a production MBR signs as before.
            content.pop("purpose")
        content["bom"] = [b.content() for b in sorted(self.active_bom(), key=lambda b: (b.position, b.pk))]
        content["steps"] = [s.content() for s in sorted(self.active_steps(), key=lambda s: (s.number, s.pk))]
        return content


class _RecipePart(GMPModel):
    """A child row of a recipe. Parts of a draft can be removed: they are flagged, never deleted."""

    SIGNATURE_EXCLUDE = ("removed",)
    removed = models.BooleanField(_("removed"), default=False)

    class Meta:
        abstract = True

    def content(self) -> dict[str, Any]:
        excluded = {"id", "removed", "recipe", "step"}
        return {k: v for k, v in self.audit_values().items() if k not in excluded}


class RecipeMaterial(_RecipePart):
    """A BOM line: how much of a material one standard batch consumes, with its tolerance."""

    recipe = models.ForeignKey(Recipe, on_delete=models.PROTECT, related_name="bom_lines", verbose_name=_("recipe"))
    position = models.PositiveIntegerField(_("position"), default=1)
    material = models.ForeignKey(
        "materials.Material", on_delete=models.PROTECT, related_name="+", verbose_name=_("material")
    )
    quantity = models.DecimalField(_("quantity per standard batch"), max_digits=14, decimal_places=4)
    unit = models.CharField(_("unit"), max_length=10, choices=Unit.choices)
    tolerance_pct = models.DecimalField(_("tolerance (± %)"), max_digits=5, decimal_places=2, default=0)
    weigh_and_verify = models.BooleanField(_("weighed and verified by a second person"), default=True)
    # The step that uses this material: that step cannot be signed as performed until the line is
    # issued to the batch within tolerance (or the operator records an exception with a reason).
    step_number = models.PositiveIntegerField(
        _("used in step"),
        null=True,
        blank=True,
        help_text=_("The step that cannot be signed until this material is issued to the batch."),
    )

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("bill of materials line")
        verbose_name_plural = _("bill of materials")
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0),
                name="recipe_material_quantity_positive",
                violation_error_message=_("The quantity must be greater than zero."),
            ),
            models.CheckConstraint(
                condition=Q(tolerance_pct__gte=0) & Q(tolerance_pct__lte=100),
                name="recipe_material_tolerance_range",
                violation_error_message=_("The tolerance must be between 0 and 100 %."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.recipe} · {self.material.code}"

    def content(self) -> dict[str, Any]:
        data = super().content()
        data["material"] = self.material.code
        if data.get("step_number") is None:
            # Lines not tied to a step hash as before the field existed (signatures stay valid).
            data.pop("step_number", None)
        return data


class RecipeStep(_RecipePart):
    """An operation of the recipe, in order: instructions, equipment, duration, signatures."""

    recipe = models.ForeignKey(Recipe, on_delete=models.PROTECT, related_name="steps", verbose_name=_("recipe"))
    number = models.PositiveIntegerField(_("step number"))
    title = models.CharField(_("title (English)"), max_length=200)
    title_zh = models.CharField(_("title (Chinese)"), max_length=200, blank=True, default="")
    instruction = models.TextField(_("instruction (English)"))
    instruction_zh = models.TextField(_("instruction (Chinese)"), blank=True, default="")
    equipment_class = models.ForeignKey(
        "equipment.EquipmentClass",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("required equipment class"),
    )
    duration_minutes = models.PositiveIntegerField(_("expected duration (minutes)"), default=30)
    performer_signature = models.BooleanField(_("performer signs"), default=True)
    verifier_signature = models.BooleanField(_("second-person verification (critical step)"), default=False)
    allow_parallel = models.BooleanField(_("may run in parallel with the previous step"), default=False)

    class Meta:
        ordering = ["number", "id"]
        verbose_name = _("recipe step")
        verbose_name_plural = _("recipe steps")

    def __str__(self) -> str:
        return f"{self.number}. {self.display_title}"

    @property
    def display_title(self) -> str:
        return self.title_zh if _zh() and self.title_zh else self.title

    @property
    def display_instruction(self) -> str:
        return self.instruction_zh if _zh() and self.instruction_zh else self.instruction

    def active_checks(self):
        return [c for c in self.checks.all() if not c.removed]

    def active_parameters(self):
        return [p for p in self.parameters.all() if not p.removed]

    def content(self) -> dict[str, Any]:
        data = super().content()
        data["equipment_class"] = self.equipment_class.code if self.equipment_class_id else None
        data["checks"] = [c.content() for c in sorted(self.active_checks(), key=lambda c: (c.number, c.pk))]
        data["parameters"] = [p.content() for p in sorted(self.active_parameters(), key=lambda p: (p.name, p.pk))]
        return data


class CheckKind(models.TextChoices):
    QUESTION = "question", _("Question with expected answer")
    MEASURED = "measured", _("Measured value with limits")


class StepCheck(_RecipePart):
    """An in-process check recorded within a step: a question, or a measured value with limits."""

    step = models.ForeignKey(RecipeStep, on_delete=models.PROTECT, related_name="checks", verbose_name=_("step"))
    number = models.PositiveIntegerField(_("number"), default=1)
    kind = models.CharField(_("kind"), max_length=20, choices=CheckKind.choices, default=CheckKind.QUESTION)
    question = models.CharField(_("check (English)"), max_length=300)
    question_zh = models.CharField(_("check (Chinese)"), max_length=300, blank=True, default="")
    expected_answer = models.CharField(_("expected answer"), max_length=100, blank=True, default="")
    unit = models.CharField(_("unit"), max_length=20, blank=True, default="")
    lower_limit = models.DecimalField(_("lower limit"), max_digits=14, decimal_places=4, null=True, blank=True)
    upper_limit = models.DecimalField(_("upper limit"), max_digits=14, decimal_places=4, null=True, blank=True)

    class Meta:
        ordering = ["number", "id"]
        verbose_name = _("in-process check")
        verbose_name_plural = _("in-process checks")

    def __str__(self) -> str:
        return self.display_question

    @property
    def display_question(self) -> str:
        return self.question_zh if _zh() and self.question_zh else self.question


class ProcessParameter(_RecipePart):
    """A process parameter of a step: target, limits, critical flag, optional equipment tag."""

    step = models.ForeignKey(RecipeStep, on_delete=models.PROTECT, related_name="parameters", verbose_name=_("step"))
    name = models.CharField(_("name (English)"), max_length=120)
    name_zh = models.CharField(_("name (Chinese)"), max_length=120, blank=True, default="")
    # Free text: process units (°C, rpm, kN, min, %) are not material units.
    unit = models.CharField(_("unit"), max_length=20)
    target = models.DecimalField(_("target"), max_digits=14, decimal_places=4, null=True, blank=True)
    minimum = models.DecimalField(_("minimum"), max_digits=14, decimal_places=4, null=True, blank=True)
    maximum = models.DecimalField(_("maximum"), max_digits=14, decimal_places=4, null=True, blank=True)
    critical = models.BooleanField(_("critical process parameter"), default=False)
    equipment_tag = models.CharField(_("equipment tag (read automatically)"), max_length=200, blank=True, default="")

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("process parameter")
        verbose_name_plural = _("process parameters")

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.name_zh if _zh() and self.name_zh else self.name


def _zh() -> bool:
    return (get_language() or "").startswith("zh")


RECIPE_MACHINE = StateMachine(
    field="status",
    transitions=[
        Transition(
            "submit", ("draft",), "in_review", "orders.submit_recipe", _("Submit for review"), signature="authored"
        ),
        Transition(
            "return",
            ("in_review",),
            "draft",
            "orders.approve_recipe",
            _("Return to author"),
            reason_required=True,
            style="secondary",
        ),
        Transition("approve", ("in_review",), "approved", "orders.approve_recipe", _("Approve"), signature="approved"),
        Transition(
            "make_effective",
            ("approved",),
            "effective",
            "orders.make_effective_recipe",
            _("Make effective"),
            signature="released",
        ),
        Transition(
            "supersede", ("effective",), "superseded", "orders.make_effective_recipe", _("Supersede"), style="secondary"
        ),
        Transition(
            "retire",
            ("draft", "approved", "effective"),
            "retired",
            "orders.retire_recipe",
            _("Retire"),
            signature="cancelled",
            reason_required=True,
            style="danger",
        ),
    ],
)
# Transitions only a service takes as a consequence of another action (never offered as a button).
RECIPE_INTERNAL = {"supersede"}


# --- Production orders ---------------------------------------------------------------------------


class OrderStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    RETURNED = "returned", _("Returned")
    APPROVED = "approved", _("Approved")
    RELEASED = "released", pgettext_lazy("order status", "Released")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


class Priority(models.IntegerChoices):
    URGENT = 1, _("Urgent")
    HIGH = 2, _("High")
    NORMAL = 3, _("Normal")
    LOW = 4, _("Low")


class ProductionOrder(GMPModel):
    """A plan to make a quantity of a product on a line, with the recipe version frozen at creation."""

    STATE_FIELD = "status"
    SIGNATURE_EXCLUDE = ("created_at", "submitted_by", "revision")

    number = models.CharField(_("order number"), max_length=30, unique=True)
    product = models.ForeignKey(
        "materials.Material", on_delete=models.PROTECT, related_name="production_orders", verbose_name=_("product")
    )
    recipe = models.ForeignKey(
        Recipe, on_delete=models.PROTECT, related_name="orders", verbose_name=_("master batch record")
    )
    planned_quantity = models.DecimalField(_("planned quantity"), max_digits=14, decimal_places=3)
    unit = models.CharField(_("unit"), max_length=10, choices=Unit.choices)
    planned_start = models.DateTimeField(_("planned start"))
    planned_end = models.DateTimeField(_("planned end"))
    line = models.ForeignKey(
        "mes.Line", on_delete=models.PROTECT, related_name="production_orders", verbose_name=_("production line")
    )
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices, default=Priority.NORMAL)
    erp_reference = models.CharField(_("ERP reference"), max_length=60, blank=True, default="")
    operators_required = models.PositiveSmallIntegerField(_("operators needed"), default=2)
    resource_notes = models.TextField(_("other resources needed"), blank=True, default="")
    status = models.CharField(_("status"), max_length=20, choices=OrderStatus.choices, default=OrderStatus.DRAFT)
    revision = models.PositiveIntegerField(_("revision"), default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("submitted by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-planned_start", "-id"]
        verbose_name = _("production order")
        verbose_name_plural = _("production orders")
        permissions = [
            ("submit_productionorder", _("Can submit a production order for approval")),
            ("approve_productionorder", _("Can approve or return a production order")),
            ("release_productionorder", _("Can release a production order and run it")),
            ("cancel_productionorder", _("Can cancel a production order")),
            ("create_batches_productionorder", _("Can create batches from a released order")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["erp_reference"], condition=~Q(erp_reference=""), name="order_unique_erp_reference"
            ),
            models.CheckConstraint(condition=Q(planned_quantity__gt=0), name="order_quantity_positive"),
            models.CheckConstraint(
                condition=Q(planned_end__gt=models.F("planned_start")), name="order_end_after_start"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-planned_start"], name="order_status_start"),
            models.Index(fields=["line", "-planned_start"], name="order_line_start"),
            models.Index(fields=["product", "-planned_start"], name="order_product_start"),
            models.Index(fields=["-planned_start", "-id"], name="order_start"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status not in (OrderStatus.CLOSED, OrderStatus.CANCELLED)


ORDER_MACHINE = StateMachine(
    field="status",
    transitions=[
        Transition(
            "submit",
            ("draft",),
            "submitted",
            "orders.submit_productionorder",
            _("Submit for approval"),
            signature="authored",
        ),
        Transition(
            "return",
            ("submitted",),
            "returned",
            "orders.approve_productionorder",
            _("Return for change"),
            reason_required=True,
            signature="rejected",
            style="secondary",
        ),
        # A returned order goes back to draft to be edited again (重新编辑), not material rework (返工).
        Transition(
            "rework",
            ("returned",),
            "draft",
            "orders.change_productionorder",
            pgettext_lazy("order returned to draft", "Rework"),
            style="secondary",
        ),
        Transition(
            "approve", ("submitted",), "approved", "orders.approve_productionorder", _("Approve"), signature="approved"
        ),
        # Taken by order_update when an approved order is changed: it needs approval again.
        Transition(
            "amend", ("approved",), "submitted", "orders.change_productionorder", _("Change"), reason_required=True
        ),
        Transition(
            "release",
            ("approved",),
            "released",
            "orders.release_productionorder",
            _("Release to the shop floor"),
            signature="released",
        ),
        Transition("start", ("released",), "in_progress", "orders.release_productionorder", _("Start production")),
        Transition(
            "complete",
            ("in_progress",),
            "completed",
            "orders.release_productionorder",
            _("Complete"),
            signature="performed",
        ),
        Transition("close", ("completed",), "closed", "orders.release_productionorder", _("Close"), signature="closed"),
        Transition(
            "cancel",
            ("draft", "approved"),
            "cancelled",
            "orders.cancel_productionorder",
            _("Cancel order"),
            signature="cancelled",
            reason_required=True,
            style="danger",
        ),
    ],
)
# Transitions offered on their own pages (approval page, edit form), not as plain buttons.
ORDER_INTERNAL = {"amend", "approve", "return"}


class OrderAmendment(GMPModel):
    """A change to an order after it was first submitted: what changed, who, why (ORD-3)."""

    order = models.ForeignKey(ProductionOrder, on_delete=models.PROTECT, related_name="amendments")
    revision = models.PositiveIntegerField(_("revision"))
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(_("changed at"), auto_now_add=True)
    reason = models.TextField(_("reason"))
    changes = models.JSONField(_("changes"), default=dict)

    class Meta:
        ordering = ["order", "revision"]
        verbose_name = _("order change")
        verbose_name_plural = _("order changes")

    def __str__(self) -> str:
        return f"{self.order} rev {self.revision}"


class ApprovalDecision(models.TextChoices):
    APPROVED = "approved", _("Approved")
    RETURNED = "returned", _("Returned for change")


class OrderApproval(GMPModel):
    """The reviewer's decision on one revision of an order, bound to its signature (ORD-2, ORD-3)."""

    order = models.ForeignKey(ProductionOrder, on_delete=models.PROTECT, related_name="approvals")
    revision = models.PositiveIntegerField(_("revision"))
    decision = models.CharField(_("decision"), max_length=20, choices=ApprovalDecision.choices)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(_("decided at"), auto_now_add=True)
    reason = models.TextField(_("reason"), blank=True, default="")
    signature = models.ForeignKey("audit.Signature", on_delete=models.PROTECT, null=True, related_name="+")

    class Meta:
        ordering = ["order", "decided_at", "id"]
        verbose_name = _("order approval")
        verbose_name_plural = _("order approvals")

    def __str__(self) -> str:
        return f"{self.order} rev {self.revision}: {self.decision}"


class OrderNumberSequence(models.Model):
    """The last order number used per year (a counter, locked while a number is taken)."""

    year = models.PositiveIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


# --- Training ------------------------------------------------------------------------------------


class TrainingRecord(GMPModel):
    """A user is trained on a recipe version (or an SOP) until a date (21 CFR 11.10(i))."""

    trainee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="training_records", verbose_name=_("trainee")
    )
    recipe = models.ForeignKey(
        Recipe,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="training_records",
        verbose_name=_("master batch record"),
    )
    sop_code = models.CharField(_("SOP code"), max_length=60, blank=True, default="")
    trained_on = models.DateField(_("trained on"))
    valid_until = models.DateField(_("valid until"))
    trainer = models.CharField(_("trainer"), max_length=150, blank=True, default="")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        ordering = ["-trained_on", "-id"]
        verbose_name = _("training record")
        verbose_name_plural = _("training records")
        constraints = [
            models.CheckConstraint(
                condition=(Q(recipe__isnull=False) & Q(sop_code="")) | (Q(recipe__isnull=True) & ~Q(sop_code="")),
                name="training_recipe_or_sop",
            ),
            models.CheckConstraint(condition=Q(valid_until__gte=models.F("trained_on")), name="training_dates_ordered"),
        ]
        indexes = [models.Index(fields=["trainee", "recipe", "valid_until"], name="training_lookup")]

    def __str__(self) -> str:
        subject = str(self.recipe) if self.recipe_id else self.sop_code
        return f"{self.trainee} · {subject}"


def jsonable_changes(old: dict, new: dict) -> dict[str, list]:
    """{field: [old, new]} for the fields whose values differ, in canonical JSON form."""
    return {k: [jsonable(old.get(k)), jsonable(new[k])] for k in new if jsonable(old.get(k)) != jsonable(new[k])}
