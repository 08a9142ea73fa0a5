"""Review by exception, correction, approval, release hand-off and archive of a batch record."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.context import audit_context
from audit.signatures import signature_create
from batches.events import batch_closed
from batches.models import (
    BATCH_MACHINE,
    REVIEW,
    Batch,
    BatchStatus,
    Entry,
    EntryCorrection,
    ExceptionDisposition,
    How,
    StepAttempt,
    StepExecution,
    refuse_if_archived,
)
from batches.services.execution import LATE_GRACE, _check_version, _parse, require_executor, step_complete, stored_value
from batches.services.hooks import OUT_OF_RANGE_AFTER_CORRECTION, linked_deviations, raise_deviation
from batches.services.reexecute import step_reopen
from equipment.models import LogbookEntry, LogbookKind
from materials.models import DispenseEntry, GenealogyEdge, Lot
from mes.generated import localized
from mes.units import quantity_text, unit_label
from mes.workflow import transition_apply, user_may

KINDS = {
    "out_of_range": gettext_lazy("Out of range, with comment"),
    "machine_overridden": gettext_lazy("Machine value overridden"),
    "machine_missing": gettext_lazy("Machine data missing, value typed"),
    "materials": gettext_lazy("Materials not issued or out of tolerance"),
    "late_entry": gettext_lazy("Late entry"),
    "corrected": gettext_lazy("Corrected"),
    "same_person_refused": gettext_lazy("Verification by the same person refused"),
    "deviation": gettext_lazy("Deviation linked"),
    "reexecuted": gettext_lazy("Step executed again"),
    "balance": gettext_lazy("Yield or material balance out of limits"),
    "manual_weight": gettext_lazy("Weight typed, not captured from the balance"),
}


@dataclass
class RecordException:
    key: str
    kind: str
    where: str
    detail: str
    entry: Entry | None = None
    step: StepExecution | None = None
    disposition: ExceptionDisposition | None = None

    @property
    def label(self) -> str:
        return str(KINDS[self.kind])


def entry_exceptions(entry: Entry, step: StepExecution, corrections: list) -> list[str]:
    """The exception status of one entry, computed from what was recorded (never typed by anyone)."""
    kinds = []
    if entry.in_range is False:
        kinds.append("out_of_range")
    if entry.machine_value and entry.how != How.MACHINE:
        kinds.append("machine_overridden")
    if entry.equipment_tag and entry.recorded and not entry.machine_value:
        kinds.append("machine_missing")
    if (
        entry.entered_at
        and step.started_at
        and entry.entered_at > step.started_at + dt.timedelta(minutes=step.duration_minutes) + LATE_GRACE
    ):
        kinds.append("late_entry")
    if corrections:
        kinds.append("corrected")
    if entry.deviation_ref:
        kinds.append("deviation")
    return kinds


def batch_exceptions(batch: Batch) -> list[RecordException]:
    """Every exception of the record, from one place, with the reviewer's disposition for the current
    review round: entries (out of range, machine value overridden or missing, late, corrected), steps
    (materials not issued within tolerance, verification by the performer refused), the yield and
    balance, and every deviation linked to the batch, its steps or entries, its lots, or its
    equipment while the batch used it."""
    steps = list(batch.steps.all())
    by_step = {s.pk: s for s in steps}
    entries = list(Entry.objects.filter(batch=batch).select_related("entered_by"))
    corrections: dict[int, list] = {}
    for c in EntryCorrection.objects.filter(batch=batch).select_related("corrected_by"):
        corrections.setdefault(c.entry_id, []).append(c)
    deviations = batch_deviations(batch, steps, entries)
    listed = {d.number for d in deviations}
    found: list[RecordException] = []
    for e in entries:
        step = by_step[e.step_id]
        for kind in entry_exceptions(e, step, corrections.get(e.pk, [])):
            if kind == "deviation" and e.deviation_ref in listed:
                continue  # listed once below, with everything else linked to the batch
            detail = _exception_detail(kind, e, corrections.get(e.pk, []))
            found.append(RecordException(f"{kind}:e{e.pk}", kind, f"{step.number}. {e.display_name}", detail, e, step))
    for s in steps:
        if s.material_exception or s.materials_short:
            texts = [_material_text(m) for m in s.materials_short]
            found.append(
                RecordException(
                    f"materials:s{s.pk}",
                    "materials",
                    f"{s.number}. {s.display_title}",
                    " ".join([*texts, _("Reason: %(r)s") % {"r": s.material_exception}]),
                    step=s,
                )
            )
    for attempt in StepAttempt.objects.filter(batch=batch).select_related("step", "reopened_by"):
        found.append(
            RecordException(
                f"reexecuted:a{attempt.pk}",
                "reexecuted",
                f"{attempt.step.number}. {attempt.step.display_title}",
                _("Execution %(n)s struck through, re-opened by %(who)s: %(r)s")
                % {"n": attempt.attempt, "who": attempt.reopened_by.get_full_name(), "r": attempt.reason},
                step=attempt.step,
            )
        )
    for s in steps:
        if s.same_person_refusals:
            found.append(
                RecordException(
                    f"same_person_refused:s{s.pk}",
                    "same_person_refused",
                    f"{s.number}. {s.display_title}",
                    _("%(n)s attempt(s) refused") % {"n": s.same_person_refusals},
                    step=s,
                )
            )
    found += _manual_weights(batch)
    record = getattr(batch, "record", None)
    if record is not None and record.balance_summary.get("flags"):
        found.append(
            RecordException(
                "balance:b", "balance", _("Completion"), " ".join(localized(f) for f in record.balance_summary["flags"])
            )
        )
    for d in deviations:
        found.append(
            RecordException(
                f"deviation:d{d.pk}",
                "deviation",
                ", ".join(link.label or f"{link.object_type}#{link.object_id}" for link in d.links.all()),
                _deviation_detail(d),
            )
        )
    dispositions = {
        d.key: d
        for d in ExceptionDisposition.objects.filter(batch=batch, review_round=batch.review_round).select_related(
            "decided_by"
        )
    }
    for exc in found:
        exc.disposition = dispositions.get(exc.key)
    return found


def _manual_weights(batch: Batch) -> list[RecordException]:
    """Weigh & dispense (issue 19): every weight typed instead of captured is reviewed by exception."""
    rows = DispenseEntry.objects.filter(batch=batch, manual=True).select_related(
        "lot__material", "weighed_by", "verified_by"
    )
    return [
        RecordException(
            f"manual_weight:w{d.pk}",
            "manual_weight",
            f"{d.lot.material.code} · {d.container_code}",
            _("%(net)s %(unit)s typed by %(who)s, verified by %(verifier)s. Reason: %(reason)s")
            % {
                "net": quantity_text(d.net, 6),
                "unit": unit_label(d.unit),
                "who": d.weighed_by.get_full_name() or d.weighed_by.get_username(),
                "verifier": d.verified_by.get_full_name() or d.verified_by.get_username(),
                "reason": d.manual_reason,
            },
        )
        for d in rows.order_by("created_at", "id")
    ]


def _deviation_detail(d) -> str:
    text = f"{d.number} {localized(d.title)} · {d.get_classification_display()} · {d.get_status_display()}"
    if d.downgraded:
        text += " · " + _("downgraded from %(c)s by %(who)s: %(r)s") % {
            "c": d.get_original_classification_display(),
            "who": d.reclassified_by.get_full_name() or d.reclassified_by.get_username() if d.reclassified_by else "?",
            "r": d.reclassification_reason,
        }
    if d.no_capa_justification:
        text += " · " + _("closed without a CAPA: %(j)s") % {"j": d.no_capa_justification}
    return text


def _material_text(m: dict) -> str:
    return _("%(m)s: %(i)s %(u)s issued, %(lo)s–%(hi)s %(u)s needed.") % {
        "m": m["material"],
        "i": m["issued"],
        "lo": m["low"],
        "hi": m["high"],
        "u": m["unit"],
    }


def batch_deviations(batch: Batch, steps: list[StepExecution], entries: list[Entry]) -> list:
    """Every deviation (open or closed) linked to the batch, its steps or entries, the lots it consumed
    or produced, or its equipment while the batch used it (from the equipment logbook's use periods)."""

    records = [("batches.batch", batch.pk)]
    records += [("batches.stepexecution", s.pk) for s in steps]
    records += [("batches.entry", e.pk) for e in entries]
    lots = set(GenealogyEdge.objects.filter(batch=batch).values_list("lot_id", flat=True))
    lots |= set(Lot.objects.filter(produced_by=batch).values_list("pk", flat=True))
    records += [("materials.lot", pk) for pk in sorted(lots)]
    periods: dict[int, dict] = {}
    for equipment_id, kind, at, start, end in LogbookEntry.objects.filter(
        batch=batch, kind__in=(LogbookKind.USE_START, LogbookKind.USE_END)
    ).values_list("equipment_id", "kind", "at", "period_start", "period_end"):
        p = periods.setdefault(equipment_id, {"starts": [], "ends": []})
        p["starts" if kind == LogbookKind.USE_START else "ends"].append((start if kind == "use_start" else end) or at)
    # From the first use start to the last use end; still in use (more starts than ends): open-ended.
    windows = [
        (
            "equipment.equipment",
            pk,
            min(p["starts"] or p["ends"]),
            max(p["ends"]) if len(p["ends"]) >= len(p["starts"]) else None,
        )
        for pk, p in periods.items()
    ]
    return linked_deviations(records, windows)


def _exception_detail(kind: str, e: Entry, corrections: list) -> str:
    if kind == "out_of_range":
        return f"{e.value} {unit_label(e.unit)} ({e.limits_text}) — {e.comment}"
    if kind == "machine_overridden":
        return f"{e.machine_value} → {e.value}: {e.override_reason}"
    if kind == "machine_missing":
        return f"{e.value} {unit_label(e.unit)} ({e.equipment_tag}): {e.override_reason}"
    if kind == "corrected":
        c = corrections[-1]
        return f"{c.old_value} → {c.new_value}: {c.reason}"
    if kind == "deviation":
        return e.deviation_ref
    return timezone.localtime(e.entered_at).strftime("%Y-%m-%d %H:%M") if e.entered_at else ""


def batch_executors(batch: Batch) -> set[int]:
    """Everyone who executed anything in the batch: they may not review it (QC-6)."""
    ids: set[int] = set()
    for s in batch.steps.all():
        ids.update(x for x in (s.started_by_id, s.performed_by_id, s.verified_by_id) if x)
    ids.update(x for x in Entry.objects.filter(batch=batch).values_list("entered_by_id", flat=True) if x)
    ids.update(EntryCorrection.objects.filter(batch=batch).values_list("corrected_by_id", flat=True))
    return ids


def _require_reviewer(user, batch: Batch) -> None:
    if not user_may(user, REVIEW, batch):
        raise PermissionDenied(_("You do not have permission to review batch records."))
    if user.pk in batch_executors(batch):
        raise PermissionDenied(_("You executed part of batch %(b)s: someone else must review it.") % {"b": batch})


def batch_review_start(*, user, batch: Batch) -> Batch:
    """The QC reviewer opens a new review round of a completed record."""
    _require_reviewer(user, batch)
    return transition_apply(
        model=Batch,
        pk=batch.pk,
        machine=BATCH_MACHINE,
        name="review_start",
        user=user,
        changes={"review_round": batch.review_round + 1},
    )


def exception_dispose(*, user, batch: Batch, key: str, note: str) -> ExceptionDisposition:
    """The reviewer's disposition of one exception (what was checked and why it is acceptable)."""
    _require_reviewer(user, batch)
    note = (note or "").strip()
    if not note:
        raise ValidationError(_("Write the disposition of the exception."))
    with transaction.atomic(), audit_context(actor=user, action="batches.exception.dispose", reason=note):
        locked = Batch.objects.select_for_update().get(pk=batch.pk)
        if locked.status != BatchStatus.UNDER_REVIEW:
            raise ValidationError(_("Exceptions are dispositioned during the review."))
        if key not in {e.key for e in batch_exceptions(locked)}:
            raise ValidationError(_("This exception is not part of the record."))
        if ExceptionDisposition.objects.filter(batch=locked, key=key, review_round=locked.review_round).exists():
            raise ValidationError(_("This exception has already been dispositioned."))
        return ExceptionDisposition.objects.create(
            batch=locked,
            key=key,
            note=note,
            decided_by=user,
            decided_at=timezone.now(),
            review_round=locked.review_round,
        )


def batch_request_correction(*, user, batch: Batch, reason: str, reexecute_steps=()) -> Batch:
    """Send the record back to production with the reason (what must be corrected); the steps listed in
    `reexecute_steps` (numbers) re-open to be executed again, their earlier execution kept."""
    _require_reviewer(user, batch)
    numbers = sorted({int(n) for n in reexecute_steps or ()})

    def after(obj):
        for number in numbers:
            step_reopen(user=user, batch=obj, number=number, reason=(reason or "").strip())

    return transition_apply(
        model=Batch,
        pk=batch.pk,
        machine=BATCH_MACHINE,
        name="request_correction",
        user=user,
        reason=reason,
        after=after,
    )


def entry_correct(*, user, entry: Entry | int, value: str, reason: str, version: int, comment: str = "") -> Entry:
    """Correct a recorded value: the old value stays in the record, struck through, with who, when, why."""
    entry_id = entry.pk if isinstance(entry, Entry) else entry
    current = Entry.objects.select_related("batch", "step").get(pk=entry_id)
    batch = current.batch
    refuse_if_archived(batch.pk)
    require_executor(user, batch)
    if batch.status not in (BatchStatus.CORRECTION_REQUESTED, BatchStatus.IN_PROGRESS):
        raise ValidationError(_("Values are corrected only while the batch runs or when the reviewer asks for it."))
    reason, comment = (reason or "").strip(), (comment or "").strip()
    if not reason:
        raise ValidationError(_("Give the reason for the correction."))
    if not current.recorded:
        raise ValidationError(_("Nothing to correct yet: record the value."))
    value = (value or "").strip()
    number, ok = _parse(current, value)
    value = stored_value(current, value)
    if not ok and not comment:
        raise ValidationError(
            _("%(v)s is outside the limits %(l)s: add a comment.") % {"v": value, "l": current.limits_text}
        )
    with transaction.atomic(), audit_context(actor=user, action="batches.entry.correct", reason=reason):
        locked = Entry.objects.select_for_update().get(pk=entry_id)
        _check_version(locked, version)
        now = timezone.now()
        correction = EntryCorrection.objects.create(
            batch=batch,
            entry=locked,
            old_value=locked.value,
            new_value=value,
            reason=reason,
            corrected_by=user,
            corrected_at=now,
        )
        locked.value, locked.numeric_value, locked.in_range = value, number, ok
        locked.comment = comment or locked.comment
        locked.how = How.MANUAL
        locked.version += 1
        if not ok and not locked.deviation_ref:
            locked.deviation_ref = raise_deviation(
                user=user,
                batch=batch,
                title=OUT_OF_RANGE_AFTER_CORRECTION(n=locked.name),
                description=comment,
                source="batch_execution",
            )
        locked.save()
        signature_create(
            signer=user, obj=correction, meaning="corrected", reason=reason, action="batches.entry.correct"
        )
    return locked


def batch_resubmit(*, user, batch: Batch) -> Batch:
    """Corrections done: the record goes back to the reviewer (steps executed again must be signed)."""
    require_executor(user, batch)

    def guard(obj):
        open_steps = [s.number for s in obj.steps.all() if not step_complete(s)]
        if open_steps:
            raise ValidationError(
                _("Steps to execute again are not finished: %(s)s.") % {"s": ", ".join(str(n) for n in open_steps)}
            )

    return transition_apply(model=Batch, pk=batch.pk, machine=BATCH_MACHINE, name="resubmit", user=user, guard=guard)


def batch_approve_review(*, user, batch: Batch, password: str) -> Batch:
    """Signed review approval: every exception dispositioned, reviewer not an executor (QC-7)."""
    _require_reviewer(user, batch)

    def guard(obj):
        open_items = [e for e in batch_exceptions(obj) if e.disposition is None]
        if open_items:
            raise ValidationError(_("%(n)s exception(s) still need a disposition.") % {"n": len(open_items)})

    return transition_apply(
        model=Batch,
        pk=batch.pk,
        machine=BATCH_MACHINE,
        name="approve_review",
        user=user,
        password=password,
        guard=guard,
    )


# --- hooks the quality app's two-step release calls (quality.services.release) -------------------
def batch_record_review_problems(batch: Batch) -> list[str]:
    """Why the record is not reviewed and approved yet (empty when it is): a release condition."""
    if batch.status in (BatchStatus.REVIEWED, BatchStatus.QC_RELEASED, BatchStatus.RELEASED):
        return []
    return [
        _("The batch record is %(s)s: it must be reviewed and approved (signed) first.")
        % {"s": batch.get_status_display().lower()}
    ]


def batch_unsigned_steps(batch: Batch) -> list[str]:
    """Steps not signed by the performer, or not verified where a second person must verify."""
    return [f"{s.number}. {s.display_title}" for s in batch.steps.all() if not step_complete(s)]


def batch_on_qc_release(*, batch: Batch, user) -> Batch:
    """Quality signed the QC release: the batch moves to "QC released" (same transaction)."""
    return transition_apply(model=Batch, pk=batch.pk, machine=BATCH_MACHINE, name="qc_release", user=user)


def batch_on_release(*, batch: Batch, user) -> Batch:
    """Quality recorded the production release (another person): the batch is released."""
    return transition_apply(
        model=Batch, pk=batch.pk, machine=BATCH_MACHINE, name="release", user=user, after=_announce_closed
    )


def batch_reject(*, user, batch: Batch, password: str, reason: str) -> Batch:
    return transition_apply(
        model=Batch,
        pk=batch.pk,
        machine=BATCH_MACHINE,
        name="reject",
        user=user,
        password=password,
        reason=reason,
        after=_announce_closed,
    )


def _announce_closed(batch: Batch) -> None:
    """The batch is closed for production (released or rejected: its record is approved and final, only
    archiving follows). Announced in the state change's transaction; the ERP, for one, is sent the
    batch's production performance (integrations.erp.subscribers)."""
    batch_closed.announce(batch=batch)


def batch_archive(*, user, batch: Batch) -> Batch:
    """Archive the released (or rejected) record: from now on nothing can change it (BAT-15)."""
    return transition_apply(model=Batch, pk=batch.pk, machine=BATCH_MACHINE, name="archive", user=user)
