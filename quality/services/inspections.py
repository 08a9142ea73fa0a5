"""Inspection services: create (automatically on receipt/output, or by hand), samples, results judged
against the limits (OOS opens a deviation), corrections with a reason, signed completion, lot decision."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from audit.context import audit_context
from audit.signatures import signature_check_password
from materials.models import Lot, LotStatus
from materials.services import lot_block, lot_reject, lot_release
from mes.generated import GeneratedText, english
from mes.workflow import transition_apply
from quality.events import inspection_opened, sample_taken
from quality.models import (
    INSPECTION_MACHINE,
    BatchRelease,
    Inspection,
    InspectionOrigin,
    InspectionSample,
    InspectionStatus,
    InspectionType,
    LimitKind,
    LotDecision,
    ReleaseStatus,
    Result,
    SpecStatus,
    TestItem,
)
from quality.models.common import next_number
from quality.models.inspections import result_shown
from quality.models.specs import test_name_shown
from quality.selectors import open_deviations_for
from quality.services.common import require
from quality.services.deviations import Link, deviation_raise
from quality.services.specs import effective_spec

# Stored in English, shown in the reader's language (mes.generated): the test by its Chinese name, the
# result, the limit and the inspection type in Chinese for a reader of Chinese.
_OOS_SHOWN = {"test": test_name_shown, "value": result_shown, "limit": result_shown}
OOS_DESCRIPTION = GeneratedText(
    gettext_noop(
        "%(test)s result %(value)s is outside the limit %(limit)s "
        "(inspection %(n)s, specification %(material)s · %(type)s v%(v)s)."
    ),
    words=("type",),
    shown=_OOS_SHOWN,
)
# Deviations raised before the specification was stored by its parts: still read in the reader's language.
OOS_DESCRIPTION_BEFORE_2026_12 = GeneratedText(
    gettext_noop(
        "%(test)s result %(value)s is outside the limit %(limit)s (inspection %(n)s, specification %(spec)s)."
    ),
    shown=_OOS_SHOWN,
)
OOS_TITLE = GeneratedText(gettext_noop("OOS: %(test)s of lot %(lot)s"), shown={"test": test_name_shown})

# Which inspection a new lot needs, by material type (a batch's output lot by its product's type).
TYPE_FOR_MATERIAL = {
    "raw": InspectionType.INCOMING,
    "packaging": InspectionType.INCOMING,
    "intermediate": InspectionType.INTERMEDIATE,
    "finished": InspectionType.FINISHED,
}


def _lot_link(lot: Lot) -> Link:
    return Link("materials.lot", lot.pk, f"{lot.code} ({lot.material.code})")


def _create(*, user, lot: Lot, inspection_type: str, origin: str) -> Inspection:
    spec = effective_spec(lot.material, inspection_type)
    if spec is None:
        raise ValidationError(
            _("%(material)s has no effective %(type)s specification. Approve one first.")
            % {"material": lot.material.code, "type": InspectionType(inspection_type).label.lower()}
        )
    if Inspection.objects.filter(lot=lot, inspection_type=inspection_type, status__in=("due", "in_testing")).exists():
        raise ValidationError(_("Lot %(lot)s already has an open inspection of this type.") % {"lot": lot.code})
    with audit_context(actor=user, action="quality.inspection.create", reason=str(InspectionOrigin(origin).label)):
        inspection = Inspection.objects.create(
            number=next_number("INS"),
            lot=lot,
            batch_id=lot.produced_by_id,
            specification=spec,
            inspection_type=inspection_type,
            origin=origin,
            created_by=user,
        )
    inspection_opened.announce(inspection=inspection)  # e.g. the LIMS plans its tests (outbox)
    return inspection


def inspection_create(*, user, lot, inspection_type: str) -> Inspection:
    """QC creates an inspection of a lot by hand (re-test, in-process check, a lot received without one)."""
    require(user, "quality.add_inspection", _("create inspections"))
    if inspection_type not in InspectionType.values:
        raise ValidationError({"inspection_type": _("Choose the inspection type.")})
    with transaction.atomic():
        locked = Lot.objects.select_for_update().select_related("material").get(pk=lot.pk)
        return _create(user=user, lot=locked, inspection_type=inspection_type, origin=InspectionOrigin.MANUAL)


def inspection_for_new_lot(*, user, lot) -> Inspection | None:
    """When a lot is received or a batch's output lot is recorded (materials' `lot_created`, see
    quality/subscribers.py).

    Creates the inspection the lot needs (incoming for a receipt; intermediate or finished for a batch
    output) when its material has an effective specification; otherwise nothing (the QC worklist shows
    lots in quarantine without inspection). Runs inside the caller's transaction, as the caller's user:
    the receipt or output itself was authorised there.
    """
    lot = Lot.objects.select_related("material").get(pk=lot.pk)
    inspection_type = TYPE_FOR_MATERIAL.get(lot.material.type)
    if lot.produced_by_id is None and lot.material.type in ("intermediate", "finished"):
        inspection_type = InspectionType.INCOMING  # bought-in intermediate or product
    if inspection_type is None or effective_spec(lot.material, inspection_type) is None:
        return None
    origin = InspectionOrigin.BATCH_OUTPUT if lot.produced_by_id else InspectionOrigin.RECEIPT
    return _create(user=user, lot=lot, inspection_type=inspection_type, origin=origin)


# --- samples and results -------------------------------------------------------------------------


def _locked_open(inspection_id: int) -> Inspection:
    inspection = Inspection.objects.select_for_update().select_related("lot__material").get(pk=inspection_id)
    if not inspection.is_open:
        raise ValidationError(
            _("Inspection %(n)s is %(s)s: results can no longer be entered.")
            % {"n": inspection.number, "s": inspection.get_status_display().lower()}
        )
    return inspection


def _start_if_due(inspection: Inspection, user) -> None:
    if inspection.status == InspectionStatus.DUE:
        transition_apply(model=Inspection, pk=inspection.pk, machine=INSPECTION_MACHINE, name="start", user=user)
        inspection.refresh_from_db()


def sample_take(*, user, inspection_id: int, quantity, unit: str, container: str = "") -> InspectionSample:
    """Record a sample taken from the lot (starts the inspection)."""
    require(user, "quality.enter_result", _("enter inspection results"))
    try:
        qty = Decimal(str(quantity))
    except (InvalidOperation, TypeError):
        raise ValidationError({"quantity": _("Enter the sample quantity as a number.")}) from None
    if qty <= 0:
        raise ValidationError({"quantity": _("The sample quantity must be more than zero.")})
    with transaction.atomic():
        inspection = _locked_open(inspection_id)
        _start_if_due(inspection, user)
        n = inspection.samples.count() + 1
        with audit_context(actor=user, action="quality.inspection.sample"):
            sample = InspectionSample.objects.create(
                inspection=inspection,
                code=f"{inspection.number}-S{n}",
                quantity=qty,
                unit=unit,
                container=container.strip(),
                taken_by=user,
            )
        sample_taken.announce(sample=sample)  # e.g. the LIMS learns the sample's label code (outbox)
        return sample


def judge(item: TestItem, *, value=None, passed=None, text: str = "") -> dict:
    """The stored fields of a result for `item` and whether it conforms to the limit."""
    if item.kind == LimitKind.NUMERIC:
        if value in (None, ""):
            raise ValidationError({"value": _("Enter the measured value of %(test)s.") % {"test": item.display_name}})
        try:
            number = Decimal(str(value).replace(",", "."))
        except InvalidOperation:
            raise ValidationError({"value": _("“%(v)s” is not a number.") % {"v": value}}) from None
        return {"value_numeric": number, "value_text": "", "passed": None, "conforms": item.judge_numeric(number)}
    if passed is None:
        raise ValidationError({"passed": _("Choose whether %(test)s conforms.") % {"test": item.display_name}})
    return {"value_numeric": None, "value_text": (text or "").strip(), "passed": bool(passed), "conforms": bool(passed)}


def _raise_oos(user, inspection: Inspection, result: Result) -> None:
    """An out-of-specification result opens a deviation at once (source OOS, major)."""
    item = result.item
    links = [_lot_link(inspection.lot), Link("quality.inspection", inspection.pk, inspection.number)]
    if inspection.batch_id:
        links.append(Link("batches.batch", inspection.batch_id, str(inspection.batch)))
    spec = inspection.specification
    with translation.override("en"):  # the stored sentence is English whoever entered the result
        limit = item.limit_text
    deviation = deviation_raise(
        user=user,
        title=OOS_TITLE(test=item.name, lot=inspection.lot.code),
        description=OOS_DESCRIPTION(
            test=item.name,
            value=result.stored_value,
            limit=limit,
            n=inspection.number,
            material=spec.material.code,
            type=english(InspectionType(spec.inspection_type).label),
            v=spec.version,
        ),
        source="oos",
        classification="major",
        links=links,
    )
    result.deviation = deviation
    with audit_context(actor=user, action="quality.result.oos", reason=deviation.number):
        result.save()


def result_enter(
    *, user, inspection_id: int, item_id: int, value=None, passed=None, text: str = "", sample_id=None
) -> Result:
    """Enter the first result of a test; judged against its limit; out of specification opens an OOS deviation."""
    require(user, "quality.enter_result", _("enter inspection results"))
    with transaction.atomic():
        inspection = _locked_open(inspection_id)
        _require_effective_spec(inspection)
        item = inspection.specification.items.get(pk=item_id, removed=False)
        if inspection.results.filter(item=item, current=True).exists():
            raise ValidationError(
                _("%(test)s already has a result. Correct it with a reason instead.") % {"test": item.display_name}
            )
        fields = judge(item, value=value, passed=passed, text=text)
        _start_if_due(inspection, user)
        with audit_context(actor=user, action="quality.result.enter"):
            result = Result.objects.create(
                inspection=inspection, item=item, sample_id=sample_id, entered_by=user, **fields
            )
        if not result.conforms:
            _raise_oos(user, inspection, result)
        return result


def result_correct(*, user, result_id: int, reason: str, value=None, passed=None, text: str = "") -> Result:
    """Correct a result: the old one is kept (no longer current), the new one records the reason."""
    require(user, "quality.enter_result", _("enter inspection results"))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("A correction needs a reason.")})
    with transaction.atomic():
        old = Result.objects.select_for_update().select_related("item").get(pk=result_id)
        inspection = _locked_open(old.inspection_id)
        _require_effective_spec(inspection)
        if not old.current:
            raise ValidationError(_("This result was already corrected; correct the current one."))
        fields = judge(old.item, value=value, passed=passed, text=text)
        with audit_context(actor=user, action="quality.result.correct", reason=reason):
            old.current = False
            old.save()
            new = Result.objects.create(
                inspection=inspection,
                item=old.item,
                sample_id=old.sample_id,
                entered_by=user,
                replaces=old,
                correction_reason=reason,
                deviation=old.deviation,  # an OOS stays under investigation even if the value is corrected
                **fields,
            )
        if not new.conforms and new.deviation_id is None:
            _raise_oos(user, inspection, new)
        return new


# --- completion and the lot decision -------------------------------------------------------------


def inspection_missing(inspection: Inspection) -> list[TestItem]:
    done = set(inspection.results.filter(current=True).values_list("item_id", flat=True))
    return [i for i in inspection.specification.items.filter(removed=False) if i.pk not in done]


def inspection_complete(
    *, user, inspection_id: int, password: str, conclusion: str = "", reason: str = ""
) -> Inspection:
    """Sign the inspection complete: passed when every test has a result within limits, otherwise failed."""
    inspection = Inspection.objects.select_related("specification").get(pk=inspection_id)
    _require_effective_spec(inspection)
    missing = inspection_missing(inspection)
    if missing:
        raise ValidationError(
            _("Enter every result before completing. Missing: %(tests)s.")
            % {"tests": ", ".join(i.display_name for i in missing)}
        )
    failed = inspection.results.filter(current=True, conforms=False).exists()

    def guard(obj: Inspection) -> None:
        _require_effective_spec(obj)
        if inspection_missing(obj):
            raise ValidationError(_("Results changed meanwhile; open the inspection again."))

    return transition_apply(
        model=Inspection,
        pk=inspection_id,
        machine=INSPECTION_MACHINE,
        name="fail" if failed else "pass",
        user=user,
        password=password,
        reason=reason,
        guard=guard,
        changes={"conclusion": (conclusion or "").strip(), "completed_by": user, "completed_at": timezone.now()},
    )


def inspection_cancel(*, user, inspection_id: int, password: str, reason: str) -> Inspection:
    return transition_apply(
        model=Inspection,
        pk=inspection_id,
        machine=INSPECTION_MACHINE,
        name="cancel",
        user=user,
        password=password,
        reason=reason,
    )


def lot_release_problems(lot) -> list[str]:
    """Why a lot may not be released for use now, in words (empty when it may).

    Used by the materials app's lot release (MAT-3: only material meeting its standard is used) and by
    the quality decision services. A batch's output lot is released only through the batch release.
    """
    problems = []
    lot = Lot.objects.select_related("material").get(pk=lot.pk)
    inspections = list(
        Inspection.objects.filter(lot_id=lot.pk)
        .exclude(status=InspectionStatus.CANCELLED)
        .select_related("specification")
    )
    if lot.produced_by_id and lot.material.type == "finished":
        # QC-4/QC-10: finished product reaches stock only through QC release then production release.
        # Intermediates made in the plant are released by QC on their passed inspection, for the next step.
        release = BatchRelease.objects.filter(batch_id=lot.produced_by_id).first()
        if release is None or release.status != ReleaseStatus.RELEASED:
            problems.append(
                _(
                    "Lot %(lot)s is the output of a batch: it is released through QC release and production release of the batch."
                )
                % {"lot": lot.code}
            )
    if any(i.is_open for i in inspections):
        problems.append(_("An inspection of lot %(lot)s is still open.") % {"lot": lot.code})
    if inspections and inspections[-1].status == InspectionStatus.FAILED:
        problems.append(_("The last inspection of lot %(lot)s failed.") % {"lot": lot.code})
    elif not _passed_on_effective_spec(inspections):
        # Release only on evidence: a signature alone never releases material (issue 16).
        problems.append(
            _(
                "Lot %(lot)s has no completed, passed inspection against the effective specification of"
                " %(material)s: test it first."
            )
            % {"lot": lot.code, "material": lot.material.code}
        )
    for dev in open_deviations_for("materials.lot", lot.pk):
        problems.append(_("Deviation %(n)s linked to the lot is still open.") % {"n": dev.number})
    return problems


def _passed_on_effective_spec(inspections: list[Inspection]) -> bool:
    """The lot's latest completed inspection passed, judged against a specification that is effective."""
    completed = [i for i in inspections if i.status in (InspectionStatus.PASSED, InspectionStatus.FAILED)]
    if not completed:
        return False
    last = max(completed, key=lambda i: (i.completed_at or i.created_at, i.pk))
    return last.status == InspectionStatus.PASSED and last.specification.status == SpecStatus.EFFECTIVE


