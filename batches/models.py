"""Batches (the orders issue creates them from released orders; batch execution adds the eBR)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from audit.canonical import canonical_json, sha256_hex
from audit.gmp import GMPModel
from audit.prepared import prepared_cursor
from batches.answers import answer_choices, answer_label
from mes.units import Unit


class BatchStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    READY = "ready", _("Ready")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")
    UNDER_REVIEW = "under_review", _("Under review")
    CORRECTION_REQUESTED = "correction_requested", _("Correction requested")
    REVIEWED = "reviewed", _("Reviewed")
    QC_RELEASED = "qc_released", _("QC released")
    RELEASED = "released", _("Released")
    REJECTED = "rejected", _("Rejected")
    CLOSED = "closed", _("Closed")
    ARCHIVED = "archived", _("Archived")


class Batch(GMPModel):
    """A batch of a product: unique number, planned size, status, assigned operators."""

    STATE_FIELD = "status"
    # Review bookkeeping, not batch content: a signature on the batch stays valid across review rounds.
    SIGNATURE_EXCLUDE = ("review_round",)

    number = models.CharField(_("batch number"), max_length=40, unique=True)
    product = models.ForeignKey(
        "materials.Material", on_delete=models.PROTECT, related_name="batches", verbose_name=_("product")
    )
    line = models.ForeignKey(
        "mes.Line", on_delete=models.PROTECT, null=True, blank=True, related_name="batches", verbose_name=_("line")
    )
    planned_quantity = models.DecimalField(_("planned quantity"), max_digits=14, decimal_places=3)
    unit = models.CharField(_("unit"), max_length=10, choices=Unit.choices)
    status = models.CharField(
        _("status"), max_length=30, choices=BatchStatus.choices, default=BatchStatus.PLANNED, db_index=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # Set when the batch is created from a released production order (ORD-6); the recipe is the
    # order's frozen master batch record version, copied here so the eBR never has to guess.
    order = models.ForeignKey(
        "orders.ProductionOrder",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="batches",
        verbose_name=_("production order"),
    )
    recipe = models.ForeignKey(
        "orders.Recipe",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="batches",
        verbose_name=_("master batch record"),
    )
    sequence = models.PositiveIntegerField(_("batch of the order"), null=True, blank=True)
    review_round = models.PositiveIntegerField(_("review round"), default=0)
    # A rework batch (issue 16): made under an approved rework disposition from the product's rework
    # master batch record; it takes back in the nonconforming lot — the only batch that may.
    rework_lot = models.ForeignKey(
        "materials.Lot",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="rework_batches",
        verbose_name=_("reworks lot"),
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("batch")
        verbose_name_plural = _("batches")
        permissions = [
            ("execute_batch", _("Can execute steps of a batch")),
            ("prepare_batch", _("Can prepare and start batches")),
            ("review_batch", _("Can review batch records")),
            ("qc_release_batch", _("Can QC-release batches")),
            ("release_batch", _("Can release batches")),
            ("archive_batch", _("Can archive batch records")),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(planned_quantity__gt=0), name="batch_quantity_positive"),
            models.UniqueConstraint(fields=["order", "sequence"], name="batch_unique_sequence_in_order"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_rework(self) -> bool:
        return self.rework_lot_id is not None

    def signature_content(self) -> dict:
        content = super().signature_content()
        if content.get("rework_lot") is None:
            content.pop("rework_lot", None)  # signatures made before rework batches existed stay valid
        return content

    def save(self, *args, **kwargs):
        refuse_if_archived(self.pk, own=self)
        super().save(*args, **kwargs)


# --- Workflow ---------------------------------------------------------------------------------
from mes.workflow import StateMachine, Transition  # noqa: E402

PREPARE = "batches.prepare_batch"
EXECUTE = "batches.execute_batch"
REVIEW = "batches.review_batch"
# The two-step release is the quality app's (quality.services.release); it moves the batch through
# these transitions via the hooks in batches.services.release, inside its own signed transaction.
# (granted to the same roles as quality's qc_release_batch / production_release_batch)
QC_RELEASE = "batches.qc_release_batch"
RELEASE = "batches.release_batch"
ARCHIVE = "batches.archive_batch"

BATCH_MACHINE = StateMachine(
    field="status",
    transitions=[
        Transition("mark_ready", ("planned",), "ready", PREPARE, _("Mark ready"), signature="approved"),
        Transition("start", ("ready",), "in_progress", PREPARE, _("Start the batch")),
        Transition("complete", ("in_progress",), "completed", EXECUTE, _("Complete the batch"), signature="performed"),
        Transition("review_start", ("completed",), "under_review", REVIEW, _("Start review")),
        Transition(
            "request_correction",
            ("under_review",),
            "correction_requested",
            REVIEW,
            _("Request correction"),
            reason_required=True,
            style="secondary",
        ),
        Transition("resubmit", ("correction_requested",), "completed", EXECUTE, _("Corrections done")),
        Transition(
            "approve_review", ("under_review",), "reviewed", REVIEW, _("Approve the record"), signature="reviewed"
        ),
        Transition("qc_release", ("reviewed",), "qc_released", QC_RELEASE, _("QC release")),
        Transition("release", ("qc_released",), "released", RELEASE, _("Release")),
        Transition(
            "reject",
            ("reviewed", "qc_released"),
            "rejected",
            QC_RELEASE,
            _("Reject"),
            signature="rejected",
            reason_required=True,
            style="danger",
        ),
        Transition("archive", ("released", "rejected", "closed"), "archived", ARCHIVE, _("Archive"), style="secondary"),
    ],
)


def refuse_if_archived(batch_id, *, own=None) -> None:
    """An archived batch record is read-only forever: every save of it or its rows is refused."""
    if not batch_id:
        return
    # Plain SQL on the primary: every save of an executed record's row asks it, and the ORM's query cost
    # more CPU to build than to run.
    with prepared_cursor() as cursor:
        cursor.execute(f"SELECT status FROM {Batch._meta.db_table} WHERE id = %s", [batch_id])
        row = cursor.fetchone()
    if row is not None and row[0] == BatchStatus.ARCHIVED:
        raise ValidationError(gettext("Batch record is archived and can no longer be changed."))


class _BatchChild(GMPModel):
    """A row of the electronic batch record; refuses any change once the batch is archived."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        refuse_if_archived(self.batch_id)
        super().save(*args, **kwargs)


