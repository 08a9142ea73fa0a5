"""Dispensing: issue of lots to a batch, returns, waste, the batch's output lot, FEFO.

Batch execution calls `lot_issue_to_batch` with what its BOM line requires for the batch size,
either as plain values or as a `Requirement` (see materials.requirements). The service refuses,
in words an operator understands, anything that must not go into the batch, and every refusal
is written to the audit trail as `materials.issue_refused` with the reason.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from audit.context import audit_context
from audit.services import audit_record
from audit.signatures import SignatureError, signature_check_password, signature_create
from materials.batch_source import Batch, batch_status_label, batches
from materials.events import lot_created, material_consumed
from materials.models import EntryType, LedgerEntry, Location, Lot, LotStatus, Material
from materials.requirements import Requirement
from materials.services.common import check_storage, fmt, in_lot_unit, parse_scan, require
from materials.services.lots import next_lot_code
from materials.services.stock import after_stock_change, lock_lot, on_hand, post_entry
from mes.generated import GeneratedText
from mes.units import convert

WEIGHED_QUANTITY_CHECKED = GeneratedText(gettext_noop("weighed quantity checked"))

ISSUE_BATCH_STATES = ("ready", "in_progress")
OUTPUT_BATCH_STATES = ("in_progress", "completed")


def _batch_open(batch: Batch, states=ISSUE_BATCH_STATES) -> None:
    if batch.status not in states:
        raise ValidationError(
            _("Batch %(batch)s is %(status)s: material cannot be booked to it now.")
            % {"batch": batch.number, "status": batch.get_status_display()}
        )


def _reworked_here(lot: Lot, batch: Batch | None) -> bool:
    """A nonconforming lot goes into one batch only: the rework batch made for it (issue 16)."""
    return batch is not None and batch.rework_lot_id == lot.pk and lot.status in (LotStatus.REJECTED, LotStatus.BLOCKED)


def _rework_only(lot: Lot) -> str:
    """Tell the operator where a nonconforming lot may go, when it has a rework batch."""
    batch = batches().filter(rework_lot=lot).order_by("-pk").first()
    if batch is None:
        return ""
    return " " + _("It may only be issued to its rework batch %(batch)s.") % {"batch": batch.number}


def lot_usable_problem(lot: Lot, material: Material | None = None, batch: Batch | None = None) -> str | None:
    """Why this lot must not go into `batch` now, in the operator's words (None: it may).

    A rejected or blocked lot is refused everywhere except in its own rework batch.
    """
    if material is not None and lot.material_id != material.pk:
        return _("Wrong material: lot %(lot)s is %(has)s, this line needs %(needs)s. Do not use it.") % {
            "lot": lot.code,
            "has": f"{lot.material.code} {lot.material.display_name}",
            "needs": f"{material.code} {material.display_name}",
        }
    if lot.is_expired and lot.status not in (LotStatus.CONSUMED,):
        return _("Lot %(lot)s expired on %(date)s. Do not use it.") % {"lot": lot.code, "date": lot.expiry_date}
    if _reworked_here(lot, batch):
        return None
    if lot.status == LotStatus.BLOCKED:
        return _("Lot %(lot)s is blocked (%(reason)s). Do not use it.") % {
            "lot": lot.code,
            "reason": lot.status_reason or _("no reason given"),
        } + _rework_only(lot)
    if lot.status == LotStatus.QUARANTINE:
        return _("Lot %(lot)s is in quarantine: QC has not released it. Do not use it.") % {"lot": lot.code}
    if lot.status == LotStatus.REJECTED:
        return _("Lot %(lot)s was rejected by QC. Do not use it.") % {"lot": lot.code} + _rework_only(lot)
    if lot.status == LotStatus.CONSUMED:
        return _("Lot %(lot)s has no stock left.") % {"lot": lot.code}
    if lot.retest_due:
        return _("Lot %(lot)s was due for retest on %(date)s. Do not use it until QC has retested it.") % {
            "lot": lot.code,
            "date": lot.retest_date,
        }
    return None


def issued_to_batch(batch: Batch, material: Material | None = None, lot: Lot | None = None) -> Decimal:
    """Net quantity in the batch (issued - returned - wasted) of a material or one lot, in its unit."""
    qs = LedgerEntry.objects.filter(batch=batch)
    if lot is not None:
        qs = qs.filter(lot=lot)
    if material is not None:
        qs = qs.filter(lot__material=material)
    sums = qs.aggregate(
        issued=Sum("quantity", filter=Q(entry_type=EntryType.ISSUE)),
        back=Sum("quantity", filter=Q(entry_type__in=[EntryType.RETURN, EntryType.WASTE])),
    )
    return (sums["issued"] or Decimal(0)) - (sums["back"] or Decimal(0))


def line_limits(req: Requirement, unit: str) -> tuple[Decimal, Decimal, Decimal]:
    """The line's target, tolerance and (low, high) total in `unit`: (target, low, high)."""
    target = convert(req.quantity, req.unit, unit)
    tol = target * Decimal(req.tolerance_pct) / Decimal(100)
    return target, target - tol, target + tol


