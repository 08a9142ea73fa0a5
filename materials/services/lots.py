"""Lots: goods receipt, the status actions QC and the warehouse take, and label printing."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.context import audit_context
from materials.events import lot_created, lot_release_vetoes, lot_status_changed
from materials.models import LOT_MACHINE, EntryType, LabelPrint, Location, Lot, LotCounter, LotStatus, Material
from materials.services.common import check_storage, in_lot_unit, lot_pk, require
from materials.services.stock import post_entry
from mes.workflow import transition_apply

LOT_PREFIX = {"raw": "R", "packaging": "P", "intermediate": "I", "finished": "F"}


def next_lot_code(material: Material, on_date: dt.date | None = None) -> str:
    """A new internal lot number: type letter, date, running number of the day (R261128-0001)."""
    on_date = on_date or timezone.localdate()
    key = f"{LOT_PREFIX.get(material.type, 'L')}{on_date:%y%m%d}"
    with transaction.atomic():
        counter, _created = LotCounter.objects.select_for_update().get_or_create(key=key)
        counter.value += 1
        counter.save(update_fields=["value"])
    return f"{key}-{counter.value:04d}"


def _dates(material: Material, manufacture_date, expiry_date, retest_date):
    base = manufacture_date or timezone.localdate()
    if expiry_date is None:
        if not material.shelf_life_days:
            raise ValidationError(_("Enter the expiry date printed on the supplier's label."))
        expiry_date = base + dt.timedelta(days=material.shelf_life_days)
    if retest_date is None and material.retest_days:
        retest_date = min(base + dt.timedelta(days=material.retest_days), expiry_date)
    if manufacture_date and expiry_date <= manufacture_date:
        raise ValidationError(_("The expiry date must be after the manufacture date."))
    if expiry_date < timezone.localdate():
        raise ValidationError(_("This material expired on %(date)s: it cannot be received.") % {"date": expiry_date})
    if retest_date and retest_date > expiry_date:
        raise ValidationError(_("The retest date cannot be after the expiry date."))
    return expiry_date, retest_date


def lot_receive(
    *,
    user,
    material: Material,
    quantity,
    unit: str,
    location: Location,
    supplier: str = "",
    supplier_lot: str = "",
    manufacture_date=None,
    expiry_date=None,
    retest_date=None,
    containers: int = 1,
    reference: str = "",
) -> Lot:
    """Goods receipt: a new lot in quarantine with its receipt entry in the ledger.

    The same service serves the receipt form and receipts arriving from WMS/ERP. The expiry date
    defaults to manufacture date + shelf life when the supplier gives none.
    """
    require(user, "materials.receive_lot", _("receive goods"))
    if not material.active:
        raise ValidationError(_("Material %(code)s is not active.") % {"code": material.code})
    if containers is None or int(containers) < 1:
        raise ValidationError(_("A receipt has at least one container."))
    check_storage(material, location)
    qty = in_lot_unit(quantity, unit, material.unit)
    expiry_date, retest_date = _dates(material, manufacture_date, expiry_date, retest_date)
    with transaction.atomic():
        code = next_lot_code(material)
        with audit_context(actor=user, action="materials.lot.receive"):
            lot = Lot.objects.create(
                code=code,
                material=material,
                status=LotStatus.QUARANTINE,
                supplier=supplier.strip(),
                supplier_lot=supplier_lot.strip(),
                quantity_received=qty,
                unit=material.unit,
                containers=int(containers),
                manufacture_date=manufacture_date,
                expiry_date=expiry_date,
                retest_date=retest_date,
                reference=reference.strip(),
                received_at=timezone.now(),
                received_by=user,
            )
        post_entry(
            lot=lot,
            entry_type=EntryType.RECEIPT,
            quantity=qty,
            delta=qty,
            user=user,
            location=location,
            reason=reference.strip(),
        )
        # Quality (issue #6) gives the received lot its incoming inspection, in this transaction.
        lot_created.announce(lot=lot, user=user)
    return lot


def _not_expired(lot: Lot) -> None:
    if lot.is_expired:
        raise ValidationError(
            _("Lot %(lot)s expired on %(date)s: it cannot be released.") % {"lot": lot.code, "date": lot.expiry_date}
        )


def _releasable(lot: Lot) -> None:
    _not_expired(lot)
    # Quality (issue #6, MAT-3) vetoes a release while an inspection is open or failed or a deviation on
    # the lot is open; a batch's output lot goes only through the batch release.
    problems = lot_release_vetoes(lot)
    if problems:
        raise ValidationError(problems)


def lot_release(*, user, lot, password: str, reason: str = "") -> Lot:
    """QC releases a quarantined lot for use (signed: "released")."""
    return transition_apply(
        model=Lot,
        pk=lot_pk(lot),
        machine=LOT_MACHINE,
        name="release",
        user=user,
        reason=reason,
        password=password,
        guard=_releasable,
        changes={"status_reason": reason},
        after=_announce_status,
    )


def _announce_status(lot: Lot) -> None:
    """Announced in the transition's transaction (mes.events); the WMS, for one, learns the new status."""
    lot_status_changed.announce(lot=lot)


