"""Equipment: master data, status (a hard interlock), logbook, checks, cleaning, calibration,
maintenance (fault -> work order -> requalification) and OPC UA plant data.

State fields change only through the state machines below, applied by equipment.services.
Machine data (live link state, tag readings) are plain append-only rows: they come from the
plant at thousands of values a second and carry their own source/server timestamps and quality.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from audit.gmp import AuditBypassError, GMPModel
from equipment.opcua.nodeids import validate_node_id
from mes.models import LocalizedNameMixin
from mes.workflow import StateMachine, Transition


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


# --- Equipment and its status --------------------------------------------------------------
class EquipmentStatus(models.TextChoices):
    AVAILABLE = "available", _("Available")
    IN_USE = "in_use", _("In use")
    DIRTY = "dirty", _("Dirty")
    CLEANING = "cleaning", _("Cleaning")
    MAINTENANCE = "maintenance", _("Maintenance")
    AWAITING_REQUALIFICATION = "awaiting_requalification", _("Awaiting requalification")
    OUT_OF_SERVICE = "out_of_service", _("Out of service")


class QualificationStatus(models.TextChoices):
    QUALIFIED = "qualified", _("Qualified")
    NOT_QUALIFIED = "not_qualified", _("Not qualified")


S = EquipmentStatus
USE, CLEAN, MAINTAIN = "equipment.use_equipment", "equipment.clean_equipment", "equipment.maintain_equipment"
REQUALIFY, MANAGE = "equipment.requalify_equipment", "equipment.manage_equipment_status"

EQUIPMENT_MACHINE = StateMachine(
    field="status",
    transitions=[
        Transition("start_use", (S.AVAILABLE,), S.IN_USE, USE, _("Start use")),
        Transition("end_use", (S.IN_USE,), S.DIRTY, USE, _("Shut down / end use")),
        Transition("start_cleaning", (S.DIRTY, S.AVAILABLE), S.CLEANING, CLEAN, _("Start cleaning")),
        Transition("finish_cleaning", (S.CLEANING,), S.AVAILABLE, CLEAN, _("Sign off cleaning")),
        Transition(
            "start_maintenance",
            (S.AVAILABLE, S.DIRTY, S.CLEANING, S.AWAITING_REQUALIFICATION, S.OUT_OF_SERVICE),
            S.MAINTENANCE,
            MAINTAIN,
            _("Start maintenance"),
        ),
        Transition(
            "finish_maintenance", (S.MAINTENANCE,), S.AWAITING_REQUALIFICATION, MAINTAIN, _("Finish maintenance")
        ),
        Transition("requalify", (S.AWAITING_REQUALIFICATION,), S.AVAILABLE, REQUALIFY, _("Requalify")),
        # Equipment that was dirty before the repair goes back to dirty: it still needs cleaning.
        Transition("requalify_to_dirty", (S.AWAITING_REQUALIFICATION,), S.DIRTY, REQUALIFY, _("Requalify")),
        Transition(
            "take_out_of_service",
            (S.AVAILABLE, S.DIRTY, S.CLEANING, S.MAINTENANCE, S.AWAITING_REQUALIFICATION),
            S.OUT_OF_SERVICE,
            MANAGE,
            _("Take out of service"),
            reason_required=True,
            style="danger",
        ),
        Transition(
            "return_to_service",
            (S.OUT_OF_SERVICE,),
            S.AWAITING_REQUALIFICATION,
            MANAGE,
            _("Return to service"),
            reason_required=True,
        ),
    ],
)


class Equipment(GMPModel, LocalizedNameMixin):
    """A piece of production equipment: where it is, its status, qualification, calibration and
    cleaning rules, and where its machine data come from (OPC UA)."""

    STATE_FIELD = "status"

    code = models.CharField(_("equipment code"), max_length=30, unique=True)
    equipment_class = models.ForeignKey(
        EquipmentClass, on_delete=models.PROTECT, related_name="equipment", verbose_name=_("equipment class")
    )
    line = models.ForeignKey(
        "mes.Line", on_delete=models.PROTECT, null=True, blank=True, related_name="equipment", verbose_name=_("line")
    )
    area = models.ForeignKey(
        "mes.Area", on_delete=models.PROTECT, null=True, blank=True, related_name="equipment", verbose_name=_("area")
    )
    location = models.CharField(_("location / room"), max_length=100, blank=True, default="")
    active = models.BooleanField(_("active"), default=True)
    status = models.CharField(
        _("status"), max_length=30, choices=EquipmentStatus.choices, default=EquipmentStatus.AVAILABLE, db_index=True
    )
    # qualification (IQ/OQ/PQ) and its periodic renewal
    qualification_status = models.CharField(
        _("qualification"), max_length=20, choices=QualificationStatus.choices, default=QualificationStatus.QUALIFIED
    )
    qualified_on = models.DateField(_("qualified on"), null=True, blank=True)
    requalification_due_on = models.DateField(_("periodic requalification due"), null=True, blank=True)
    # calibration: no interval means the equipment needs no calibration
    calibration_interval_days = models.PositiveIntegerField(_("calibration interval (days)"), null=True, blank=True)
    last_calibrated_on = models.DateField(_("last calibrated on"), null=True, blank=True)
    calibration_due_on = models.DateField(_("calibration due on"), null=True, blank=True)
    # cleaning rules and state
    clean_hold_hours = models.PositiveIntegerField(
        _("clean hold time (hours)"), default=72, help_text=_("How long after cleaning the equipment counts as clean.")
    )
    dirty_hold_hours = models.PositiveIntegerField(
        _("dirty hold time (hours)"), default=24, help_text=_("How long it may stay dirty before cleaning.")
    )
    cleaned_at = models.DateTimeField(_("cleaned at"), null=True, blank=True)
    clean_for_product = models.ForeignKey(
        "materials.Material",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("minor-cleaned for product"),
        help_text=_("After a minor (same-product) cleaning only this product may follow; empty after a full cleaning."),
    )
    dirty_since = models.DateTimeField(_("dirty since"), null=True, blank=True)
    last_product = models.ForeignKey(
        "materials.Material",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("last product"),
    )
    # current use
    current_batch = models.ForeignKey(
        "batches.Batch",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="equipment_in_use",
        verbose_name=_("in use by batch"),
    )
    current_step = models.CharField(_("in use for step"), max_length=120, blank=True, default="")
    in_use_since = models.DateTimeField(_("in use since"), null=True, blank=True)
    # OEE and plant data
    ideal_rate_per_min = models.DecimalField(
        _("ideal rate (units per minute)"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    opcua_endpoint = models.CharField(
        _("OPC UA endpoint"),
        max_length=200,
        blank=True,
        default="",
        help_text=_("For example opc.tcp://127.0.0.1:4840/mes/simulator"),
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("equipment")
        verbose_name_plural = _("equipment")
        permissions = [
            ("use_equipment", _("Can start and end the use of equipment")),
            ("clean_equipment", _("Can clean equipment and sign the cleaning")),
            ("perform_daily_check", _("Can record daily equipment checks")),
            ("report_fault", _("Can report equipment faults")),
            ("maintain_equipment", _("Can carry out maintenance work orders")),
            ("calibrate_equipment", _("Can record calibrations")),
            ("requalify_equipment", _("Can requalify repaired equipment")),
            ("qualify_equipment", _("Can sign the qualification status of equipment (QA)")),
            ("manage_equipment_status", _("Can take equipment out of service and back")),
            ("view_oee", _("Can view OEE figures")),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.display_name}"


class LogbookKind(models.TextChoices):
    USE_START = "use_start", _("Use started")
    USE_END = "use_end", _("Use ended / shutdown")
    STATUS = "status", _("Status change")
    # The kind of a logbook line, not the machine's state: "Cleaning" here is a cleaning done (清洁),
    # not "being cleaned" (清洁中), which an available machine's logbook would otherwise show.
    CLEANING = "cleaning", pgettext_lazy("logbook entry kind", "Cleaning")
    DAILY_CHECK = "daily_check", _("Daily check")
    CALIBRATION = "calibration", _("Calibration")
    FAULT = "fault", _("Fault")
    MAINTENANCE = "maintenance", pgettext_lazy("logbook entry kind", "Maintenance")
    REQUALIFICATION = "requalification", _("Requalification")
    COMMUNICATION = "communication", _("Communication")


class LogbookEntry(GMPModel):
    """One line of the equipment's electronic logbook. Append-only: never changed once written."""

    equipment = models.ForeignKey(Equipment, on_delete=models.PROTECT, related_name="logbook")
    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    kind = models.CharField(_("kind"), max_length=20, choices=LogbookKind.choices)
    text = models.TextField(_("entry"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    batch = models.ForeignKey(
        "batches.Batch", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("batch")
    )
    product = models.ForeignKey(
        "materials.Material",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("product"),
    )
    step = models.CharField(_("step"), max_length=120, blank=True, default="")
    from_status = models.CharField(
        _("from status"), max_length=30, blank=True, default="", choices=EquipmentStatus.choices
    )
    to_status = models.CharField(_("to status"), max_length=30, blank=True, default="", choices=EquipmentStatus.choices)
    period_start = models.DateTimeField(_("from"), null=True, blank=True)
    period_end = models.DateTimeField(_("to"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True, default="")

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["equipment", "at"], name="eq_logbook_eq_at")]
        verbose_name = _("logbook entry")
        verbose_name_plural = _("logbook entries")

    def __str__(self) -> str:
        return f"{self.equipment_id} {self.at:%Y-%m-%d %H:%M} {self.kind}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AuditBypassError("Logbook entries are append-only; write a new entry instead.")
        super().save(*args, **kwargs)


# --- Daily checks ---------------------------------------------------------------------------
class ChecklistItem(GMPModel, LocalizedNameMixin):
    """One item of the daily check (点检) list of an equipment class."""

    equipment_class = models.ForeignKey(
        EquipmentClass, on_delete=models.PROTECT, related_name="checklist", verbose_name=_("equipment class")
    )
    order = models.PositiveIntegerField(_("order"), default=10)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["equipment_class", "order", "id"]
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")

    def __str__(self) -> str:
        return self.display_name


class DailyCheck(GMPModel):
    """A daily check of one equipment against its class checklist. Failed items block use."""

    equipment = models.ForeignKey(Equipment, on_delete=models.PROTECT, related_name="daily_checks")
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("performed by")
    )
    performed_at = models.DateTimeField(_("performed at"), default=timezone.now)
    passed = models.BooleanField(_("passed"))
    remarks = models.TextField(_("remarks"), blank=True, default="")
    fault = models.ForeignKey(
        "FaultReport", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("fault report")
    )

    class Meta:
        ordering = ["-performed_at", "-id"]
        indexes = [models.Index(fields=["equipment", "-performed_at"], name="eq_dailycheck_eq_at")]
        verbose_name = _("daily check")
        verbose_name_plural = _("daily checks")

    def __str__(self) -> str:
        return f"{self.equipment_id} {self.performed_at:%Y-%m-%d}"


