"""The inventory ledger: every movement is one appended entry; the balance cache follows it.

Rule of this module: a movement locks its lot row first (SELECT ... FOR UPDATE), so movements of
one lot happen one at a time; the balance is then changed with a conditional UPDATE that cannot
take it below zero, and a check constraint refuses a negative balance as the last defence.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from audit.context import audit_context
from audit.signatures import signature_check_password, signature_create
from materials.models import LOT_MACHINE, EntryType, LedgerEntry, Location, Lot, LotStatus, StockBalance
from materials.services.common import check_storage, fmt, in_lot_unit, lot_pk, require, to_decimal
from mes.generated import GeneratedText
from mes.workflow import transition_apply

NO_STOCK_LEFT = GeneratedText(gettext_noop("no stock left"))
STOCK_RETURNED = GeneratedText(gettext_noop("stock returned"))


def lock_lot(lot) -> Lot:
    """The lot row, locked until the end of the transaction (with its material)."""
    return Lot.objects.select_for_update(of=("self",)).select_related("material").get(pk=lot_pk(lot))


def post_entry(
    *,
    lot: Lot,
    entry_type: str,
    quantity: Decimal,
    delta: Decimal,
    user,
    location: Location | None = None,
    batch=None,
    reason: str = "",
    movement=None,
    verified_by=None,
) -> LedgerEntry:
    """Append one ledger entry and move the cached balance by `delta` (caller holds the lot lock)."""
    if delta:
        _move_balance(lot, location, delta)
    with audit_context(actor=user, action=f"materials.ledger.{entry_type}", reason=reason):
        return LedgerEntry.objects.create(
            entry_type=entry_type,
            lot=lot,
            location=location,
            batch=batch,
            quantity=quantity,
            delta=delta,
            unit=lot.unit,
            reason=reason,
            actor=user,
            verified_by=verified_by,
            movement=movement or uuid.uuid4(),
        )


def _move_balance(lot: Lot, location: Location, delta: Decimal) -> None:
    """Move the cached balance; a removal is conditional, so it can never take the balance below zero."""
    with connection.cursor() as cursor:
        if delta > 0:
            cursor.execute(
                "UPDATE materials_stockbalance SET quantity = quantity + %s, updated_at = %s "
                "WHERE lot_id = %s AND location_id = %s",
                [delta, timezone.now(), lot.pk, location.pk],
            )
            if cursor.rowcount == 0:
                StockBalance.objects.create(lot=lot, location=location, quantity=delta)
            return
        cursor.execute(
            "UPDATE materials_stockbalance SET quantity = quantity - %s, updated_at = %s "
            "WHERE lot_id = %s AND location_id = %s AND quantity >= %s",
            [-delta, timezone.now(), lot.pk, location.pk, -delta],
        )
        if cursor.rowcount != 1:
            raise ValidationError(
                _("Not enough stock of lot %(lot)s at %(loc)s.")
                % {"lot": lot.code, "loc": location.code or location.pk}
            )


def on_hand(lot: Lot, location: Location | None = None) -> Decimal:
    qs = StockBalance.objects.filter(lot=lot)
    if location is not None:
        qs = qs.filter(location=location)
    return qs.aggregate(total=Sum("quantity"))["total"] or Decimal("0")


def after_stock_change(lot: Lot, user) -> None:
    """Keep the lot's status in step with its stock: empty -> consumed, back in stock -> released."""
    total = on_hand(lot)
    if total == 0 and lot.status == LotStatus.RELEASED:
        transition_apply(model=Lot, pk=lot.pk, machine=LOT_MACHINE, name="consume", user=user, reason=NO_STOCK_LEFT())
    elif total > 0 and lot.status == LotStatus.CONSUMED:
        transition_apply(model=Lot, pk=lot.pk, machine=LOT_MACHINE, name="restock", user=user, reason=STOCK_RETURNED())


def lot_transfer(
    *, user, lot, from_location: Location, to_location: Location, quantity, unit: str, reason: str = ""
) -> list[LedgerEntry]:
    """Move stock of a lot between locations (two ledger entries of one movement)."""
    require(user, "materials.move_stock", _("move stock"))
    if from_location.pk == to_location.pk:
        raise ValidationError(_("Choose a different destination location."))
    with transaction.atomic():
        locked = lock_lot(lot)
        check_storage(locked.material, to_location)
        qty = in_lot_unit(quantity, unit, locked.unit)
        movement = uuid.uuid4()
        out = post_entry(
            lot=locked,
            entry_type=EntryType.TRANSFER,
            quantity=qty,
            delta=-qty,
            user=user,
            location=from_location,
            reason=reason,
            movement=movement,
        )
        into = post_entry(
            lot=locked,
            entry_type=EntryType.TRANSFER,
            quantity=qty,
            delta=qty,
            user=user,
            location=to_location,
            reason=reason,
            movement=movement,
        )
        return [out, into]