def _require_effective_spec(inspection: Inspection) -> None:
    """A specification not (or no longer) effective — a draft, one in review, superseded — judges nothing."""
    spec = inspection.specification
    if spec.status != SpecStatus.EFFECTIVE:
        raise ValidationError(
            _(
                "Specification %(s)s v%(v)s is %(st)s: only the effective specification can be used to judge"
                " results. Cancel inspection %(n)s and create it again against the effective version."
            )
            % {"s": spec.title, "v": spec.version, "st": spec.get_status_display().lower(), "n": inspection.number}
        )


def _decide(inspection_id: int, decision: str, user) -> Inspection:
    inspection = Inspection.objects.select_for_update().get(pk=inspection_id)
    inspection.lot_decision = decision
    with audit_context(actor=user, action=f"quality.inspection.lot_{decision}"):
        inspection.save()
    return inspection


def inspection_release_lot(*, user, inspection_id: int, password: str, reason: str = "") -> Inspection:
    """A passed inspection lets QC release the lot (through the materials app's signed lot release)."""
    require(user, "quality.complete_inspection", _("decide on lots"))
    inspection = Inspection.objects.select_related("lot").get(pk=inspection_id)
    if inspection.status != InspectionStatus.PASSED:
        raise ValidationError(_("Only a passed inspection lets the lot be released."))
    if inspection.lot.produced_by_id and inspection.lot.material.type == "finished":
        raise ValidationError(_("Finished product is released through the batch release (QC, then production)."))
    problems = lot_release_problems(inspection.lot)
    if problems:
        raise ValidationError(problems)
    signature_check_password(user=user, password=password, purpose="quality.inspection.release_lot")
    with transaction.atomic():
        lot_release(user=user, lot=inspection.lot, password=password, reason=reason or inspection.number)
        return _decide(inspection_id, LotDecision.RELEASED, user)


