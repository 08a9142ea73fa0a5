"""Batch release (QC-4, QC-10): every condition listed in words, QC release, then production release by
another person; only then is the output lot released for stock and the ERP notified."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from guardian.shortcuts import assign_perm

from audit.context import audit_context
from audit.services import audit_record
from audit.signatures import signature_check_password, signature_create
from batches import services as batch_services
from batches.models import Batch, BatchStatus
from materials.models import Lot, LotStatus
from materials.services import lot_release
from mes.generated import GeneratedText
from mes.workflow import transition_apply
from quality.events import batch_released
from quality.models import RELEASE_MACHINE, BatchRelease, Inspection, InspectionStatus
from quality.selectors import open_deviations_for
from quality.services.common import require
from quality.services.inspections import TYPE_FOR_MATERIAL
from quality.services.specs import effective_spec

QC_RELEASED = GeneratedText(gettext_noop("QC released batch %(b)s"))
BATCH_RELEASED = GeneratedText(gettext_noop("batch %(b)s released"))

# Until batch execution (issue #7) provides the record review, "reviewed and approved" is read from
# the batch status: the review moves the batch to "reviewed".
REVIEWED_STATES = (BatchStatus.REVIEWED, BatchStatus.QC_RELEASED, BatchStatus.RELEASED)


@dataclass
class Condition:
    """One release condition: its name, whether it is met, and what is wrong in words."""

    code: str
    label: str
    met: bool
    problems: list[str] = field(default_factory=list)
    note: str = ""


def output_lot(batch: Batch) -> Lot | None:
    return Lot.objects.filter(produced_by=batch).select_related("material").order_by("pk").first()


def _record_reviewed(batch: Batch) -> Condition:
    problems = list(batch_services.batch_record_review_problems(batch))
    return Condition("record_reviewed", _("Batch record reviewed and approved"), not problems, problems)


def _steps_signed(batch: Batch) -> Condition:
    # The steps not signed (or not second-person verified where required), in words.
    problems = [_("Step not signed: %(step)s") % {"step": s} for s in batch_services.batch_unsigned_steps(batch)]
    return Condition("steps_signed", _("Every step signed"), not problems, problems)


def _inspections_passed(batch: Batch, lot: Lot | None) -> Condition:
    problems = []
    if lot is None:
        problems.append(_("The batch has no output lot recorded yet."))
    else:
        needed = TYPE_FOR_MATERIAL.get(lot.material.type)
        if needed and effective_spec(lot.material, needed) is None:
            problems.append(
                _("%(material)s has no effective %(type)s specification.")
                % {"material": lot.material.code, "type": needed.label.lower()}
            )
        elif needed:
            passed = Inspection.objects.filter(lot=lot, inspection_type=needed, status=InspectionStatus.PASSED)
            if not passed.exists():
                problems.append(
                    _("The %(type)s inspection of lot %(lot)s has not passed.")
                    % {"type": needed.label.lower(), "lot": lot.code}
                )
    others = Inspection.objects.filter(batch=batch).exclude(
        status__in=(InspectionStatus.PASSED, InspectionStatus.CANCELLED)
    )
    for inspection in others:
        problems.append(
            _("Inspection %(n)s is %(s)s.") % {"n": inspection.number, "s": inspection.get_status_display().lower()}
        )
    return Condition("inspections", _("Every required inspection passed"), not problems, problems)


def _no_open_deviation(batch: Batch, lot: Lot | None) -> Condition:
    devs = list(open_deviations_for("batches.batch", batch.pk))
    if lot is not None:
        devs += [d for d in open_deviations_for("materials.lot", lot.pk) if d not in devs]
    problems = [
        _("Deviation %(n)s (%(cls)s) is %(s)s: %(t)s")
        % {
            "n": d.number,
            "cls": d.get_classification_display().lower(),
            "s": d.get_status_display().lower(),
            "t": d.title,
        }
        for d in devs
    ]
    return Condition("deviations", _("No open deviation on the batch or its output lot"), not problems, problems)


def _lot_usable(lot: Lot | None) -> Condition:
    problems = []
    if lot is not None and lot.is_expired:
        problems.append(_("Lot %(lot)s has expired.") % {"lot": lot.code})
    if lot is not None and lot.status not in (LotStatus.QUARANTINE, LotStatus.RELEASED):
        problems.append(_("Lot %(lot)s is %(s)s.") % {"lot": lot.code, "s": lot.get_effective_status_display().lower()})
    return Condition("lot", _("Output lot not expired, rejected or blocked"), not problems, problems)


def batch_release_check(batch: Batch) -> list[Condition]:
    """Every condition of the QC release, met or not, with the reasons in words (QC-4)."""
    batch = Batch.objects.get(pk=batch.pk)
    lot = output_lot(batch)
    return [
        _record_reviewed(batch),
        _steps_signed(batch),
        _inspections_passed(batch, lot),
        _no_open_deviation(batch, lot),
        _lot_usable(lot),
    ]


def release_problems(batch: Batch) -> list[str]:
    return [p for c in batch_release_check(batch) for p in c.problems]


def batch_qc_release(*, user, batch: Batch, password: str, reason: str = "") -> BatchRelease:
    """QC releases the batch's output lot (signed) when every condition is met."""
    require(user, "quality.qc_release_batch", _("QC-release batches"))
    if BatchRelease.objects.filter(batch_id=batch.pk).exists():
        raise ValidationError(_("Batch %(b)s is already QC released.") % {"b": batch.number})
    problems = release_problems(batch)
    if problems:
        raise ValidationError(problems)
    signature_check_password(user=user, password=password, purpose="quality.batchrelease.qc_release")
    with transaction.atomic():
        locked = Batch.objects.select_for_update().get(pk=batch.pk)
        if BatchRelease.objects.filter(batch=locked).exists():
            raise ValidationError(_("Batch %(b)s is already QC released.") % {"b": locked.number})
        problems = release_problems(locked)  # again, under the lock
        if problems:
            raise ValidationError(problems)
        lot = output_lot(locked)
        conditions = [{"code": c.code, "label": str(c.label), "met": c.met} for c in batch_release_check(locked)]
        with audit_context(actor=user, action="quality.batchrelease.qc_release", reason=reason):
            release = BatchRelease.objects.create(
                batch=locked,
                lot=lot,
                qc_released_by=user,
                qc_released_at=timezone.now(),
                conditions=conditions,
            )
        signature_create(
            signer=user, obj=release, meaning="released", reason=reason, action="quality.batchrelease.qc_release"
        )
        # The production supervisors may now release this one lot in the materials app (object permission):
        # least privilege, no general right to release material lots.
        assign_perm("materials.release_lot", Group.objects.get(name="supervisor"), lot)
        audit_record(
            action="quality.batchrelease.grant_lot_release",
            actor=user,
            obj=lot,
            new={"group": "supervisor", "permission": "materials.release_lot"},
            reason=QC_RELEASED % {"b": locked.number},
        )
        batch_services.batch_on_qc_release(batch=locked, user=user)
        return release