class DailyCheckResult(GMPModel):
    """The answer to one checklist item (the item's text is kept as it was asked)."""

    daily_check = models.ForeignKey(DailyCheck, on_delete=models.PROTECT, related_name="results")
    item = models.ForeignKey(ChecklistItem, on_delete=models.PROTECT, related_name="+")
    item_text = models.CharField(_("item"), max_length=200)
    ok = models.BooleanField(_("OK"))
    note = models.CharField(_("note"), max_length=300, blank=True, default="")

    class Meta:
        ordering = ["daily_check", "id"]
        verbose_name = _("daily check result")
        verbose_name_plural = _("daily check results")

    def __str__(self) -> str:
        return f"{self.item_text}: {'OK' if self.ok else 'NOT OK'}"


# --- Cleaning and calibration ---------------------------------------------------------------
class CleaningKind(models.TextChoices):
    MINOR = "minor", _("Minor (same product, batch to batch)")
    FULL = "full", _("Full (product changeover)")


class CleaningRecord(GMPModel):
    """One cleaning of one equipment, signed by who finished it."""

    equipment = models.ForeignKey(Equipment, on_delete=models.PROTECT, related_name="cleanings")
    kind = models.CharField(_("cleaning type"), max_length=10, choices=CleaningKind.choices)
    procedure = models.CharField(_("cleaning procedure (SOP)"), max_length=60, blank=True, default="")
    previous_product = models.ForeignKey(
        "materials.Material",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("previous product"),
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("started by")
    )
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    finished_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("signed off by"),
    )
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    remarks = models.TextField(_("remarks"), blank=True, default="")

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("cleaning record")
        verbose_name_plural = _("cleaning records")

    def __str__(self) -> str:
        return f"CL-{self.pk:05d}" if self.pk else "CL-new"