class LineClearance(_BatchChild):
    """The signed line clearance before a batch: previous product, documents and labels removed."""

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="clearances", verbose_name=_("batch"))
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("checked by")
    )
    checked_at = models.DateTimeField(_("checked at"))
    notes = models.TextField(_("notes"), blank=True, default="")

    class Meta:
        ordering = ["-checked_at"]
        verbose_name = _("line clearance")
        verbose_name_plural = _("line clearances")

    def __str__(self) -> str:
        return f"{self.batch} · {self.checked_at:%Y-%m-%d %H:%M}"


class BatchRecord(_BatchChild):
    """The electronic batch record header: the frozen recipe snapshot taken when the batch started."""

    batch = models.OneToOneField(Batch, on_delete=models.PROTECT, related_name="record", verbose_name=_("batch"))
    snapshot = models.JSONField(_("recipe snapshot"))
    snapshot_hash = models.CharField(_("snapshot SHA-256"), max_length=64)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("started by")
    )
    started_at = models.DateTimeField(_("started at"))
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    output_quantity = models.DecimalField(_("output quantity"), max_digits=14, decimal_places=3, null=True, blank=True)
    yield_pct = models.DecimalField(_("yield (%)"), max_digits=7, decimal_places=2, null=True, blank=True)
    balance_summary = models.JSONField(_("material balance"), default=dict, blank=True)
    pdf = models.BinaryField(_("batch record PDF"), null=True, blank=True, editable=False)
    pdf_sha256 = models.CharField(_("PDF SHA-256"), max_length=64, blank=True, default="")
    pdf_pages = models.PositiveIntegerField(_("PDF pages"), null=True, blank=True)
    pdf_generated_at = models.DateTimeField(_("PDF generated at"), null=True, blank=True)

    AUDIT_EXCLUDE = ("pdf",)
    SIGNATURE_EXCLUDE = ("pdf", "pdf_sha256", "pdf_pages", "pdf_generated_at")

    class Meta:
        verbose_name = _("batch record")
        verbose_name_plural = _("batch records")

    def __str__(self) -> str:
        return str(self.batch)


