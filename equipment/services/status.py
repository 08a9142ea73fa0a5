"""Equipment status: the usability interlock, the logbook, starting and ending use, service state.

`equipment_check_usable` is the one answer to "may this equipment be used now, and if not, why".
Batch execution calls it before a step starts, and `equipment_start_use` re-checks it on the
locked row, so the interlock holds even if a page showed stale information.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Prefetch, QuerySet, Subquery
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from audit.context import audit_context
from audit.signatures import signature_check_password, signature_create
from equipment.models import (
    EQUIPMENT_MACHINE,
    OPEN_FAULT_STATES,
    ChecklistItem,
    CommState,
    DailyCheck,
    Equipment,
    EquipmentStatus,
    FaultReport,
    LogbookEntry,
    LogbookKind,
    MaintenancePlan,
    QualificationStatus,
)
from equipment.services.logbook import logbook_write
from equipment.services.pm import pm_interlock, pm_usage_record
from mes.config import config_get_or_default
from mes.generated import GeneratedText, english, localized
from mes.workflow import transition_apply

USE_STARTED = GeneratedText(gettext_noop("Use started for batch %(batch)s%(step)s."))
SHUT_DOWN_DIRTY = GeneratedText(gettext_noop("Shut down after batch %(batch)s; now dirty."))
TAKEN_OUT_OF_SERVICE = GeneratedText(gettext_noop("Taken out of service."))
RETURNED_TO_SERVICE = GeneratedText(gettext_noop("Returned to service; awaiting requalification."))
REQUALIFIED_NOTES = GeneratedText(gettext_noop("Requalified: %(notes)s"))
REQUALIFIED = GeneratedText(gettext_noop("Requalified."))

S = EquipmentStatus
CALIBRATION_WARNING_DAYS = 7


@dataclass
class Usability:
    """Whether an equipment may be used now; `reasons` say why not, in operator words.

    `warnings` are shown but do not block (calibration due soon, link to the machine lost, ...).
    """

    ok: bool
    reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.ok


# --- reading what the interlock needs, in a bounded number of queries ----------------------
def usability_queryset() -> QuerySet:
    """Equipment with everything the interlock looks at: 2 queries for any number of equipment."""
    last_check = DailyCheck.objects.filter(equipment=OuterRef("pk")).order_by("-performed_at", "-id")
    return (
        Equipment.objects.select_related(
            "equipment_class", "line", "area", "current_batch", "clean_for_product", "last_product", "live"
        )
        .annotate(
            last_check_passed=Subquery(last_check.values("passed")[:1]),
            last_check_at=Subquery(last_check.values("performed_at")[:1]),
            has_checklist=Exists(
                ChecklistItem.objects.filter(equipment_class=OuterRef("equipment_class_id"), active=True)
            ),
        )
        .prefetch_related(
            Prefetch(
                "faults",
                queryset=FaultReport.objects.filter(status__in=OPEN_FAULT_STATES).order_by("reported_at", "id"),
                to_attr="open_faults",
            ),
            Prefetch("pm_plans", queryset=MaintenancePlan.objects.filter(active=True), to_attr="active_pm_plans"),
        )
    )


def plant_date(at: dt.datetime) -> dt.date:
    return timezone.localtime(at).date()


def _when(value: dt.datetime | dt.date) -> str:
    if isinstance(value, dt.datetime):
        return date_format(timezone.localtime(value), "Y-m-d H:i")
    return date_format(value, "Y-m-d")


def _status_reason(eq: Equipment) -> str | None:
    status = eq.status
    if status == S.AVAILABLE:
        return None
    if status == S.IN_USE:
        return _("In use by batch %(batch)s since %(since)s.") % {
            "batch": eq.current_batch or "?",
            "since": _when(eq.in_use_since) if eq.in_use_since else "?",
        }
    if status == S.DIRTY:
        product = eq.last_product.code if eq.last_product else _("unknown product")
        return _("Dirty after %(product)s: it must be cleaned and the cleaning signed first.") % {"product": product}
    if status == S.CLEANING:
        return _("Cleaning is in progress and not yet signed off.")
    if status == S.MAINTENANCE:
        return _("Under maintenance.")
    if status == S.AWAITING_REQUALIFICATION:
        return _("Repaired but not yet requalified: a second person must requalify it before use.")
    if status == S.OUT_OF_SERVICE:
        return _("Out of service.")
    return _("Status %(status)s does not allow use.") % {"status": eq.get_status_display()}


def usability_evaluate(eq: Equipment, *, product=None, at: dt.datetime | None = None) -> Usability:
    """The interlock on an equipment loaded with `usability_queryset()` (no further queries)."""
    at = at or timezone.now()
    today = plant_date(at)
    reasons: list[str] = []
    warnings: list[str] = []
    if not eq.active:
        reasons.append(_("Retired: this equipment is no longer active."))
    status_reason = _status_reason(eq)
    if status_reason:
        reasons.append(status_reason)
    if eq.qualification_status != QualificationStatus.QUALIFIED:
        reasons.append(_("Not qualified for production use."))
    elif eq.requalification_due_on and eq.requalification_due_on < today:
        reasons.append(
            _("Periodic requalification overdue since %(date)s.") % {"date": _when(eq.requalification_due_on)}
        )
    if eq.calibration_interval_days:
        if not eq.calibration_due_on:
            reasons.append(_("Never calibrated: calibrate it before use."))
        elif eq.calibration_due_on < today:
            reasons.append(_("Calibration overdue since %(date)s.") % {"date": _when(eq.calibration_due_on)})
        elif eq.calibration_due_on <= today + dt.timedelta(days=CALIBRATION_WARNING_DAYS):
            warnings.append(_("Calibration due on %(date)s.") % {"date": _when(eq.calibration_due_on)})
    pm_interlock(eq, today, reasons, warnings)
    if eq.status == S.AVAILABLE:
        _cleanliness(eq, product, at, reasons)
    for fault in getattr(eq, "open_faults", None) or []:
        reasons.append(
            _("Open fault %(number)s: %(text)s") % {"number": fault.number, "text": localized(fault.description)[:120]}
        )
    if getattr(eq, "last_check_passed", None) is False:
        reasons.append(
            _("Daily check failed on %(when)s: repeat it after the fault is fixed.") % {"when": _when(eq.last_check_at)}
        )
    elif eq.status == S.AVAILABLE and getattr(eq, "has_checklist", False):
        last_check = getattr(eq, "last_check_at", None)
        if last_check is None or plant_date(last_check) < today:
            # Blocks by default; a plant may make it a warning only through an approved configuration change.
            if daily_check_blocks_use():
                reasons.append(_("Daily check not done today: do it before use."))
            else:
                warnings.append(_("Daily check not done today."))
    live = getattr(eq, "live", None) if _has_live(eq) else None
    if live is not None and eq.opcua_endpoint:
        if live.comm_state == CommState.LOST:
            warnings.append(
                _("Communication lost with the machine since %(when)s.")
                % {"when": _when(live.comm_changed_at) if live.comm_changed_at else "?"}
            )
        if live.out_of_range:
            warnings.append(live.out_of_range)
    if eq.status == S.DIRTY and eq.dirty_since and at > eq.dirty_since + dt.timedelta(hours=eq.dirty_hold_hours):
        warnings.append(
            _("Dirty hold time exceeded: cleaning was due by %(when)s.")
            % {"when": _when(eq.dirty_since + dt.timedelta(hours=eq.dirty_hold_hours))}
        )
    return Usability(ok=not reasons, reasons=reasons, warnings=warnings)


def daily_check_blocks_use() -> bool:
    """The controlled parameter (CFG-1): does a missing daily check block use (default) or only warn."""
    return bool(config_get_or_default("equipment.daily_check_blocks_use", True))


def _has_live(eq: Equipment) -> bool:
    try:
        eq.live  # noqa: B018 - select_related cache or one query
    except Equipment.live.RelatedObjectDoesNotExist:
        return False
    return True


def _cleanliness(eq: Equipment, product, at: dt.datetime, reasons: list[str]) -> None:
    if eq.cleaned_at is None:
        reasons.append(_("No cleaning on record: clean it and sign the cleaning before use."))
        return
    expires = eq.cleaned_at + dt.timedelta(hours=eq.clean_hold_hours)
    if at > expires:
        reasons.append(_("Clean hold time expired at %(when)s: clean it again.") % {"when": _when(expires)})
    if product is not None and eq.clean_for_product_id and eq.clean_for_product_id != product.pk:
        reasons.append(
            _("Only minor-cleaned after %(previous)s: a full changeover cleaning is needed before %(product)s.")
            % {"previous": eq.clean_for_product.code, "product": product.code}
        )


def equipment_check_usable(*, equipment: Equipment | int, product=None, at: dt.datetime | None = None) -> Usability:
    """May this equipment be used now (for this product), and if not, why. Reads fresh data."""
    pk = equipment.pk if isinstance(equipment, Equipment) else equipment
    eq = usability_queryset().get(pk=pk)
    return usability_evaluate(eq, product=product, at=at)


def usability_many(equipment: Iterable[Equipment], *, at: dt.datetime | None = None) -> dict[int, Usability]:
    at = at or timezone.now()
    return {eq.pk: usability_evaluate(eq, at=at) for eq in equipment}


def equipment_verify_for_batch(
    *, equipment: Iterable[Equipment | int], product=None, at: dt.datetime | None = None
) -> dict[str, Usability]:
    """Pre-use verification at batch preparation: status, cleaning (and changeover for this product),
    calibration, qualification, faults and daily check of every equipment the batch will use, keyed
    by equipment code, in two queries. (Line clearance is the batch's own check.)"""
    ids = [e.pk if isinstance(e, Equipment) else e for e in equipment]
    at = at or timezone.now()
    return {
        eq.code: usability_evaluate(eq, product=product, at=at)
        for eq in usability_queryset().filter(pk__in=ids).order_by("code")
    }


def status_apply(
    *,
    equipment: Equipment | int,
    name: str,
    user,
    reason: str = "",
    changes: dict | None = None,
    guard=None,
    kind: str = LogbookKind.STATUS,
    text: str = "",
    log: dict | None = None,
    after=None,
) -> Equipment:
    """Take an equipment transition and write its logbook line, in one transaction."""
    pk = equipment.pk if isinstance(equipment, Equipment) else equipment
    before: dict = {}

    def _guard(obj):
        before["status"] = obj.status
        if guard is not None:
            guard(obj)

    def _after(obj):
        transition = EQUIPMENT_MACHINE.get(name)
        logbook_write(
            equipment=obj,
            kind=kind,
            user=user,
            reason=reason,
            text=text or english(transition.label),  # stored in English, read in the reader's language
            from_status=before.get("status", ""),
            to_status=obj.status,
            **(log or {}),
        )
        if after is not None:
            after(obj)

    return transition_apply(
        model=Equipment,
        pk=pk,
        machine=EQUIPMENT_MACHINE,
        name=name,
        user=user,
        reason=reason,
        guard=_guard,
        changes=changes,
        after=_after,
    )


# --- use ---------------------------------------------------------------------------------------
def equipment_start_use(*, equipment: Equipment | int, batch, user, step: str = "", product=None) -> Equipment:
    """Book the equipment for a batch (step). Refused, with the reasons, unless it is usable now."""
    product = product if product is not None else getattr(batch, "product", None)
    now = timezone.now()

    def guard(obj):
        verdict = equipment_check_usable(equipment=obj.pk, product=product, at=now)
        if not verdict.ok:
            raise ValidationError([_("%(code)s cannot be used:") % {"code": obj.code}, *verdict.reasons])

    # Say why in the operator's words before the generic state check; the guard re-checks on the lock.
    guard(Equipment.objects.get(pk=equipment.pk if isinstance(equipment, Equipment) else equipment))
    return status_apply(
        equipment=equipment,
        name="start_use",
        user=user,
        guard=guard,
        kind=LogbookKind.USE_START,
        changes={"current_batch": batch, "current_step": step[:120], "in_use_since": now, "last_product": product},
        text=USE_STARTED % {"batch": batch, "step": f" — {step}" if step else ""},
        log={"batch": batch, "product": product, "step": step[:120], "period_start": now},
    )


def equipment_end_use(*, equipment: Equipment | int, user, reason: str = "") -> Equipment:
    """Shutdown at the end of production: the equipment becomes dirty and remembers the product."""
    now = timezone.now()
    eq = Equipment.objects.select_related("current_batch").get(
        pk=equipment.pk if isinstance(equipment, Equipment) else equipment
    )
    with transaction.atomic():
        ended = _end_use(eq, user, reason, now)
        pm_usage_record(equipment_id=eq.pk, started=eq.in_use_since, ended=now)  # usage-based maintenance plans
    return ended


def _end_use(eq: Equipment, user, reason: str, now: dt.datetime) -> Equipment:
    return status_apply(
        equipment=eq.pk,
        name="end_use",
        user=user,
        reason=reason,
        kind=LogbookKind.USE_END,
        changes={
            "current_batch": None,
            "current_step": "",
            "in_use_since": None,
            "dirty_since": now,
            "cleaned_at": None,
            "clean_for_product": None,
        },
        text=SHUT_DOWN_DIRTY % {"batch": eq.current_batch or "?"},
        log={
            "batch": eq.current_batch,
            "product": eq.last_product,
            "step": eq.current_step,
            "period_start": eq.in_use_since,
            "period_end": now,
        },
    )


# --- out of service and requalification without a work order --------------------------------
def equipment_take_out_of_service(*, equipment: Equipment | int, user, reason: str) -> Equipment:
    return status_apply(
        equipment=equipment, name="take_out_of_service", user=user, reason=reason, text=TAKEN_OUT_OF_SERVICE()
    )


def equipment_return_to_service(*, equipment: Equipment | int, user, reason: str) -> Equipment:
    return status_apply(
        equipment=equipment,
        name="return_to_service",
        user=user,
        reason=reason,
        text=RETURNED_TO_SERVICE(),
    )


def who_made_awaiting_requalification(equipment: Equipment):
    """The person whose action put the equipment into 'awaiting requalification' (not the requalifier)."""
    entry = (
        LogbookEntry.objects.filter(equipment=equipment, to_status=S.AWAITING_REQUALIFICATION)
        .order_by("-at", "-id")
        .select_related("user")
        .first()
    )
    return entry.user if entry else None


def refuse_same_person(requalifier, performer) -> None:
    if performer is not None and requalifier.pk == performer.pk:
        raise ValidationError(
            _(
                "The requalification must be signed by someone other than %(name)s, who did the "
                "repair or returned the equipment to service."
            )
            % {"name": performer.get_full_name() or performer.get_username()}
        )


def equipment_requalify(
    *,
    equipment: Equipment | int,
    user,
    password: str,
    reason: str = "",
    notes: str = "",
    to_dirty: bool = False,
    meaning_obj=None,
) -> Equipment:
    """Release requalified equipment (signed, by a different person than who made it ready)."""
    eq = Equipment.objects.get(pk=equipment.pk if isinstance(equipment, Equipment) else equipment)
    refuse_same_person(user, who_made_awaiting_requalification(eq))
    signature_check_password(user=user, password=password, purpose="equipment.requalify")
    with transaction.atomic(), audit_context(actor=user, action="equipment.equipment.requalify", reason=reason):
        eq = status_apply(
            equipment=eq.pk,
            name="requalify_to_dirty" if to_dirty else "requalify",
            user=user,
            reason=reason,
            kind=LogbookKind.REQUALIFICATION,
            text=REQUALIFIED_NOTES(notes=notes) if notes else REQUALIFIED(),
        )
        signature_create(
            signer=user, obj=meaning_obj or eq, meaning="approved", reason=reason, action="equipment.requalify"
        )
    return eq


def transition_lines_declare() -> None:
    """Each transition's label, the logbook line written when no other text is given, is a declared
    generated sentence: stored in English, shown in the reader's language. Called once the apps are
    ready (the English form of a lazy label needs the translation machinery)."""
    for transition in EQUIPMENT_MACHINE.transitions:
        GeneratedText(english(transition.label))