class CalibrationRecord(GMPModel):
    """A calibration with its result; a pass moves the next due date on, a fail opens a fault."""

    equipment = models.ForeignKey(Equipment, on_delete=models.PROTECT, related_name="calibrations")
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("performed by")
    )
    performed_on = models.DateField(_("performed on"))
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    passed = models.BooleanField(_("passed"))
    certificate = models.CharField(_("certificate / report number"), max_length=80, blank=True, default="")
    remarks = models.TextField(_("remarks"), blank=True, default="")
    next_due_on = models.DateField(_("next due on"), null=True, blank=True)

    class Meta:
        ordering = ["-performed_on", "-id"]
        verbose_name = _("calibration record")
        verbose_name_plural = _("calibration records")

    def __str__(self) -> str:
        return f"CAL-{self.pk:05d}" if self.pk else "CAL-new"


# --- Faults and maintenance -----------------------------------------------------------------
class FaultSource(models.TextChoices):
    MANUAL = "manual", _("Reported by a person")
    DAILY_CHECK = "daily_check", _("Failed daily check")
    ALARM = "alarm", _("Equipment alarm (OPC UA)")
    CALIBRATION = "calibration", _("Failed calibration")


class FaultStatus(models.TextChoices):
    OPEN = "open", _("Open")
    IN_REPAIR = "in_repair", _("In repair")
    CLOSED = "closed", _("Closed")
    DISMISSED = "dismissed", _("Dismissed")