class StepStatus(models.TextChoices):
    PENDING = "pending", _("Not started")
    ACTIVE = "active", _("In progress")
    DONE = "done", _("Done")
    VERIFIED = "verified", _("Verified")


class How(models.TextChoices):
    MANUAL = "manual", _("typed")
    SCANNED = "scanned", _("scanned")
    MACHINE = "machine", _("machine")


# What a second person's verification writes on the step: its status (done -> verified), who and when,
# and the refused attempts of the performer to verify their own step (which come after the sign-off). None
# of it is what the performer signed: the performer's signature binds the step without them, so a
# verification does not make it "no longer valid". The verifier's signature binds the whole step.
VERIFICATION_FIELDS = ("status", "verified_by", "verified_at", "same_person_refusals")


class StepExecution(_BatchChild):
    """One step of the batch record, copied from the snapshot, with who performed and verified it."""

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="steps", verbose_name=_("batch"))
    number = models.PositiveIntegerField(_("step number"))
    title = models.CharField(_("title"), max_length=200)
    title_zh = models.CharField(_("title (Chinese)"), max_length=200, blank=True, default="")
    instruction = models.TextField(_("instruction"))
    instruction_zh = models.TextField(_("instruction (Chinese)"), blank=True, default="")
    equipment_class = models.CharField(_("equipment class"), max_length=30, blank=True, default="")
    duration_minutes = models.PositiveIntegerField(_("expected duration (minutes)"), default=30)
    verifier_required = models.BooleanField(_("second-person verification"), default=False)
    allow_parallel = models.BooleanField(_("may run in parallel"), default=False)
    status = models.CharField(_("status"), max_length=20, choices=StepStatus.choices, default=StepStatus.PENDING)
    equipment = models.ForeignKey(
        "equipment.Equipment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("equipment"),
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("started by"),
    )
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    start_how = models.CharField(_("confirmed by"), max_length=10, choices=How.choices, blank=True, default="")
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("performed by"),
    )
    performed_at = models.DateTimeField(_("performed at"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("verified by"),
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    same_person_refusals = models.PositiveIntegerField(_("verification by the performer refused"), default=0)
    # What the materials of this step stood at when it was signed (the recipe's BOM lines of the step:
    # required range and net issued), and the operator's reason when they were not within tolerance.
    material_check = models.JSONField(_("materials at sign-off"), default=list, blank=True)
    material_exception = models.TextField(_("reason for signing without the materials issued"), blank=True, default="")
    # Re-executed on the reviewer's request: which execution this is, and why it was re-opened.
    attempt = models.PositiveIntegerField(_("execution"), default=1)
    reopen_reason = models.TextField(_("reason for executing the step again"), blank=True, default="")

    class Meta:
        ordering = ["batch", "number"]
        verbose_name = _("executed step")
        verbose_name_plural = _("executed steps")
        constraints = [models.UniqueConstraint(fields=["batch", "number"], name="batch_step_unique_number")]

    def __str__(self) -> str:
        return f"{self.batch} · {self.number}. {self.display_title}"

    @property
    def display_title(self) -> str:
        return self.title_zh if _zh() and self.title_zh else self.title

    @property
    def display_instruction(self) -> str:
        return self.instruction_zh if _zh() and self.instruction_zh else self.instruction

    @property
    def finished(self) -> bool:
        return self.status in (StepStatus.DONE, StepStatus.VERIFIED)

    def signature_content(self) -> dict:
        """Fields added by issue 16 are left out while empty, so signatures made before them stay valid."""
        content = super().signature_content()
        for key in ("material_check", "material_exception", "reopen_reason"):
            if not content.get(key):
                content.pop(key, None)
        if content.get("attempt") == 1:
            content.pop("attempt", None)
        return content

    def content_hash_for(self, meaning: str) -> str:
        """The performer's signature binds the step without its verification; any other, the whole step."""
        if meaning != "performed":
            return self.content_hash()
        content = self.signature_content()
        return sha256_hex(canonical_json({k: v for k, v in content.items() if k not in VERIFICATION_FIELDS}))

    def signed_content_hashes(self, meaning: str = "") -> set[str]:
        """A performer's signature made while it bound the whole step is valid as at sign-off: done, nobody
        verifying. (Refused self-verifications after it are not undone here: such a signature shows invalid.)"""
        hashes = super().signed_content_hashes(meaning)
        if meaning == "performed":
            at_sign_off = {**self.signature_content(), "status": StepStatus.DONE.value}
            hashes.add(sha256_hex(canonical_json({**at_sign_off, "verified_by": None, "verified_at": None})))
        return hashes

    @property
    def materials_short(self) -> list[dict]:
        """The step's material lines that were not issued within tolerance when it was signed."""
        return [m for m in self.material_check or [] if not m.get("ok")]


class StepAttempt(_BatchChild):
    """An earlier execution of a step that the reviewer asked to execute again: kept whole (who, when,
    every value) so the record and its PDF show it struck through beside the new execution."""

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="step_attempts", verbose_name=_("batch"))
    step = models.ForeignKey(StepExecution, on_delete=models.PROTECT, related_name="attempts", verbose_name=_("step"))
    attempt = models.PositiveIntegerField(_("execution"))
    record = models.JSONField(_("the execution as it was"))
    reason = models.TextField(_("reason for executing the step again"))
    reopened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("re-opened by")
    )
    reopened_at = models.DateTimeField(_("re-opened at"))

    class Meta:
        ordering = ["step", "attempt"]
        verbose_name = _("earlier step execution")
        verbose_name_plural = _("earlier step executions")
        constraints = [models.UniqueConstraint(fields=["step", "attempt"], name="step_attempt_unique")]

    def __str__(self) -> str:
        return f"{self.step} · #{self.attempt}"


