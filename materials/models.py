"""Materials: master data, storage locations, lots, the inventory ledger, genealogy edges, labels."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.gmp import GMPModel
from mes.models import LocalizedNameMixin
from mes.units import Unit, dimension
from mes.workflow import StateMachine, Transition


class MaterialType(models.TextChoices):
    RAW = "raw", _("Raw material")
    PACKAGING = "packaging", _("Packaging material")
    INTERMEDIATE = "intermediate", _("Intermediate")
    FINISHED = "finished", _("Finished product")


class StorageCondition(models.TextChoices):
    AMBIENT = "ambient", _("Ambient (15–25 °C)")
    COOL = "cool", _("Cool (8–15 °C)")
    COLD = "cold", _("Refrigerated (2–8 °C)")
    FROZEN = "frozen", _("Frozen (≤ −20 °C)")


class Material(GMPModel, LocalizedNameMixin):
    """A material or product: what lots are of and what recipes consume and make."""

    code = models.CharField(_("material code"), max_length=40, unique=True)
    type = models.CharField(_("type"), max_length=20, choices=MaterialType.choices)
    unit = models.CharField(_("unit of measure"), max_length=10, choices=Unit.choices)
    specification = models.CharField(_("specification"), max_length=200, blank=True, default="")
    storage_condition = models.CharField(
        _("storage condition"), max_length=20, choices=StorageCondition.choices, default=StorageCondition.AMBIENT
    )
    shelf_life_days = models.PositiveIntegerField(_("shelf life (days)"), null=True, blank=True)
    retest_days = models.PositiveIntegerField(_("retest period (days)"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("material")
        verbose_name_plural = _("materials")

    def __str__(self) -> str:
        return f"{self.code} {self.display_name}"

    def clean(self) -> None:
        """The material's rules, checked when a change is proposed and again when it is approved
        (mes.changecontrol): the code is kept upper case and never changes, the unit stays within its
        dimension, the retest period fits within the shelf life."""
        self.code = (self.code or "").strip().upper()
        errors = {}
        if not self.code:
            errors["code"] = _("Give the material code.")
        if not (self.name or "").strip():
            errors["name"] = _("Give the material name.")
        if self.shelf_life_days is not None and self.shelf_life_days <= 0:
            errors["shelf_life_days"] = _("The shelf life must be at least one day.")
        if (
            self.retest_days is not None
            and self.shelf_life_days is not None
            and self.retest_days > self.shelf_life_days
        ):
            errors["retest_days"] = _("The retest period cannot be longer than the shelf life.")
        stored = type(self)._base_manager.filter(pk=self.pk).first() if self.pk else None
        if stored is not None and stored.code != self.code:
            errors["code"] = _("A material code never changes; create a new material instead.")
        if stored is not None and self.unit in Unit.values and dimension(self.unit) != dimension(stored.unit):
            errors["unit"] = _("%(old)s cannot become %(new)s: they measure different things.") % {
                "old": stored.unit,
                "new": self.unit,
            }
        if errors:
            raise ValidationError(errors)


# --- Storage locations --------------------------------------------------------------------------
class LocationKind(models.TextChoices):
    WAREHOUSE = "warehouse", _("Warehouse")
    QUARANTINE = "quarantine", _("Quarantine area")
    PRODUCTION = "production", _("Production (line side)")
    REJECTED = "rejected", _("Rejected goods cage")
    SHIPPING = "shipping", _("Shipping")


class Location(GMPModel, LocalizedNameMixin):
    """A place where stock is kept, with the storage condition it guarantees (for example 2–8 °C)."""

    code = models.CharField(_("location code"), max_length=40, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=LocationKind.choices, default=LocationKind.WAREHOUSE)
    condition = models.CharField(
        _("storage condition"), max_length=20, choices=StorageCondition.choices, default=StorageCondition.AMBIENT
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("storage location")
        verbose_name_plural = _("storage locations")

    def __str__(self) -> str:
        return f"{self.code} {self.display_name}"


# --- Lots -----------------------------------------------------------------------------------------
class LotStatus(models.TextChoices):
    QUARANTINE = "quarantine", _("Quarantine")
    RELEASED = "released", _("Released")
    REJECTED = "rejected", _("Rejected")
    BLOCKED = "blocked", _("Blocked")
    CONSUMED = "consumed", _("Consumed")


# Shown, never stored: a lot past its expiry date is expired whatever its stored status.
EXPIRED = "expired"
EXPIRED_LABEL = _("Expired")


class Lot(GMPModel):
    """A material lot: one receipt from a supplier, or the output of one batch.

    Its status follows LOT_MACHINE; "expired" is derived from the expiry date (see `is_expired`), so
    a lot stops being usable the day after its expiry date without anybody having to act. Stock on
    hand is not stored here: it is the sum of the lot's ledger entries (cached in StockBalance).
    """

    STATE_FIELD = "status"
    # The reason of the last status change and the status a block came from go with the status: workflow
    # state, not what a release or a rejection signed. (A later block showed the release signature as
    # "no longer valid", as if the lot had been tampered with.)
    SIGNATURE_EXCLUDE = SIGNED_BEFORE = ("status_reason", "blocked_from")

    code = models.CharField(_("lot number"), max_length=40, unique=True)
    material = models.ForeignKey(Material, on_delete=models.PROTECT, related_name="lots", verbose_name=_("material"))
    status = models.CharField(_("status"), max_length=20, choices=LotStatus.choices, default=LotStatus.QUARANTINE)
    supplier = models.CharField(_("supplier"), max_length=200, blank=True, default="")
    supplier_lot = models.CharField(_("supplier lot"), max_length=80, blank=True, default="")
    quantity_received = models.DecimalField(_("quantity received"), max_digits=14, decimal_places=3)
    unit = models.CharField(_("unit"), max_length=10, choices=Unit.choices)
    containers = models.PositiveIntegerField(_("containers"), default=1)
    manufacture_date = models.DateField(_("manufacture date"), null=True, blank=True)
    expiry_date = models.DateField(_("expiry date"), db_index=True)
    retest_date = models.DateField(_("retest date"), null=True, blank=True)
    reference = models.CharField(_("delivery note / document"), max_length=80, blank=True, default="")
    produced_by = models.ForeignKey(
        "batches.Batch",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="output_lots",
        verbose_name=_("produced by batch"),
    )
    blocked_from = models.CharField(max_length=20, blank=True, default="")
    status_reason = models.TextField(_("reason of the last status change"), blank=True, default="")
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("received by"),
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("lot")
        verbose_name_plural = _("lots")
        indexes = [models.Index(fields=["material", "status", "expiry_date"], name="mat_lot_fefo")]
        permissions = [
            ("receive_lot", _("Can receive goods (create lots)")),
            ("release_lot", _("Can release or reject lots (QC)")),
            ("block_lot", _("Can block lots")),
            ("unblock_lot", _("Can unblock lots")),
            ("print_label", _("Can print lot labels")),
            ("move_stock", _("Can transfer and ship stock")),
            ("adjust_stock", _("Can adjust stock (signed)")),
            ("issue_material", _("Can issue material to batches and record returns and waste")),
            ("record_output", _("Can record the output lot of a batch")),
            ("view_genealogy", _("Can trace lot genealogy")),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def is_expired(self) -> bool:
        return self.expiry_date < timezone.localdate()

    @property
    def retest_due(self) -> bool:
        return self.retest_date is not None and self.retest_date < timezone.localdate()

    @property
    def effective_status(self) -> str:
        """The status a user must see: expired overrides whatever is stored (except consumed/rejected)."""
        if self.status in (LotStatus.CONSUMED, LotStatus.REJECTED):
            return self.status
        return EXPIRED if self.is_expired else self.status

    def get_effective_status_display(self) -> str:
        return str(EXPIRED_LABEL) if self.effective_status == EXPIRED else self.get_status_display()

    @property
    def status_tone(self) -> str:
        return {
            "released": "ok",
            "quarantine": "warn",
            "blocked": "danger",
            "rejected": "danger",
            EXPIRED: "danger",
            "consumed": "info",
        }.get(self.effective_status, "info")


class LotCounter(models.Model):
    """The last number handed out per lot-number prefix (locked while a new number is taken)."""

    key = models.CharField(max_length=20, unique=True)
    value = models.PositiveIntegerField(default=0)


# --- Inventory ledger -----------------------------------------------------------------------------
class EntryType(models.TextChoices):
    RECEIPT = "receipt", _("Receipt")
    TRANSFER = "transfer", _("Transfer")
    ISSUE = "issue", _("Issue to batch")
    RETURN = "return", _("Return from batch")
    WASTE = "waste", _("Waste")
    ADJUSTMENT = "adjustment", _("Adjustment")
    OUTPUT = "output", _("Production output")
    SHIPMENT = "shipment", _("Shipment")


class LedgerEntry(GMPModel):
    """One movement of one lot: append-only, the truth of stock on hand.

    `quantity` is the magnitude moved, in the lot's unit; `delta` is the signed effect on the stock
    of `location` (a transfer writes two entries, out and in, sharing `movement`). Waste recorded
    against a batch moves nothing in the warehouse: it has a batch, no location and delta 0.
    """

    entry_type = models.CharField(_("movement"), max_length=20, choices=EntryType.choices)
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="entries", verbose_name=_("lot"))
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, null=True, blank=True, related_name="entries", verbose_name=_("location")
    )
    batch = models.ForeignKey(
        "batches.Batch",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="material_entries",
        verbose_name=_("batch"),
    )
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=3)
    delta = models.DecimalField(_("stock change"), max_digits=14, decimal_places=3)
    unit = models.CharField(_("unit"), max_length=10, choices=Unit.choices)
    movement = models.UUIDField(_("movement"), default=uuid.uuid4, db_index=True)
    reason = models.TextField(_("reason"), blank=True, default="")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("by")
    )
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("verified by"),
    )
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        indexes = [
            models.Index(fields=["lot", "created_at"], name="mat_entry_lot"),
            models.Index(fields=["batch", "entry_type"], name="mat_entry_batch"),
            models.Index(fields=["location", "lot"], name="mat_entry_loc"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="mat_entry_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.get_entry_type_display()} {self.lot_id} {self.quantity} {self.unit}"


class StockBalance(models.Model):
    """Cached on-hand per lot and location: the sum of the ledger's deltas (`check_stock` proves it).

    Changed only by materials.services.stock inside the transaction that writes the ledger entry;
    the check constraint is the last line of defence against negative stock.
    """

    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="balances")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="balances")
    quantity = models.DecimalField(max_digits=14, decimal_places=3, default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["lot", "location"], name="mat_balance_lot_location"),
            models.CheckConstraint(condition=models.Q(quantity__gte=0), name="mat_balance_never_negative"),
        ]
        indexes = [models.Index(fields=["location", "lot"], name="mat_balance_loc")]

    def __str__(self) -> str:
        return f"{self.lot_id}@{self.location_id}: {self.quantity}"


# --- Genealogy ------------------------------------------------------------------------------------
class GenealogyEdge(models.Model):
    """Lot -> batch: written when a lot is first issued to a batch, never recomputed.

    Together with Lot.produced_by (batch -> output lot) these edges are the genealogy graph that
    the recursive trace queries walk (indexed both ways). Append-only (database trigger).
    """

    # No single-column indexes: (lot, batch) and (batch, lot) cover both directions of the walk,
    # and let the trace read the edges from the index alone.
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="consumed_in", db_index=False)
    batch = models.ForeignKey("batches.Batch", on_delete=models.PROTECT, related_name="consumed_lots", db_index=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["lot", "batch"], name="mat_edge_lot_batch")]
        indexes = [models.Index(fields=["batch", "lot"], name="mat_edge_batch_lot")]

    def __str__(self) -> str:
        return f"{self.lot_id} -> {self.batch_id}"


# --- Labels ---------------------------------------------------------------------------------------
class LabelPrint(GMPModel):
    """One printing of a lot's labels (a re-print needs a reason; both are in the audit trail)."""

    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="label_prints")
    containers = models.CharField(_("containers"), max_length=200)
    reprint = models.BooleanField(_("re-print"), default=False)
    reason = models.TextField(_("reason"), blank=True, default="")
    printed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("printed by")
    )
    printed_at = models.DateTimeField(_("printed at"), default=timezone.now)

    class Meta:
        ordering = ["-printed_at", "-id"]
        verbose_name = _("label print")
        verbose_name_plural = _("label prints")

    def __str__(self) -> str:
        return f"{self.lot_id} labels {self.containers}"


