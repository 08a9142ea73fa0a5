"""Preparation and start of a batch: interlocks, material availability, line clearance, snapshot."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.canonical import canonical_json, jsonable, sha256_hex
from audit.context import audit_context
from audit.signatures import signature_check_password, signature_create
from batches.models import (
    BATCH_MACHINE,
    PREPARE,
    Batch,
    BatchRecord,
    Entry,
    EntryKind,
    LineClearance,
    StepExecution,
)
from equipment.models import Equipment
from equipment.services import equipment_verify_for_batch
from materials.models import Lot, LotStatus, Material
from materials.requirements import Requirement
from mes.workflow import transition_apply, user_may
from orders.models import Recipe
from orders.services import order_start


# --- the frozen recipe ---------------------------------------------------------------------
def recipe_snapshot(recipe) -> dict:
    """Everything the batch record needs from the recipe version, as plain JSON (never re-read)."""
    content = jsonable(recipe.signature_content())
    content.update(
        {
            "recipe_id": recipe.pk,
            "product_code": recipe.product.code,
            "version": recipe.version,
            "title": recipe.title,
            "batch_size": str(recipe.batch_size),
            "unit": recipe.unit,
            "expected_yield": str(recipe.expected_yield),
            "yield_min": str(recipe.yield_min),
            "yield_max": str(recipe.yield_max),
        }
    )
    return content


def _recipe_for(batch: Batch):
    return (
        Recipe.objects.select_related("product")
        .prefetch_related("bom_lines__material", "steps__checks", "steps__parameters", "steps__equipment_class")
        .get(pk=batch.recipe_id)
    )


def batch_scale(batch: Batch, snapshot: dict) -> Decimal:
    size = Decimal(snapshot["batch_size"])
    return Decimal(batch.planned_quantity) / size if size else Decimal(1)


def batch_bom_lines(batch: Batch) -> list:
    """The BOM lines scaled to the batch size (from the frozen snapshot once started), as Requirements."""

    if batch.recipe_id is None:
        return []
    record = BatchRecord.objects.filter(batch=batch).first()
    snapshot = record.snapshot if record else recipe_snapshot(_recipe_for(batch))
    factor = batch_scale(batch, snapshot)
    materials = Material.objects.in_bulk([b["material"] for b in snapshot["bom"]], field_name="code")
    return [
        Requirement(
            material=materials[b["material"]],
            quantity=(Decimal(b["quantity"]) * factor).quantize(Decimal("0.001")),
            unit=b["unit"],
            tolerance_pct=Decimal(b["tolerance_pct"]),
            second_person=bool(b["weigh_and_verify"]),
            line_ref=f"{batch.number}/BOM{b['position']}",
        )
        for b in sorted(snapshot["bom"], key=lambda b: b["position"])
        if b["material"] in materials
    ]


# --- preparation ---------------------------------------------------------------------------
@dataclass
class StepCheckRow:
    number: int
    title: str
    equipment_class: str
    equipment: list = field(default_factory=list)  # [(code, Usability)]

    @property
    def ok(self) -> bool:
        return not self.equipment_class or any(u.ok for _c, u in self.equipment)


@dataclass
class MaterialRow:
    requirement: object
    available: Decimal

    @property
    def ok(self) -> bool:
        return self.available >= (self.requirement.quantity or 0)


@dataclass
class Preparation:
    steps: list
    materials: list
    clearance: LineClearance | None

    @property
    def reasons(self) -> list[str]:
        out = [
            _("Step %(n)s: no usable %(cls)s on the line.") % {"n": s.number, "cls": s.equipment_class}
            for s in self.steps
            if not s.ok
        ]
        out += [
            _("%(code)s: %(avail)s available, %(need)s needed.")
            % {"code": m.requirement.material.code, "avail": m.available, "need": m.requirement.quantity}
            for m in self.materials
            if not m.ok
        ]
        if self.clearance is None:
            out.append(_("Line clearance is not signed."))
        return out

    @property
    def ok(self) -> bool:
        return not self.reasons


def batch_preparation(batch: Batch) -> Preparation:
    """Per step the equipment interlock answer, per BOM line the released stock, and the clearance."""

    recipe = _recipe_for(batch)
    steps = recipe.active_steps()
    classes = {s.equipment_class.code for s in steps if s.equipment_class_id}
    candidates = Equipment.objects.filter(equipment_class__code__in=classes, line_id=batch.line_id).select_related(
        "equipment_class"
    )
    by_class: dict[str, list] = {}
    verdicts = equipment_verify_for_batch(equipment=list(candidates), product=batch.product)
    for eq in candidates:
        by_class.setdefault(eq.equipment_class.code, []).append((eq.code, verdicts[eq.code]))
    step_rows = [
        StepCheckRow(
            s.number,
            s.display_title,
            s.equipment_class.code if s.equipment_class_id else "",
            sorted(by_class.get(s.equipment_class.code, []) if s.equipment_class_id else [], key=lambda x: x[0]),
        )
        for s in sorted(steps, key=lambda s: s.number)
    ]
    today = timezone.localdate()
    reqs = batch_bom_lines(batch)
    stock = dict(
        Lot.objects.filter(material__in=[r.material for r in reqs], status=LotStatus.RELEASED, expiry_date__gte=today)
        .values_list("material_id")
        .annotate(total=Sum("balances__quantity"))
    )
    if batch.rework_lot_id:
        # A rework batch takes back in its nonconforming lot (not released, so not in the stock above).
        rework = Lot.objects.filter(pk=batch.rework_lot_id).annotate(total=Sum("balances__quantity")).first()
        stock[rework.material_id] = rework.total or 0
    materials = [MaterialRow(r, Decimal(stock.get(r.material.pk) or 0)) for r in reqs]
    clearance = batch.clearances.order_by("-checked_at").first()
    return Preparation(step_rows, materials, clearance)


def _require_prepare(user, batch) -> None:
    if not user_may(user, PREPARE, batch):
        raise PermissionDenied(_("You do not have permission to prepare batches."))


def _editable(batch: Batch, states: tuple[str, ...], what: str) -> None:
    if batch.status not in states:
        raise ValidationError(
            _("%(what)s is not possible while batch %(b)s is %(s)s.")
            % {"what": what, "b": batch.number, "s": batch.get_status_display().lower()}
        )


def batch_line_clearance_sign(*, user, batch: Batch, password: str, confirmed: bool, notes: str = "") -> LineClearance:
    """The supervisor confirms the line is clear (previous product, labels, documents) and signs."""
    _require_prepare(user, batch)
    if not confirmed:
        raise ValidationError(_("Confirm that the line is clear of the previous product, labels and documents."))
    _editable(batch, ("planned",), _("Line clearance"))
    signature_check_password(user=user, password=password, purpose="batches.line_clearance")
    with transaction.atomic(), audit_context(actor=user, action="batches.line_clearance.sign"):
        locked = Batch.objects.select_for_update().get(pk=batch.pk)
        _editable(locked, ("planned",), _("Line clearance"))
        clearance = LineClearance.objects.create(
            batch=locked, checked_by=user, checked_at=timezone.now(), notes=notes.strip()
        )
        signature_create(signer=user, obj=clearance, meaning="approved", action="batches.line_clearance.sign")
    return clearance


def batch_mark_ready(*, user, batch: Batch, password: str) -> Batch:
    """Ready only when every step's equipment answers usable, materials are available and the line is clear."""

    def guard(obj):
        if obj.recipe_id is None:
            raise ValidationError(_("The batch has no master batch record."))
        prep = batch_preparation(obj)
        if not prep.ok:
            raise ValidationError(prep.reasons)

    return transition_apply(
        model=Batch, pk=batch.pk, machine=BATCH_MACHINE, name="mark_ready", user=user, password=password, guard=guard
    )