class EntryKind(models.TextChoices):
    PARAMETER = "parameter", _("Process parameter")
    CHECK = "check", _("In-process check")


class Entry(_BatchChild):
    """One value to record in a step (a process parameter or an in-process check) with its limits.

    `version` is the optimistic lock: a write names the version it saw, so two people entering
    the same value at once cannot silently overwrite each other.
    """

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="entries", verbose_name=_("batch"))
    step = models.ForeignKey(StepExecution, on_delete=models.PROTECT, related_name="entries", verbose_name=_("step"))
    kind = models.CharField(_("kind"), max_length=20, choices=EntryKind.choices)
    position = models.PositiveIntegerField(_("position"), default=1)
    name = models.CharField(_("name"), max_length=300)
    name_zh = models.CharField(_("name (Chinese)"), max_length=300, blank=True, default="")
    unit = models.CharField(_("unit"), max_length=20, blank=True, default="")
    target = models.DecimalField(_("target"), max_digits=14, decimal_places=4, null=True, blank=True)
    minimum = models.DecimalField(_("minimum"), max_digits=14, decimal_places=4, null=True, blank=True)
    maximum = models.DecimalField(_("maximum"), max_digits=14, decimal_places=4, null=True, blank=True)
    expected_answer = models.CharField(_("expected answer"), max_length=100, blank=True, default="")
    critical = models.BooleanField(_("critical"), default=False)
    equipment_tag = models.CharField(_("equipment tag"), max_length=200, blank=True, default="")
    value = models.CharField(_("value"), max_length=200, blank=True, default="")
    numeric_value = models.DecimalField(_("numeric value"), max_digits=14, decimal_places=4, null=True, blank=True)
    in_range = models.BooleanField(_("within limits"), null=True)
    comment = models.TextField(_("comment"), blank=True, default="")
    how = models.CharField(_("how"), max_length=10, choices=How.choices, blank=True, default="")
    machine_value = models.CharField(_("machine value"), max_length=200, blank=True, default="")
    override_reason = models.TextField(_("reason for overriding the machine value"), blank=True, default="")
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("entered by"),
    )
    entered_at = models.DateTimeField(_("entered at"), null=True, blank=True)
    deviation_ref = models.CharField(_("deviation"), max_length=60, blank=True, default="")
    version = models.PositiveIntegerField(_("version"), default=0)

    class Meta:
        ordering = ["step__number", "kind", "position", "id"]
        verbose_name = _("batch record entry")
        verbose_name_plural = _("batch record entries")

    def __str__(self) -> str:
        return f"{self.step} · {self.display_name}"

    @property
    def display_name(self) -> str:
        return self.name_zh if _zh() and self.name_zh else self.name

    @property
    def recorded(self) -> bool:
        return bool(self.entered_at)

    @property
    def answer_choices(self) -> list[tuple[str, str]]:
        """The buttons of a yes/no or pass/fail check ([] for a value that is typed)."""
        return answer_choices(self.expected_answer) if self.kind == EntryKind.CHECK else []

    @property
    def display_value(self) -> str:
        """The recorded value for the reader: a yes/no or pass/fail code in the reader's language."""
        return answer_label(self.value) if self.kind == EntryKind.CHECK and self.expected_answer else self.value

    @property
    def limits_text(self) -> str:
        if self.kind == EntryKind.CHECK and self.expected_answer:
            return answer_label(self.expected_answer)
        lo = "" if self.minimum is None else f"{self.minimum.normalize():f}"
        hi = "" if self.maximum is None else f"{self.maximum.normalize():f}"
        return f"{lo} – {hi}".strip(" –") if (lo or hi) else ""


