"""Nonconforming product: a rejected or held lot gets a disposition — rework, scrap or destruction (QC-2)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.context import audit_context
from audit.signatures import signature_check_password
from materials.models import Lot, LotStatus, StockBalance
from materials.services import lot_adjust
from mes.workflow import transition_apply
from quality.models import DISPOSITION_MACHINE, Disposition, DispositionKind, DispositionStatus
from quality.models.common import next_number
from quality.services.common import require

NONCONFORMING = (LotStatus.REJECTED, LotStatus.BLOCKED)


def disposition_propose(
    *, user, lot, kind: str, instruction: str, inspection_id: int | None = None, deviation_id: int | None = None
) -> Disposition:
    """QC proposes what happens to a nonconforming lot (rejected, or blocked for investigation)."""
    require(user, "quality.add_disposition", _("propose dispositions"))
    if kind not in DispositionKind.values:
        raise ValidationError({"kind": _("Choose rework, scrap or destruction.")})
    if not (instruction or "").strip():
        raise ValidationError({"instruction": _("Write the instruction to follow.")})
    with transaction.atomic():
        locked = Lot.objects.select_for_update().get(pk=lot.pk)
        if locked.status not in NONCONFORMING:
            raise ValidationError(
                _("Lot %(lot)s is %(s)s: only a rejected or held lot is nonconforming product.")
                % {"lot": locked.code, "s": locked.get_status_display().lower()}
            )
        if Disposition.objects.filter(lot=locked, status__in=("proposed", "approved")).exists():
            raise ValidationError(_("Lot %(lot)s already has a disposition in progress.") % {"lot": locked.code})
        with audit_context(actor=user, action="quality.disposition.propose"):
            return Disposition.objects.create(
                number=next_number("NCR"),
                lot=locked,
                inspection_id=inspection_id,
                deviation_id=deviation_id,
                kind=kind,
                instruction=instruction.strip(),
                proposed_by=user,
            )


def disposition_approve(*, user, disposition_id: int, password: str, reason: str = "") -> Disposition:
    """QA approves the disposition (and, for rework, the rework instruction); not the proposer."""

    def guard(obj: Disposition) -> None:
        if obj.proposed_by_id == user.pk:
            raise ValidationError(_("The person who proposed a disposition cannot approve it."))

    return transition_apply(
        model=Disposition,
        pk=disposition_id,
        machine=DISPOSITION_MACHINE,
        name="approve",
        user=user,
        password=password,
        reason=reason,
        guard=guard,
        changes={"approved_by": user},
    )


def disposition_execute(*, user, disposition_id: int, password: str, reason: str = "") -> Disposition:
    """Carry out an approved scrap or destruction (signed): every stock of the lot is written off through
    the materials ledger (a signed adjustment per location); the lot stays rejected."""
    disposition = Disposition.objects.select_related("lot").get(pk=disposition_id)
    if disposition.kind == DispositionKind.REWORK:
        raise ValidationError(_("A rework is carried out by a rework batch, not written off."))
    if disposition.lot.status != LotStatus.REJECTED:
        raise ValidationError(_("Reject the lot before it is scrapped or destroyed."))
    note = reason or _("%(kind)s under %(n)s") % {"kind": disposition.get_kind_display(), "n": disposition.number}
    # The password is checked once before the transaction, so a wrong one stays audited.
    signature_check_password(user=user, password=password, purpose="quality.disposition.execute")
    with transaction.atomic():
        total = 0
        balances = StockBalance.objects.filter(lot_id=disposition.lot_id, quantity__gt=0).select_related("location")

        def write_off(obj: Disposition) -> None:
            nonlocal total
            for balance in list(balances):
                lot_adjust(
                    user=user,
                    lot=obj.lot,
                    location=balance.location,
                    quantity=-balance.quantity,
                    unit=obj.lot.unit,
                    reason=note,
                    password=password,
                )
                total += balance.quantity

        obj = transition_apply(
            model=Disposition,
            pk=disposition_id,
            machine=DISPOSITION_MACHINE,
            name="execute",
            user=user,
            password=password,
            reason=note,
            changes={"done_by": user, "done_at": timezone.now()},
            after=write_off,
        )
        obj.quantity_written_off = total
        with audit_context(actor=user, action="quality.disposition.written_off", reason=note):
            obj.save()
        return obj


def disposition_lock_for_rework(disposition_id: int) -> Disposition:
    """For batch execution: the disposition a rework batch is started under, locked in the caller's
    transaction (the batches app checks it is an approved rework disposition)."""
    return Disposition.objects.select_for_update().select_related("lot__material").get(pk=disposition_id)


def disposition_rework_started(*, user, disposition_id: int, batch, reason: str = "") -> Disposition:
    """For batch execution (issue #7): record the rework batch made under an approved rework disposition."""

    def guard(obj: Disposition) -> None:
        if not user.has_perm("batches.prepare_batch"):
            raise PermissionDenied(_("Only the production supervisor starts a rework batch."))
        if obj.kind != DispositionKind.REWORK:
            raise ValidationError(_("Only a rework disposition leads to a rework batch."))

    return transition_apply(
        model=Disposition,
        pk=disposition_id,
        machine=DISPOSITION_MACHINE,
        name="rework_started",
        user=user,
        reason=reason,
        guard=guard,
        changes={"rework_batch": batch, "done_by": user, "done_at": timezone.now()},
    )


def disposition_cancel(*, user, disposition_id: int, password: str, reason: str) -> Disposition:
    return transition_apply(
        model=Disposition,
        pk=disposition_id,
        machine=DISPOSITION_MACHINE,
        name="cancel",
        user=user,
        password=password,
        reason=reason,
    )


def approved_rework(lot) -> Disposition | None:
    """The approved rework disposition of a lot waiting for its rework batch (for the batch issue)."""
    return Disposition.objects.filter(lot=lot, kind=DispositionKind.REWORK, status=DispositionStatus.APPROVED).first()