def inspection_reject_lot(*, user, inspection_id: int, password: str, reason: str) -> Inspection:
    """A failed inspection: QC rejects the lot (nonconforming; a disposition follows)."""
    require(user, "quality.complete_inspection", _("decide on lots"))
    if not (reason or "").strip():
        raise ValidationError({"reason": _("A rejection needs a reason.")})
    inspection = Inspection.objects.select_related("lot").get(pk=inspection_id)
    if inspection.status != InspectionStatus.FAILED:
        raise ValidationError(_("Only a failed inspection leads to rejecting the lot here."))
    signature_check_password(user=user, password=password, purpose="quality.inspection.reject_lot")
    with transaction.atomic():
        lot_reject(user=user, lot=inspection.lot, password=password, reason=reason)
        return _decide(inspection_id, LotDecision.REJECTED, user)


def inspection_hold_lot(*, user, inspection_id: int, reason: str) -> Inspection:
    """A failed inspection under investigation: the lot is blocked until the deviation is resolved."""
    require(user, "quality.complete_inspection", _("decide on lots"))
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why the lot is held.")})
    with transaction.atomic():
        inspection = Inspection.objects.select_related("lot").get(pk=inspection_id)
        if inspection.status != InspectionStatus.FAILED:
            raise ValidationError(_("Only a failed inspection puts the lot on hold here."))
        if inspection.lot.status != LotStatus.BLOCKED:
            lot_block(user=user, lot=inspection.lot, reason=reason)
        return _decide(inspection_id, LotDecision.HELD, user)