FAULT_MACHINE = StateMachine(
    field="status",
    transitions=[
        Transition("create_work_order", (FaultStatus.OPEN,), FaultStatus.IN_REPAIR, MAINTAIN, _("Create work order")),
        Transition("close", (FaultStatus.IN_REPAIR,), FaultStatus.CLOSED, REQUALIFY, _("Close")),
        Transition(
            "dismiss",
            (FaultStatus.OPEN,),
            FaultStatus.DISMISSED,
            MAINTAIN,
            _("Dismiss (no fault)"),
            reason_required=True,
            style="secondary",
        ),
    ],
)
OPEN_FAULT_STATES = (FaultStatus.OPEN, FaultStatus.IN_REPAIR)


class FaultReport(GMPModel):
    """A fault of an equipment: blocks its use until repaired and requalified (or dismissed)."""

    STATE_FIELD = "status"

    equipment = models.ForeignKey(Equipment, on_delete=models.PROTECT, related_name="faults")
    source = models.CharField(_("source"), max_length=20, choices=FaultSource.choices, default=FaultSource.MANUAL)
    description = models.TextField(_("description"))
    alarm_code = models.CharField(_("alarm code"), max_length=60, blank=True, default="")
    # One fault per alarm occurrence: the alarm's code and the source time it was raised.
    alarm_key = models.CharField(max_length=120, blank=True, default="")
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reported by"),
    )
    reported_at = models.DateTimeField(_("reported at"), default=timezone.now)
    status = models.CharField(
        _("status"), max_length=20, choices=FaultStatus.choices, default=FaultStatus.OPEN, db_index=True
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        ordering = ["-reported_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["equipment", "alarm_key"], condition=~models.Q(alarm_key=""), name="eq_fault_one_per_alarm"
            )
        ]
        verbose_name = _("fault report")
        verbose_name_plural = _("fault reports")

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        return f"FR-{self.pk:05d}" if self.pk else "FR-new"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_FAULT_STATES


class WorkOrderStatus(models.TextChoices):
    OPEN = "open", _("Open")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed, awaiting requalification")
    CLOSED = "closed", _("Requalified and closed")