def lot_adjust(*, user, lot, location: Location, quantity, unit: str, reason: str, password: str) -> LedgerEntry:
    """Correct the stock of a lot at a location after a count: signed, with a reason.

    `quantity` is signed: positive adds stock, negative removes it (never below zero).
    """
    require(user, "materials.adjust_stock", _("adjust stock"))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("A stock adjustment needs a reason."))
    change = to_decimal(quantity)
    if change == 0:
        raise ValidationError(_("The adjustment must change the stock."))
    signature_check_password(user=user, password=password, purpose="materials.ledger.adjustment")
    with transaction.atomic():
        locked = lock_lot(lot)
        qty = in_lot_unit(abs(change), unit, locked.unit)
        delta = qty if change > 0 else -qty
        if delta > 0:
            check_storage(locked.material, location)
        entry = post_entry(
            lot=locked,
            entry_type=EntryType.ADJUSTMENT,
            quantity=qty,
            delta=delta,
            user=user,
            location=location,
            reason=reason,
        )
        signature_create(
            signer=user, obj=entry, meaning="approved", reason=reason, action="materials.ledger.adjustment"
        )
        after_stock_change(locked, user)
        return entry


def lot_ship(*, user, lot, location: Location, quantity, unit: str, reference: str = "") -> LedgerEntry:
    """Ship finished goods to a customer: only released, unexpired lots leave the plant."""
    require(user, "materials.move_stock", _("ship goods"))
    with transaction.atomic():
        locked = lock_lot(lot)
        if locked.status != LotStatus.RELEASED or locked.is_expired:
            raise ValidationError(
                _("Lot %(lot)s is %(status)s: only released, unexpired goods can be shipped.")
                % {"lot": locked.code, "status": locked.get_effective_status_display()}
            )
        qty = in_lot_unit(quantity, unit, locked.unit)
        available = on_hand(locked, location)
        if available < qty:
            raise ValidationError(
                _("Not enough stock: %(loc)s holds %(have)s of lot %(lot)s.")
                % {"loc": location.code, "have": fmt(available, locked.unit), "lot": locked.code}
            )
        entry = post_entry(
            lot=locked,
            entry_type=EntryType.SHIPMENT,
            quantity=qty,
            delta=-qty,
            user=user,
            location=location,
            reason=reference,
        )
        after_stock_change(locked, user)
        return entry


# --- Ledger and cache agreement ----------------------------------------------------------------
@dataclass(frozen=True)
class StockMismatch:
    lot_id: int
    location_id: int
    ledger: Decimal
    cached: Decimal


def stock_check() -> list[StockMismatch]:
    """Every (lot, location) whose cached balance differs from the sum of its ledger entries.

    One grouped query over the ledger, compared with the cache; also reports negative sums.
    """
    sql = """
        SELECT COALESCE(l.lot_id, b.lot_id), COALESCE(l.location_id, b.location_id),
               COALESCE(l.total, 0), COALESCE(b.quantity, 0)
        FROM (SELECT lot_id, location_id, SUM(delta) AS total FROM materials_ledgerentry
              WHERE location_id IS NOT NULL GROUP BY lot_id, location_id) l
        FULL OUTER JOIN materials_stockbalance b ON b.lot_id = l.lot_id AND b.location_id = l.location_id
        WHERE COALESCE(l.total, 0) <> COALESCE(b.quantity, 0) OR COALESCE(l.total, 0) < 0
    """
    if connection.vendor == "sqlite":  # no FULL OUTER JOIN before SQLite 3.39 on some systems
        sql = """
            SELECT lot_id, location_id, SUM(ledger), SUM(cached) FROM (
                SELECT lot_id, location_id, delta AS ledger, 0 AS cached FROM materials_ledgerentry
                WHERE location_id IS NOT NULL
                UNION ALL SELECT lot_id, location_id, 0, quantity FROM materials_stockbalance) x
            GROUP BY lot_id, location_id HAVING SUM(ledger) <> SUM(cached) OR SUM(ledger) < 0
        """
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [StockMismatch(r[0], r[1], Decimal(str(r[2])), Decimal(str(r[3]))) for r in cursor.fetchall()]


def location_save(*, user, location: Location, reason: str = "") -> Location:
    """Create or change a storage location (master data; audited with the reason)."""
    require(
        user, "materials.change_location" if location.pk else "materials.add_location", _("change storage locations")
    )
    with transaction.atomic(), audit_context(actor=user, action="materials.location.save", reason=reason):
        location.code = location.code.strip().upper()
        location.save()
    return location