def _check_quantity(req: Requirement, lot: Lot, qty: Decimal, already: Decimal, lot_stock: Decimal) -> None:
    """The line's total after this issue must stay within tolerance (a partial issue must empty the lot)."""
    target, low, high = line_limits(req, lot.unit)
    total = already + qty
    if total > high:
        room = max(high - already, Decimal(0))
        raise ValidationError(
            _(
                "Too much: the line needs %(target)s ± %(tol)s %% and %(done)s are already issued, so at most "
                "%(room)s more. Weigh again."
            )
            % {
                "target": fmt(target, lot.unit),
                "tol": req.tolerance_pct,
                "done": fmt(already, lot.unit),
                "room": fmt(room, lot.unit),
            }
        )
    if total < low and qty < lot_stock:
        raise ValidationError(
            _(
                "Too little: the line needs %(low)s to %(high)s in total (%(done)s already issued). Weigh "
                "%(min)s to %(max)s, or the whole rest of this lot and then scan another lot."
            )
            % {
                "low": fmt(low, lot.unit),
                "high": fmt(high, lot.unit),
                "done": fmt(already, lot.unit),
                "min": fmt(max(low - already, Decimal(0)), lot.unit),
                "max": fmt(high - already, lot.unit),
            }
        )


def _check_verifier(req: Requirement, user, verifier, verifier_password) -> None:
    if not req.second_person:
        return
    if verifier is None:
        raise ValidationError(_("This line needs a second person to check the weighed quantity and sign."))
    if verifier.pk == user.pk:
        raise ValidationError(_("The second person must be someone other than the person issuing."))
    if not (verifier.has_perm("materials.issue_material") or verifier.has_perm("batches.execute_batch")):
        raise ValidationError(_("%(name)s may not verify material issues.") % {"name": verifier.get_username()})
    # The second person's user ID is the one typed into the verifier field (21 CFR 11.200(a)).
    signature_check_password(
        user=verifier,
        password=verifier_password or "",
        purpose="materials.issue.verify",
        username=verifier.get_username(),
    )


def _pick_location(lot: Lot, qty: Decimal, location: Location | None) -> tuple[Location | int, Decimal]:
    """Where to take the quantity from: the given location, or the one holding most of the lot."""
    rows = _stock_rows(lot)
    total = sum((q for _, q in rows), Decimal(0))
    if total < qty:
        raise ValidationError(
            _("Not enough stock: lot %(lot)s has only %(have)s left (%(asked)s asked).")
            % {"lot": lot.code, "have": fmt(total, lot.unit), "asked": fmt(qty, lot.unit)}
        )
    if location is not None:
        here = next((q for loc, q in rows if loc == location.pk), Decimal(0))
        if here < qty:
            raise ValidationError(
                _("Not enough stock at %(loc)s: %(have)s of lot %(lot)s there.")
                % {"loc": location.code, "have": fmt(here, lot.unit), "lot": lot.code}
            )
        return location.pk, total
    if rows[0][1] < qty:
        raise ValidationError(
            _("Lot %(lot)s is spread over several locations: move it together first.") % {"lot": lot.code}
        )
    return rows[0][0], total


