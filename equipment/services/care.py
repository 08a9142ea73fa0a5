"""Looking after equipment: daily checks, cleaning (signed), calibration (signed)."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import get_language, gettext_noop
from django.utils.translation import gettext as _

from audit.context import audit_context
from audit.signatures import signature_check_password, signature_create
from equipment.models import (
    CalibrationRecord,
    ChecklistItem,
    CleaningKind,
    CleaningRecord,
    DailyCheck,
    DailyCheckResult,
    Equipment,
    EquipmentStatus,
    FaultSource,
    LogbookKind,
)
from equipment.services.maintenance import fault_report
from equipment.services.status import logbook_write, status_apply
from mes.generated import GeneratedText, english
from mes.names import chinese_name


def _checklist_name_shown(name: str) -> str:
    """A checklist item's English name (as a stored sentence holds it) by its Chinese name, if it has one."""
    return chinese_name(ChecklistItem, "name", "name_zh", name)


def failed_items_shown(stored: str) -> str:
    """The failed items of a daily check as stored ("Guard intact — cracked; ...") with each item's name
    in the reader's language; what the operator wrote about it as written."""
    if not (get_language() or "").startswith("zh"):
        return stored
    parts = (part.partition(" — ") for part in stored.split("; "))
    return "; ".join(f"{_checklist_name_shown(name)}{sep}{note}" for name, sep, note in parts)


DAILY_CHECK_FAILED = GeneratedText(gettext_noop("Daily check failed: %(items)s"), shown={"items": failed_items_shown})
DAILY_CHECK_PASSED = GeneratedText(gettext_noop("Daily check passed (%(n)d items)."))
CLEANING_STARTED = GeneratedText(gettext_noop("Cleaning started (%(kind)s)."), words=("kind",))
CLEANING_STARTED_SOP = GeneratedText(gettext_noop("Cleaning started (%(kind)s, %(sop)s)."), words=("kind",))
GeneratedText(gettext_noop("Cleaning started (%(kind)s%(sop)s)."))  # the wording of logbook lines before 2026-12
CLEANING_SIGNED_OFF = GeneratedText(gettext_noop("Cleaning %(record)s signed off (%(kind)s)."), words=("kind",))
CALIBRATION_PASSED = GeneratedText(gettext_noop("Calibration passed (%(cert)s); next due %(due)s."))
CALIBRATION_FAILED = GeneratedText(gettext_noop("Calibration FAILED (%(cert)s): %(remarks)s"))

S = EquipmentStatus


def _require(user, perm: str, what: str) -> None:
    if not user.has_perm(perm):
        raise PermissionDenied(_("You do not have permission to %(what)s.") % {"what": what})


# --- daily check (点检) -----------------------------------------------------------------------
def checklist_for(equipment: Equipment) -> list[ChecklistItem]:
    return list(ChecklistItem.objects.filter(equipment_class_id=equipment.equipment_class_id, active=True))


def equipment_daily_check_record(
    *, equipment: Equipment | int, user, answers: dict[int, tuple[bool, str]], remarks: str = ""
) -> DailyCheck:
    """Record a daily check. Every item must be answered; a failed item blocks use and opens a fault."""
    _require(user, "equipment.perform_daily_check", _("record daily checks"))
    pk = equipment.pk if isinstance(equipment, Equipment) else equipment
    with transaction.atomic(), audit_context(actor=user, action="equipment.dailycheck.record"):
        eq = Equipment.objects.select_for_update().get(pk=pk)
        if eq.status in (S.IN_USE, S.OUT_OF_SERVICE):
            raise ValidationError(
                _("A daily check cannot be recorded while the equipment is %(status)s.")
                % {"status": eq.get_status_display()}
            )
        items = checklist_for(eq)
        if not items:
            raise ValidationError(_("There is no checklist for %(cls)s.") % {"cls": eq.equipment_class})
        missing = [i.display_name for i in items if i.pk not in answers]
        if missing:
            raise ValidationError(_("Answer every item: %(items)s") % {"items": ", ".join(missing)})
        failed = [i for i in items if not answers[i.pk][0]]
        for item in failed:
            if not (answers[item.pk][1] or "").strip():
                raise ValidationError(_("Describe what is wrong for “%(item)s”.") % {"item": item.display_name})
        check = DailyCheck.objects.create(equipment=eq, performed_by=user, passed=not failed, remarks=remarks)
        for item in items:
            ok, note = answers[item.pk]
            DailyCheckResult.objects.create(
                daily_check=check, item=item, item_text=item.display_name[:200], ok=ok, note=(note or "")[:300]
            )
        if failed:
            text = DAILY_CHECK_FAILED % {"items": "; ".join(f"{i.name} — {answers[i.pk][1]}" for i in failed)}
            fault = fault_report(equipment=eq, user=user, description=text, source=FaultSource.DAILY_CHECK)
            check.fault = fault
            check.save()
            logbook_write(equipment=eq, kind=LogbookKind.DAILY_CHECK, user=user, text=text)
        else:
            logbook_write(
                equipment=eq,
                kind=LogbookKind.DAILY_CHECK,
                user=user,
                text=DAILY_CHECK_PASSED % {"n": len(items)},
            )
    return check