def lot_reject(*, user, lot, password: str, reason: str) -> Lot:
    """QC rejects a lot (signed: "rejected", with the reason). A rejected lot is never used."""
    return transition_apply(
        model=Lot,
        pk=lot_pk(lot),
        machine=LOT_MACHINE,
        name="reject",
        user=user,
        reason=reason,
        password=password,
        changes={"status_reason": reason, "blocked_from": ""},
    )


def lot_block(*, user, lot, reason: str) -> Lot:
    """Stop all use of a lot at once (complaint, suspected damage, investigation)."""
    pk = lot_pk(lot)
    current = Lot.objects.values_list("status", flat=True).get(pk=pk)
    return transition_apply(
        model=Lot,
        pk=pk,
        machine=LOT_MACHINE,
        name="block",
        user=user,
        reason=reason,
        changes={"blocked_from": current, "status_reason": reason},
    )


def lot_unblock(*, user, lot, password: str, reason: str) -> Lot:
    """Lift a block (signed): the lot goes back to the status it was blocked from."""
    pk = lot_pk(lot)
    blocked_from = Lot.objects.values_list("blocked_from", flat=True).get(pk=pk)
    name = "unblock" if blocked_from == LotStatus.RELEASED else "unblock_quarantine"

    def same_origin(obj: Lot) -> None:  # the lot may have changed since it was read
        if obj.blocked_from != blocked_from:
            raise ValidationError(_("The lot changed meanwhile; open it again."))

    return transition_apply(
        model=Lot,
        pk=pk,
        machine=LOT_MACHINE,
        name=name,
        user=user,
        reason=reason,
        password=password,
        guard=same_origin,
        changes={"blocked_from": "", "status_reason": reason},
    )


def lot_actions(lot: Lot, user) -> list:
    """The status actions the page may offer this user (the two unblock variants shown as one)."""
    actions = LOT_MACHINE.available(lot, user)
    wanted_unblock = "unblock" if lot.blocked_from == LotStatus.RELEASED else "unblock_quarantine"
    return [
        t
        for t in actions
        if t.name not in ("consume", "restock") and (not t.name.startswith("unblock") or t.name == wanted_unblock)
    ]


def lot_print_labels(*, user, lot, containers: list[int] | None = None, reason: str = "") -> tuple[Lot, LabelPrint]:
    """Record a printing of lot labels; a re-print needs a reason. Returns the lot and the record."""
    require(user, "materials.print_label", _("print labels"))
    with transaction.atomic():
        locked = Lot.objects.select_for_update().select_related("material").get(pk=lot_pk(lot))
        numbers = sorted(set(containers or range(1, locked.containers + 1)))
        if not numbers or numbers[0] < 1 or numbers[-1] > locked.containers:
            raise ValidationError(
                _("Lot %(lot)s has containers 1 to %(n)s.") % {"lot": locked.code, "n": locked.containers}
            )
        reprint = LabelPrint.objects.filter(lot=locked).exists()
        reason = (reason or "").strip()
        if reprint and not reason:
            raise ValidationError(_("These labels were printed before: give the reason for printing them again."))
        action = "materials.label.reprint" if reprint else "materials.label.print"
        with audit_context(actor=user, action=action, reason=reason):
            record = LabelPrint.objects.create(
                lot=locked, containers=",".join(map(str, numbers)), reprint=reprint, reason=reason, printed_by=user
            )
    return locked, record