def batch_production_release(*, user, batch: Batch, password: str, reason: str = "") -> BatchRelease:
    """The production supervisor, not the QC releaser, releases; the lot becomes available; the ERP is told."""
    require(user, "quality.production_release_batch", _("production-release batches"))
    release = BatchRelease.objects.filter(batch_id=batch.pk).first()
    if release is None:
        raise ValidationError(_("Batch %(b)s must be QC released first.") % {"b": batch.number})

    def guard(obj: BatchRelease) -> None:
        if obj.qc_released_by_id == user.pk:
            raise ValidationError(_("The person who QC released the batch cannot also give the production release."))
        problems = [p for c in batch_release_check(obj.batch) if c.code != "lot" for p in c.problems]
        if problems:
            raise ValidationError(problems)

    def release_lot(obj: BatchRelease) -> None:
        lot_release(user=user, lot=obj.lot, password=password, reason=BATCH_RELEASED % {"b": obj.batch.number})
        batch_released.announce(release=obj)  # e.g. the ERP learns the lot is released (outbox)
        batch_services.batch_on_release(batch=obj.batch, user=user)

    return transition_apply(
        model=BatchRelease,
        pk=release.pk,
        machine=RELEASE_MACHINE,
        name="release",
        user=user,
        password=password,
        reason=reason,
        guard=guard,
        changes={"released_by": user, "released_at": timezone.now()},
        after=release_lot,
    )