def lot_issue_to_batch(
    *,
    user,
    batch: Batch,
    lot_code: str,
    quantity,
    unit: str,
    material: Material | None = None,
    required_quantity=None,
    tolerance_pct=None,
    required_unit: str | None = None,
    requirement: Requirement | None = None,
    verifier=None,
    verifier_password: str | None = None,
    location: Location | None = None,
) -> LedgerEntry:
    """Issue a scanned lot to a batch for one BOM line; refusals are audited and raised in words.

    Pass either `requirement` (a Requirement, or anything `Requirement.of()` accepts, like a BOM
    line scaled to the batch size) or `material`, `required_quantity` (in `required_unit`, by
    default the unit of the issued `quantity`) and `tolerance_pct`. Returns the issue entry.
    """
    req = (
        Requirement.of(requirement)
        if requirement is not None
        else Requirement(
            material=material, quantity=required_quantity, unit=required_unit or unit, tolerance_pct=tolerance_pct or 0
        )
    )
    code = parse_scan(lot_code)
    try:
        return _issue(
            user=user,
            batch=batch,
            code=code,
            quantity=quantity,
            unit=unit,
            req=req,
            verifier=verifier,
            verifier_password=verifier_password,
            location=location,
        )
    except (ValidationError, PermissionDenied, SignatureError) as exc:
        message = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        with transaction.atomic():
            audit_record(
                action="materials.issue_refused",
                actor=user,
                obj=batch,
                reason=message,
                new={
                    "lot": code,
                    "quantity": str(quantity),
                    "unit": unit,
                    "material": req.material.code if req.material else "",
                    "verifier": verifier.get_username() if verifier is not None else "",
                },
            )
        raise


def _lock_batch(batch: Batch) -> str:
    """Lock the batch row for this transaction (issues to one batch are checked one at a time)."""
    with connection.cursor() as cursor:
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""  # SQLite: IMMEDIATE transactions
        cursor.execute("SELECT status FROM batches_batch WHERE id = %s" + lock, [batch.pk])
        return cursor.fetchone()[0]


def _stock_rows(lot: Lot) -> list[tuple[int, Decimal]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT location_id, quantity FROM materials_stockbalance WHERE lot_id = %s AND quantity > 0 "
            "ORDER BY quantity DESC",
            [lot.pk],
        )
        return [(loc, Decimal(str(q))) for loc, q in cursor.fetchall()]