WORK_ORDER_MACHINE = StateMachine(
    field="status",
    transitions=[
        Transition("start", (WorkOrderStatus.OPEN,), WorkOrderStatus.IN_PROGRESS, MAINTAIN, _("Start repair")),
        Transition(
            "complete",
            (WorkOrderStatus.IN_PROGRESS,),
            WorkOrderStatus.COMPLETED,
            MAINTAIN,
            _("Complete repair"),
            signature="performed",
        ),
        Transition(
            "requalify",
            (WorkOrderStatus.COMPLETED,),
            WorkOrderStatus.CLOSED,
            REQUALIFY,
            _("Requalify and release"),
            signature="approved",
        ),
    ],
)


class WorkOrder(GMPModel):
    """A maintenance work order for a fault: the repair (work, parts, time) and its requalification."""

    STATE_FIELD = "status"

    equipment = models.ForeignKey(Equipment, on_delete=models.PROTECT, related_name="work_orders")
    # A repair has its fault; a preventive maintenance work order has its plan instead.
    fault = models.ForeignKey(FaultReport, on_delete=models.PROTECT, related_name="work_orders", null=True, blank=True)
    plan = models.ForeignKey(
        "equipment.MaintenancePlan",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="work_orders",
        verbose_name=_("preventive maintenance plan"),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=WorkOrderStatus.choices, default=WorkOrderStatus.OPEN, db_index=True
    )
    # Empty when the beat task generated it from a due maintenance plan.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("repair started by"),
    )
    started_at = models.DateTimeField(_("repair started at"), null=True, blank=True)
    # Whether the equipment was clean before the repair decides where requalification returns it.
    was_clean = models.BooleanField(_("clean before the repair"), default=True)
    work_done = models.TextField(_("work done"), blank=True, default="")
    parts_replaced = models.TextField(_("parts replaced"), blank=True, default="")
    labour_minutes = models.PositiveIntegerField(_("working time (minutes)"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("repaired by"),
    )
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    requalified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requalified by"),
    )
    requalified_at = models.DateTimeField(_("requalified at"), null=True, blank=True)
    requalification_notes = models.TextField(_("requalification checks"), blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("maintenance work order")
        verbose_name_plural = _("maintenance work orders")

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        return f"WO-{self.pk:05d}" if self.pk else "WO-new"


# --- OPC UA plant data ----------------------------------------------------------------------
class TagKind(models.TextChoices):
    STATE = "state", _("Machine state (0 idle, 1 running, 2 fault)")
    ALARM = "alarm", _("Alarm active")
    ALARM_CODE = "alarm_code", _("Alarm code")
    GOOD_COUNT = "good_count", _("Good count")
    REJECT_COUNT = "reject_count", _("Reject count")
    PROCESS = "process", _("Process value")


class EquipmentTag(GMPModel):
    """A value the equipment publishes over OPC UA: its node id, deadband and limits."""

    equipment = models.ForeignKey(Equipment, on_delete=models.PROTECT, related_name="tags")
    key = models.SlugField(_("key"), max_length=40)
    label = models.CharField(_("label"), max_length=80, blank=True, default="")
    node_id = models.CharField(
        _("OPC UA node id"),
        max_length=200,
        validators=[validate_node_id],
        help_text=_("For example ns=2;s=GRAN-01.temperature (pick it with the tag browser)."),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=TagKind.choices, default=TagKind.PROCESS)
    unit = models.CharField(_("unit"), max_length=20, blank=True, default="")
    deadband = models.FloatField(_("deadband (absolute)"), default=0.0)
    low_limit = models.FloatField(_("low limit"), null=True, blank=True)
    high_limit = models.FloatField(_("high limit"), null=True, blank=True)
    critical = models.BooleanField(
        _("critical process parameter"),
        default=False,
        help_text=_("A value outside the limits while a batch uses the equipment opens a deviation on the batch."),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["equipment", "id"]
        constraints = [models.UniqueConstraint(fields=["equipment", "key"], name="eq_tag_unique_key")]
        verbose_name = _("equipment tag")
        verbose_name_plural = _("equipment tags")

    def __str__(self) -> str:
        return f"{self.equipment_id}:{self.key}"


class AppendOnlyQuerySet(models.QuerySet):
    """Machine data are written once: no update or delete through the ORM."""

    def update(self, **kwargs):
        raise AuditBypassError("Machine readings are append-only.")

    def delete(self):
        raise AuditBypassError("Machine readings are append-only.")


class TagReading(models.Model):
    """One stored value of a tag, as the machine reported it (machine-captured data).

    Stored only when it moved beyond the tag's deadband (or its quality changed). The unique
    (tag, source time) pair makes a re-read after a reconnect impossible to store twice.
    """

    tag = models.ForeignKey(EquipmentTag, on_delete=models.PROTECT, related_name="readings")
    value = models.FloatField(_("value"), null=True)
    status_code = models.BigIntegerField(_("OPC UA status code"), default=0)
    source_ts = models.DateTimeField(_("source time"))
    server_ts = models.DateTimeField(_("server time"), null=True)
    received_at = models.DateTimeField(_("received at"))
    text_value = models.CharField(_("text value"), max_length=60, blank=True, default="")
    # the source time was ahead of our receipt by more than the tolerance: stored, but not trusted
    clock_suspect = models.BooleanField(_("source clock ahead"), default=False)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["tag", "-source_ts"]
        constraints = [models.UniqueConstraint(fields=["tag", "source_ts"], name="eq_reading_once")]
        verbose_name = _("tag reading")
        verbose_name_plural = _("tag readings")

    def __str__(self) -> str:
        return f"{self.tag_id}={self.value} @{self.source_ts:%H:%M:%S}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AuditBypassError("Machine readings are append-only.")
        super().save(*args, **kwargs)

    @property
    def good(self) -> bool:
        return (self.status_code >> 30) == 0  # severity bits 00 = Good

    def delete(self, *args, **kwargs):
        raise AuditBypassError("Machine readings are append-only.")


class CommState(models.TextChoices):
    UNKNOWN = "unknown", _("Not yet connected")
    OK = "ok", _("Connected")
    LOST = "lost", _("Communication lost")


class MachineState(models.TextChoices):
    UNKNOWN = "unknown", _("Unknown")
    IDLE = "idle", _("Idle")
    RUNNING = "running", _("Running")
    FAULT = "fault", _("Fault")


MACHINE_STATE_CODES = {0: MachineState.IDLE, 1: MachineState.RUNNING, 2: MachineState.FAULT}


class EquipmentLive(models.Model):
    """The live link state of an equipment (not a GMP record: a cache the poller keeps current;
    its changes that matter — link lost/restored, alarms — go to the logbook)."""

    equipment = models.OneToOneField(Equipment, on_delete=models.PROTECT, primary_key=True, related_name="live")
    comm_state = models.CharField(max_length=10, choices=CommState.choices, default=CommState.UNKNOWN)
    comm_changed_at = models.DateTimeField(null=True, blank=True)
    last_ok_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True, default="")
    machine_state = models.CharField(max_length=10, choices=MachineState.choices, default=MachineState.UNKNOWN)
    machine_state_at = models.DateTimeField(null=True, blank=True)
    alarm_active = models.BooleanField(default=False)
    alarm_code = models.CharField(max_length=60, blank=True, default="")
    out_of_range = models.CharField(max_length=300, blank=True, default="")
    state_raw = models.CharField(max_length=60, blank=True, default="")  # the value the machine sent
    state_unmapped = models.BooleanField(default=False)
    clock_ahead_s = models.FloatField(null=True, blank=True)  # while a clock alert is open

    class Meta:
        verbose_name = _("live equipment state")
        verbose_name_plural = _("live equipment states")

    def __str__(self) -> str:
        return f"{self.equipment_id} {self.comm_state} {self.machine_state}"


from equipment.models_balance import (  # noqa: E402, F401 - balances (issue 19)
    Balance,
    BalanceCheck,
    BalanceMetrology,
    BalanceProtocol,
)
from equipment.models_capture import (  # noqa: E402, F401 - models of this app kept in a second module
    CaptureAlert,
    CaptureAlertKind,
    EndpointHealth,
    MachineStateMap,
    TagState,
)
from equipment.models_pm import MaintenancePlan  # noqa: E402, F401