class EntryCorrection(_BatchChild):
    """A correction of an entry: the old value stays visible (struck through) with who, when and why."""

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="corrections", verbose_name=_("batch"))
    entry = models.ForeignKey(Entry, on_delete=models.PROTECT, related_name="corrections", verbose_name=_("entry"))
    old_value = models.CharField(_("old value"), max_length=200)
    new_value = models.CharField(_("new value"), max_length=200)
    reason = models.TextField(_("reason"))
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("corrected by")
    )
    corrected_at = models.DateTimeField(_("corrected at"))

    class Meta:
        ordering = ["corrected_at", "id"]
        verbose_name = _("correction")
        verbose_name_plural = _("corrections")

    def __str__(self) -> str:
        return f"{self.entry}: {self.old_value} → {self.new_value}"


class ExceptionDisposition(_BatchChild):
    """The reviewer's disposition of one exception of the record (review by exception)."""

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="dispositions", verbose_name=_("batch"))
    key = models.CharField(_("exception"), max_length=80)
    note = models.TextField(_("disposition"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("decided by")
    )
    decided_at = models.DateTimeField(_("decided at"))
    review_round = models.PositiveIntegerField(_("review round"), default=1)

    class Meta:
        ordering = ["decided_at", "id"]
        verbose_name = _("exception disposition")
        verbose_name_plural = _("exception dispositions")

    def __str__(self) -> str:
        return f"{self.batch} · {self.key}"


class ProcessExcursion(_BatchChild):
    """A critical process parameter outside its limits, read from the machine while the batch used it.

    One row per excursion (debounced: at most one open per tag, a database constraint), opened with
    the first out-of-limit value and its source/server timestamps and the deviation raised on the
    batch; closed by the first value back within limits. The worst value seen is kept.
    """

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="excursions", verbose_name=_("batch"))
    equipment = models.ForeignKey(
        "equipment.Equipment", on_delete=models.PROTECT, related_name="+", verbose_name=_("equipment")
    )
    tag = models.ForeignKey("equipment.EquipmentTag", on_delete=models.PROTECT, related_name="+", verbose_name=_("tag"))
    limits = models.CharField(_("limits"), max_length=80)
    first_value = models.FloatField(_("first value outside limits"))
    first_source_ts = models.DateTimeField(_("source time of the first value"))
    first_server_ts = models.DateTimeField(_("server time of the first value"), null=True, blank=True)
    worst_value = models.FloatField(_("worst value"))
    end_value = models.FloatField(_("value back within limits"), null=True, blank=True)
    ended_source_ts = models.DateTimeField(_("back within limits at (source time)"), null=True, blank=True)
    deviation_ref = models.CharField(_("deviation"), max_length=40)

    class Meta:
        ordering = ["first_source_ts", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tag"], condition=models.Q(ended_source_ts__isnull=True), name="one_open_excursion_per_tag"
            )
        ]
        verbose_name = _("process parameter excursion")
        verbose_name_plural = _("process parameter excursions")

    def __str__(self) -> str:
        return f"{self.batch} · {self.tag_id} {self.first_value}"


def _zh() -> bool:
    return (get_language() or "").startswith("zh")