def _net_issued(batch: Batch, material: Material) -> Decimal:
    """Net quantity of a material in the batch (issued - returned - wasted); one plain query."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COALESCE(SUM(CASE WHEN e.entry_type = 'issue' THEN e.quantity ELSE -e.quantity END), 0) "
            "FROM materials_ledgerentry e JOIN materials_lot l ON l.id = e.lot_id "
            "WHERE e.batch_id = %s AND l.material_id = %s AND e.entry_type IN ('issue', 'return', 'waste')",
            [batch.pk, material.pk],
        )
        return Decimal(str(cursor.fetchone()[0]))


def _issue(*, user, batch, code, quantity, unit, req, verifier, verifier_password, location) -> LedgerEntry:
    # The hot path of dispensing: plain SQL for the reads and the edge, the ORM (audited) for the entry.
    require(user, "materials.issue_material", _("issue material to batches"))
    if req.material is None or req.quantity is None:
        raise ValidationError(_("Choose the material line of the batch first."))
    _check_verifier(req, user, verifier, verifier_password)
    with transaction.atomic():
        status = _lock_batch(batch)
        if status not in ISSUE_BATCH_STATES:
            raise ValidationError(
                _("Batch %(batch)s is %(status)s: material cannot be booked to it now.")
                % {"batch": batch.number, "status": batch_status_label(status)}
            )
        lot = Lot.objects.select_for_update(of=("self",)).select_related("material").filter(code=code).first()
        if lot is None:
            raise ValidationError(_("Lot “%(code)s” is not known. Scan the label again.") % {"code": code})
        problem = lot_usable_problem(lot, req.material, batch)
        if problem:
            raise ValidationError(problem)
        qty = in_lot_unit(quantity, unit, lot.unit)
        location_id, lot_stock = _pick_location(lot, qty, location)
        _check_quantity(req, lot, qty, _net_issued(batch, req.material), lot_stock)
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO materials_genealogyedge (lot_id, batch_id, created_at) VALUES (%s, %s, %s) "
                "ON CONFLICT (lot_id, batch_id) DO NOTHING",
                [lot.pk, batch.pk, timezone.now()],
            )
        entry = post_entry(
            lot=lot,
            entry_type=EntryType.ISSUE,
            quantity=qty,
            delta=-qty,
            user=user,
            location=Location(pk=location_id),
            batch=batch,
            verified_by=verifier if req.second_person else None,
            reason=req.line_ref,
        )
        if verifier is not None and req.second_person:
            signature_create(
                signer=verifier,
                obj=entry,
                meaning="verified",
                action="materials.ledger.issue",
                reason=WEIGHED_QUANTITY_CHECKED(),
            )
        if qty == lot_stock:
            after_stock_change(lot, user)
        material_consumed.announce(entry=entry)  # e.g. ERP goods issue and WMS confirmation (outbox)
        return entry


def lot_return_from_batch(
    *, user, batch: Batch, lot_code: str, quantity, unit: str, location: Location, reason: str = ""
) -> LedgerEntry:
    """Unused material goes back to stock from the batch (at most what is still in the batch)."""
    require(user, "materials.issue_material", _("return material from batches"))
    with transaction.atomic():
        locked_batch = batches().select_for_update().get(pk=batch.pk)
        lot = lock_lot(parse_scan(lot_code))
        check_storage(lot.material, location)
        qty = in_lot_unit(quantity, unit, lot.unit)
        net = issued_to_batch(locked_batch, lot=lot)
        if qty > net:
            raise ValidationError(
                _("Only %(net)s of lot %(lot)s is in batch %(batch)s: that is the most that can come back.")
                % {"net": fmt(net, lot.unit), "lot": lot.code, "batch": locked_batch.number}
            )
        entry = post_entry(
            lot=lot,
            entry_type=EntryType.RETURN,
            quantity=qty,
            delta=qty,
            user=user,
            location=location,
            batch=locked_batch,
            reason=reason,
        )
        after_stock_change(lot, user)
        return entry


def lot_record_waste(
    *,
    user,
    lot_code: str,
    quantity,
    unit: str,
    reason: str,
    batch: Batch | None = None,
    location: Location | None = None,
) -> LedgerEntry:
    """Record waste: against a batch (material already issued to it) or from stock at a location."""
    require(user, "materials.issue_material" if batch is not None else "materials.adjust_stock", _("record waste"))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Say why the material is waste."))
    if (batch is None) == (location is None):
        raise ValidationError(_("Waste is recorded either against a batch or from a stock location."))
    with transaction.atomic():
        locked_batch = batches().select_for_update().get(pk=batch.pk) if batch is not None else None
        lot = lock_lot(parse_scan(lot_code))
        qty = in_lot_unit(quantity, unit, lot.unit)
        if locked_batch is not None:
            net = issued_to_batch(locked_batch, lot=lot)
            if qty > net:
                raise ValidationError(
                    _("Only %(net)s of lot %(lot)s is in batch %(batch)s.")
                    % {"net": fmt(net, lot.unit), "lot": lot.code, "batch": locked_batch.number}
                )
            return post_entry(
                lot=lot,
                entry_type=EntryType.WASTE,
                quantity=qty,
                delta=Decimal(0),
                user=user,
                batch=locked_batch,
                reason=reason,
            )
        entry = post_entry(
            lot=lot, entry_type=EntryType.WASTE, quantity=qty, delta=-qty, user=user, location=location, reason=reason
        )
        after_stock_change(lot, user)
        return entry


def _output_location(material: Material) -> Location:
    location = (
        Location.objects.filter(active=True, condition=material.storage_condition)
        .order_by("-kind", "code")
        .filter(kind__in=["quarantine", "warehouse"])
        .first()
    )
    if location is None:
        raise ValidationError(_("No active location can hold %(material)s.") % {"material": material.code})
    return location


def lot_create_output(
    *,
    user,
    batch: Batch,
    quantity,
    unit: str,
    location: Location | None = None,
    expiry_date: dt.date | None = None,
    containers: int = 1,
) -> Lot:
    """The batch's output lot (intermediate or finished), in quarantine, with its output entry."""
    require(user, "materials.record_output", _("record the output of a batch"))
    with transaction.atomic():
        locked_batch = batches().select_for_update().select_related("product").get(pk=batch.pk)
        _batch_open(locked_batch, OUTPUT_BATCH_STATES)
        if Lot.objects.filter(produced_by=locked_batch).exists():
            raise ValidationError(_("Batch %(batch)s already has its output lot.") % {"batch": locked_batch.number})
        product = locked_batch.product
        location = location or _output_location(product)
        check_storage(product, location)
        qty = in_lot_unit(quantity, unit, product.unit)
        today = timezone.localdate()
        if expiry_date is None:
            if not product.shelf_life_days:
                raise ValidationError(_("Enter the expiry date of the output lot."))
            expiry_date = today + dt.timedelta(days=product.shelf_life_days)
        with audit_context(actor=user, action="materials.lot.output"):
            lot = Lot.objects.create(
                code=next_lot_code(product),
                material=product,
                status=LotStatus.QUARANTINE,
                quantity_received=qty,
                unit=product.unit,
                containers=max(int(containers), 1),
                manufacture_date=today,
                expiry_date=expiry_date,
                produced_by=locked_batch,
                reference=locked_batch.number,
                received_by=user,
            )
        post_entry(
            lot=lot,
            entry_type=EntryType.OUTPUT,
            quantity=qty,
            delta=qty,
            user=user,
            location=location,
            batch=locked_batch,
        )
        # Quality (issue #6) gives the output lot its intermediate or finished inspection.
        lot_created.announce(lot=lot, user=user)
        return lot