def batch_start(*, user, batch: Batch) -> Batch:
    """Start: freeze the recipe version into the eBR and create its steps and entries (BAT-2)."""

    def guard(obj):
        prep = batch_preparation(obj)
        problems = [r for r in prep.reasons if r]
        if problems:
            raise ValidationError(problems)

    def after(obj):
        recipe = _recipe_for(obj)
        snapshot = recipe_snapshot(recipe)
        BatchRecord.objects.create(
            batch=obj,
            snapshot=snapshot,
            snapshot_hash=sha256_hex(canonical_json(snapshot)),
            started_by=user,
            started_at=timezone.now(),
        )
        _create_steps(obj, snapshot)
        _start_order(user, obj)

    return transition_apply(
        model=Batch, pk=batch.pk, machine=BATCH_MACHINE, name="start", user=user, guard=guard, after=after
    )


def _dec(value):
    return None if value in (None, "") else Decimal(str(value))


def _create_steps(batch: Batch, snapshot: dict) -> None:
    for s in sorted(snapshot["steps"], key=lambda s: s["number"]):
        step = StepExecution.objects.create(
            batch=batch,
            number=s["number"],
            title=s["title"],
            title_zh=s.get("title_zh", ""),
            instruction=s["instruction"],
            instruction_zh=s.get("instruction_zh", ""),
            equipment_class=s.get("equipment_class") or "",
            duration_minutes=s.get("duration_minutes") or 30,
            verifier_required=bool(s.get("verifier_signature")),
            allow_parallel=bool(s.get("allow_parallel")),
        )
        for i, p in enumerate(s.get("parameters", []), start=1):
            Entry.objects.create(
                batch=batch,
                step=step,
                kind=EntryKind.PARAMETER,
                position=i,
                name=p["name"],
                name_zh=p.get("name_zh", ""),
                unit=p.get("unit", ""),
                target=_dec(p.get("target")),
                minimum=_dec(p.get("minimum")),
                maximum=_dec(p.get("maximum")),
                critical=bool(p.get("critical")),
                equipment_tag=p.get("equipment_tag", ""),
            )
        for c in s.get("checks", []):
            Entry.objects.create(
                batch=batch,
                step=step,
                kind=EntryKind.CHECK,
                position=c.get("number") or 1,
                name=c["question"],
                name_zh=c.get("question_zh", ""),
                unit=c.get("unit", ""),
                minimum=_dec(c.get("lower_limit")),
                maximum=_dec(c.get("upper_limit")),
                expected_answer=c.get("expected_answer", ""),
            )


def _start_order(user, batch: Batch) -> None:
    """The first batch to start puts its released order in progress (orders service)."""
    if batch.order_id and batch.order.status == "released":
        order_start(user=user, order_id=batch.order_id)