# --- The lot's state machine ------------------------------------------------------------------
LOT_MACHINE = StateMachine(
    field="status",
    transitions=[
        Transition("release", ("quarantine",), "released", "materials.release_lot", _("Release"), signature="released"),
        Transition(
            "reject",
            ("quarantine", "released", "blocked"),
            "rejected",
            "materials.release_lot",
            _("Reject"),
            signature="rejected",
            reason_required=True,
            style="danger",
        ),
        Transition(
            "block",
            ("quarantine", "released"),
            "blocked",
            "materials.block_lot",
            _("Block"),
            reason_required=True,
            style="danger",
        ),
        # Unblocking returns the lot to the status it was blocked from (Lot.blocked_from).
        Transition(
            "unblock",
            ("blocked",),
            "released",
            "materials.unblock_lot",
            _("Unblock"),
            signature="approved",
            reason_required=True,
            style="secondary",
        ),
        Transition(
            "unblock_quarantine",
            ("blocked",),
            "quarantine",
            "materials.unblock_lot",
            _("Unblock"),
            signature="approved",
            reason_required=True,
            style="secondary",
        ),
        # Taken automatically by the stock services when the last of a lot leaves stock, and back when
        # some returns: the user already holds the permission of the movement that caused it.
        Transition("consume", ("released",), "consumed", "materials.view_lot", _("Mark consumed")),
        Transition("restock", ("consumed",), "released", "materials.view_lot", _("Return to stock")),
    ],
)


from materials.models_dispense import DispenseEntry  # noqa: E402, F401 - weigh & dispense (issue 19)
