"""Executing a step again on the reviewer's request: the earlier execution is kept whole (StepAttempt)
and shown struck through; the step re-opens with the reason and is executed and signed again."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.context import audit_context
from batches.models import Batch, StepAttempt, StepExecution, StepStatus


def _who(user) -> str:
    return (user.get_full_name() or user.get_username()) if user else ""


def _when(value) -> str:
    return value.isoformat() if value else ""


def step_execution_record(step: StepExecution) -> dict:
    """The step's execution as it stands (who, when, equipment, materials, every value), as JSON."""
    entries = step.entries.select_related("entered_by").order_by("kind", "position", "id")
    return {
        "started_by": _who(step.started_by),
        "started_at": _when(step.started_at),
        "start_how": step.start_how,
        "equipment": step.equipment.code if step.equipment_id else "",
        "performed_by": _who(step.performed_by),
        "performed_at": _when(step.performed_at),
        "verified_by": _who(step.verified_by),
        "verified_at": _when(step.verified_at),
        "material_check": step.material_check,
        "material_exception": step.material_exception,
        "reopen_reason": step.reopen_reason,
        "entries": [
            {
                "name": e.name,
                "unit": e.unit,
                "value": e.value,
                "how": e.how,
                "machine_value": e.machine_value,
                "override_reason": e.override_reason,
                "comment": e.comment,
                "in_range": e.in_range,
                "deviation": e.deviation_ref,
                "entered_by": _who(e.entered_by),
                "entered_at": _when(e.entered_at),
            }
            for e in entries
        ],
    }


def step_reopen(*, user, batch: Batch, number: int, reason: str) -> StepExecution:
    """Re-open step `number` of `batch` (locked by the caller, in its transaction): keep the earlier
    execution, clear the step and its values for the new execution, with the reason."""
    step = (
        StepExecution.objects.select_for_update(of=("self",))
        .select_related("started_by", "performed_by", "verified_by", "equipment")
        .filter(batch=batch, number=number)
        .first()
    )
    if step is None:
        raise ValidationError(_("Batch %(b)s has no step %(n)s.") % {"b": batch.number, "n": number})
    if not step.finished:
        raise ValidationError(_("Step %(n)s has not been executed yet.") % {"n": number})
    now = timezone.now()
    with audit_context(actor=user, action="batches.step.reopen", reason=reason):
        StepAttempt.objects.create(
            batch=batch,
            step=step,
            attempt=step.attempt,
            record=step_execution_record(step),
            reason=reason,
            reopened_by=user,
            reopened_at=now,
        )
        for entry in step.entries.all():
            entry.value, entry.numeric_value, entry.in_range = "", None, None
            entry.comment = entry.how = entry.machine_value = entry.override_reason = entry.deviation_ref = ""
            entry.entered_by, entry.entered_at = None, None
            entry.version += 1
            entry.save()
        step.status = StepStatus.PENDING
        step.started_by = step.performed_by = step.verified_by = step.equipment = None
        step.started_at = step.performed_at = step.verified_at = None
        step.start_how = ""
        step.material_check, step.material_exception = [], ""
        step.attempt += 1
        step.reopen_reason = reason
        step.save()
    return step