def lot_suggest_fefo(*, material: Material, limit: int = 5) -> list[Lot]:
    """Usable lots of a material, first expiry first out, each with `stock` (its on-hand quantity)."""
    today = timezone.localdate()
    return list(
        Lot.objects.filter(material=material, status=LotStatus.RELEASED, expiry_date__gte=today)
        .filter(Q(retest_date__isnull=True) | Q(retest_date__gte=today))
        .annotate(stock=Sum("balances__quantity"))
        .filter(stock__gt=0)
        .order_by("expiry_date", "received_at", "id")[:limit]
    )


__all__ = [
    "on_hand",
    "lot_issue_to_batch",
    "lot_return_from_batch",
    "lot_record_waste",
    "lot_create_output",
    "lot_suggest_fefo",
    "issued_to_batch",
    "lot_usable_problem",
]


def lot_check_scan(*, user, batch: Batch, lot_code: str, requirement: Requirement) -> Lot:
    """The first step of an issue: is the scanned lot right for this line? Refusals are audited."""
    code = parse_scan(lot_code)
    req = Requirement.of(requirement)
    try:
        require(user, "materials.issue_material", _("issue material to batches"))
        _batch_open(batch)
        lot = Lot.objects.select_related("material").filter(code=code).first()
        if lot is None:
            raise ValidationError(_("Lot “%(code)s” is not known. Scan the label again.") % {"code": code})
        problem = lot_usable_problem(lot, req.material, batch)
        if problem:
            raise ValidationError(problem)
        lot.stock = on_hand(lot)
        if lot.stock <= 0:
            raise ValidationError(_("Lot %(lot)s has no stock left.") % {"lot": lot.code})
        return lot
    except (ValidationError, PermissionDenied) as exc:
        message = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        with transaction.atomic():
            audit_record(
                action="materials.issue_refused",
                actor=user,
                obj=batch,
                reason=message,
                new={"lot": code, "step": "scan", "material": req.material.code if req.material else ""},
            )
        raise
