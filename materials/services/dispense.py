"""Weigh & dispense (issue 19): a container weighed on a balance becomes an issue to the batch.

`dispense_capture` takes the weight from the balance (stable net, the tare it holds, its serial
number and the raw answers), refuses a net weight below the balance's minimum weight, and books
the issue through the same checks as every issue (right lot, released, in date, in tolerance):
one transaction writes the ledger entry, the genealogy edge (lot -> batch) and the DispenseEntry.
A weight captured from a qualified balance is the independent check, so no second person signs
it; a manual entry is the exception: reason, second person with password, flagged for review.
Every refusal is in the audit trail as `materials.dispense_refused`.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.context import audit_context
from audit.services import audit_record
from audit.signatures import SignatureError
from equipment.balances import BalanceError
from equipment.models import Balance
from equipment.services.balance import Capture, balance_capture
from materials.batch_source import Batch
from materials.labels_dispense import dispense_label_pdf, dispense_label_zpl, send_to_printer
from materials.models import DispenseEntry
from materials.requirements import Requirement
from materials.services.common import fmt, parse_scan, require, to_decimal
from materials.services.issue import _issue, issued_to_batch, line_limits
from mes.units import convert

ISSUE = "materials.issue_material"
REFUSALS = (ValidationError, PermissionDenied, SignatureError, BalanceError)


def _refused(*, user, batch: Batch, code: str, req: Requirement, exc: Exception, extra: dict) -> ValidationError:
    """Audit a refused weighing (own transaction) and return it as a ValidationError to raise."""
    message = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
    with transaction.atomic():
        audit_record(
            action="materials.dispense_refused",
            actor=user,
            obj=batch,
            reason=message,
            new={
                "lot": code,
                "material": req.material.code if req.material else "",
                "raw": getattr(exc, "raw", "")[:500],
                **extra,
            },
        )
    return exc if isinstance(exc, ValidationError | PermissionDenied) else ValidationError(message)


def _check_minimum(net: Decimal, unit: str, balance: Balance | None) -> None:
    if net <= 0:
        raise ValidationError(_("Nothing is on the balance: add the material, then capture."))
    if balance is None:
        return
    m = balance.metrology
    if net < m.minimum_weight:
        raise ValidationError(
            _(
                "Below the minimum weight: %(net)s is less than %(min)s, the smallest net quantity balance %(code)s "
                "weighs accurately. Use a more precise balance."
            )
            % {"net": fmt(net, unit), "min": fmt(m.minimum_weight, m.unit), "code": balance.equipment.code}
        )


def dispense_window(*, batch: Batch, requirement: Requirement, unit: str) -> tuple[Decimal, Decimal]:
    """The net weight the next container may have (in `unit`) for the line to end within tolerance:
    the same arithmetic as the issue's quantity check, so the booth's display agrees with it."""
    _target, low, high = line_limits(requirement, unit)
    material = requirement.material
    done = convert(issued_to_batch(batch, material=material), material.unit, unit)
    return max(low - done, Decimal(0)), max(high - done, Decimal(0))


def dispense_capture(*, user, batch: Batch, requirement, lot_code: str, balance: Balance) -> DispenseEntry:
    """Capture the stable net weight on `balance` into the scanned lot's issue for this line."""
    req = Requirement.of(requirement)
    code = parse_scan(lot_code)
    cap: Capture | None = None
    try:
        require(user, ISSUE, _("issue material to batches"))
        cap = balance_capture(balance=balance)
        if cap.tare <= 0:
            raise ValidationError(_("No container tared: put the empty container on the balance and press Tare."))
        _check_minimum(cap.net, cap.unit, balance)
        return _record(
            user=user,
            batch=batch,
            req=Requirement(req.material, req.quantity, req.unit, req.tolerance_pct, False, req.line_ref),
            code=code,
            values={
                "gross": cap.gross,
                "tare": cap.tare,
                "net": cap.net,
                "unit": cap.unit,
                "balance": balance.equipment,
                "balance_serial": cap.serial,
                "read_at": cap.at,
                "raw": cap.raw,
            },
        )
    except REFUSALS as exc:
        extra = {"balance": balance.equipment.code, "net": str(cap.net) if cap else "", "unit": cap.unit if cap else ""}
        refusal = _refused(user=user, batch=batch, code=code, req=req, exc=exc, extra=extra)
        if refusal is exc:
            raise
        raise refusal from exc