# --- cleaning -----------------------------------------------------------------------------------
def cleaning_in_progress(equipment: Equipment) -> CleaningRecord | None:
    return (
        CleaningRecord.objects.filter(equipment=equipment, finished_at__isnull=True)
        .order_by("-started_at", "-id")
        .first()
    )


def equipment_cleaning_start(*, equipment: Equipment | int, user, kind: str, procedure: str = "") -> CleaningRecord:
    """Start cleaning dirty equipment (or re-clean equipment whose clean hold time ran out)."""
    if kind not in CleaningKind.values:
        raise ValidationError(_("Choose the type of cleaning."))
    created: dict = {}

    def after(eq):
        created["record"] = CleaningRecord.objects.create(
            equipment=eq, kind=kind, procedure=procedure[:60], previous_product=eq.last_product, started_by=user
        )

    status_apply(
        equipment=equipment,
        name="start_cleaning",
        user=user,
        kind=LogbookKind.CLEANING,
        text=(CLEANING_STARTED_SOP if procedure else CLEANING_STARTED)(
            kind=english(CleaningKind(kind).label), sop=procedure
        ),
        after=after,
    )
    return created["record"]


def equipment_cleaning_finish(
    *, equipment: Equipment | int, user, password: str, remarks: str = "", reason: str = ""
) -> CleaningRecord:
    """Sign off the cleaning: the equipment becomes available (clean) and the record is signed."""
    pk = equipment.pk if isinstance(equipment, Equipment) else equipment
    record = cleaning_in_progress(Equipment(pk=pk))
    if record is None:
        raise ValidationError(_("No cleaning is in progress on this equipment."))
    signature_check_password(user=user, password=password, purpose="equipment.cleaning.finish")
    now = timezone.now()
    eq = Equipment.objects.get(pk=pk)
    # A minor cleaning only allows the same product next; a full cleaning allows any product.
    clean_for = eq.last_product if record.kind == CleaningKind.MINOR else None
    with transaction.atomic(), audit_context(actor=user, action="equipment.cleaningrecord.finish", reason=reason):
        record = CleaningRecord.objects.select_for_update().get(pk=record.pk)
        if record.finished_at is not None:
            raise ValidationError(_("This cleaning was already signed off."))

        def after(eq):
            record.finished_by, record.finished_at, record.remarks = user, now, remarks
            record.save()
            signature_create(
                signer=user, obj=record, meaning="performed", reason=reason, action="equipment.cleaning.finish"
            )

        status_apply(
            equipment=pk,
            name="finish_cleaning",
            user=user,
            reason=reason,
            kind=LogbookKind.CLEANING,
            changes={"cleaned_at": now, "dirty_since": None, "clean_for_product": clean_for},
            text=CLEANING_SIGNED_OFF % {"record": record, "kind": english(CleaningKind(record.kind).label)},
            after=after,
        )
    return record


# --- calibration ----------------------------------------------------------------------------------
def equipment_calibration_record(
    *,
    equipment: Equipment | int,
    user,
    password: str,
    performed_on: dt.date,
    passed: bool,
    certificate: str = "",
    remarks: str = "",
    reason: str = "",
) -> CalibrationRecord:
    """Record a calibration (signed). A pass moves the due date on; a fail opens a fault."""
    _require(user, "equipment.calibrate_equipment", _("record calibrations"))
    if performed_on > timezone.localdate():
        raise ValidationError(_("The calibration date cannot be in the future."))
    signature_check_password(user=user, password=password, purpose="equipment.calibration.record")
    pk = equipment.pk if isinstance(equipment, Equipment) else equipment
    with transaction.atomic(), audit_context(actor=user, action="equipment.calibration.record", reason=reason):
        eq = Equipment.objects.select_for_update().get(pk=pk)
        if not eq.calibration_interval_days:
            raise ValidationError(_("%(code)s has no calibration interval.") % {"code": eq.code})
        next_due = performed_on + dt.timedelta(days=eq.calibration_interval_days) if passed else None
        record = CalibrationRecord.objects.create(
            equipment=eq,
            performed_by=user,
            performed_on=performed_on,
            passed=passed,
            certificate=certificate,
            remarks=remarks,
            next_due_on=next_due,
        )
        signature_create(
            signer=user, obj=record, meaning="performed", reason=reason, action="equipment.calibration.record"
        )
        if passed:
            eq.last_calibrated_on, eq.calibration_due_on = performed_on, next_due
            eq.save()
            text = CALIBRATION_PASSED % {"cert": certificate or "-", "due": next_due}
        else:
            text = CALIBRATION_FAILED % {"cert": certificate or "-", "remarks": remarks}
            fault_report(equipment=eq, user=user, description=text, source=FaultSource.CALIBRATION)
        logbook_write(equipment=eq, kind=LogbookKind.CALIBRATION, user=user, text=text)
    return record