def dispense_manual(
    *,
    user,
    batch: Batch,
    requirement,
    lot_code: str,
    gross,
    tare,
    unit: str,
    reason: str,
    verifier,
    verifier_password: str,
    balance: Balance | None = None,
) -> DispenseEntry:
    """A weight typed by exception (balance down): reason and a second person's signature required."""
    req = Requirement.of(requirement)
    code = parse_scan(lot_code)
    try:
        require(user, ISSUE, _("issue material to batches"))
        reason = (reason or "").strip()
        if not reason:
            raise ValidationError(_("Say why the weight is typed instead of captured from the balance."))
        if verifier is None:
            raise ValidationError(_("A typed weight needs a second person to check it and sign."))
        gross, tare = to_decimal(gross), to_decimal(tare)
        net = gross - tare
        if tare < 0:
            raise ValidationError(_("The tare cannot be negative."))
        if balance is not None and unit != balance.metrology.unit:
            raise ValidationError(
                _("Enter the weights in %(unit)s, as the balance shows them.") % {"unit": balance.metrology.unit}
            )
        _check_minimum(net, unit, balance)
        return _record(
            user=user,
            batch=batch,
            req=Requirement(req.material, req.quantity, req.unit, req.tolerance_pct, True, req.line_ref),
            code=code,
            values={
                "gross": gross,
                "tare": tare,
                "net": net,
                "unit": unit,
                "balance": balance.equipment if balance is not None else None,
                "manual": True,
                "manual_reason": reason,
            },
            verifier=verifier,
            verifier_password=verifier_password,
        )
    except REFUSALS as exc:
        extra = {"manual": True, "gross": str(gross), "tare": str(tare), "unit": unit}
        refusal = _refused(user=user, batch=batch, code=code, req=req, exc=exc, extra=extra)
        if refusal is exc:
            raise
        raise refusal from exc


def _record(*, user, batch, req, code, values: dict, verifier=None, verifier_password=None) -> DispenseEntry:
    """The issue (ledger, genealogy, outbox) and the dispense record, in one transaction."""
    with transaction.atomic():
        entry = _issue(
            user=user,
            batch=batch,
            code=code,
            quantity=values["net"],
            unit=values["unit"],
            req=req,
            verifier=verifier,
            verifier_password=verifier_password,
            location=None,
        )
        # The lot row is locked by the issue: the container number is taken without a race.
        number = DispenseEntry.objects.filter(lot=entry.lot).count() + 1
        with audit_context(actor=user, action="materials.dispense.record", reason=values.get("manual_reason", "")):
            return DispenseEntry.objects.create(
                container_code=f"{entry.lot.code}/D{number:03d}",
                batch=batch,
                lot=entry.lot,
                ledger_entry=entry,
                line_ref=req.line_ref,
                target=req.quantity,
                target_unit=req.unit,
                tolerance_pct=req.tolerance_pct,
                weighed_by=user,
                verified_by=verifier if values.get("manual") else None,
                created_at=timezone.now(),
                **values,
            )


def dispense_label(*, user, entry: DispenseEntry, reason: str = "", send: bool = True) -> tuple[bytes, str]:
    """The container's label: PDF and ZPL; the ZPL goes to the label printer (TCP 9100). A second
    print is a re-print and needs a reason. Returns (pdf, zpl)."""
    require(user, ISSUE, _("print dispensing labels"))  # the person dispensing labels the container
    reason = (reason or "").strip()
    with transaction.atomic():
        locked = DispenseEntry.objects.select_for_update().get(pk=entry.pk)
        reprint = locked.labels_printed > 0
        if reprint and not reason:
            raise ValidationError(_("This container's label was printed before: say why it is printed again."))
        locked = DispenseEntry.objects.select_related("lot", "lot__material", "batch", "weighed_by", "balance").get(
            pk=entry.pk
        )
        zpl = dispense_label_zpl(locked, printed_by=user, reprint=reprint)
        if send:
            send_to_printer(zpl)  # before the record: a label that did not print is not counted
        locked.labels_printed += 1
        with audit_context(actor=user, action="materials.dispense.label", reason=reason):
            locked.save()
    return dispense_label_pdf(locked, printed_by=user, reprint=reprint), zpl


def dispense_entries(batch: Batch) -> list[DispenseEntry]:
    """The batch's dispensed containers, newest first (one query)."""
    return list(
        DispenseEntry.objects.filter(batch=batch)
        .select_related("lot", "lot__material", "balance", "weighed_by", "verified_by")
        .order_by("-created_at", "-id")
    )
