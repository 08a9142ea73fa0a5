"""The operator's work in a running batch: confirm a step, record values, sign, verify, complete."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from audit.context import audit_context
from audit.services import audit_record
from audit.signatures import SignatureError, signature_check_password, signature_create
from batches.answers import PAIRS, answer_choices, answer_code, answer_label
from batches.models import (
    BATCH_MACHINE,
    EXECUTE,
    PREPARE,
    Batch,
    BatchRecord,
    BatchStatus,
    Entry,
    EntryKind,
    How,
    StepExecution,
    StepStatus,
    refuse_if_archived,
)
from batches.selectors import step_outline_rows
from batches.services.gates import step_materials
from batches.services.hooks import OUT_OF_RANGE, YIELD_OUT_OF_LIMITS, raise_deviation
from batches.services.preparation import batch_bom_lines
from equipment.models import Equipment
from equipment.services import equipment_check_usable, equipment_end_use, equipment_latest_reading, equipment_start_use
from materials.models import Lot
from materials.services import lot_create_output
from materials.services.balance import batch_material_balance
from mes.generated import GeneratedText
from mes.prepared import PreparedInstance
from mes.units import unit_label
from mes.workflow import AlreadyDone, transition_apply, user_may
from orders.services.training import training_is_current

YIELD_OUTSIDE = GeneratedText(gettext_noop("Yield %(y)s %% is outside %(lo)s–%(hi)s %%."))

# The limits of a yes/no check are an answer word ("Yes"), stored in English and shown translated.
OUT_OF_RANGE_DESCRIPTION = GeneratedText(
    gettext_noop("%(v)s %(u)s recorded, limits %(l)s. Comment: %(c)s"), words=("l",), shown={"u": unit_label}
)
STEP_EXECUTED_AGAIN = GeneratedText(gettext_noop("Step executed again"))
END_OF_BATCH = GeneratedText(gettext_noop("End of batch %(b)s"))

LATE_GRACE = dt.timedelta(minutes=30)


class EntryConflict(ValidationError):
    """Someone else recorded this value first (optimistic version check)."""


# --- who may execute -------------------------------------------------------------------------
def english_limits(entry) -> str:
    """The entry's limits as a stored sentence holds them: in English (a check's answer word)."""
    with translation.override("en"):
        return entry.limits_text


def require_executor(user, batch: Batch) -> None:
    """Assigned to the batch (object permission) and trained on this recipe version (BAT-3)."""
    if not user_may(user, EXECUTE, batch):
        raise PermissionDenied(_("You are not assigned to batch %(b)s.") % {"b": batch.number})
    if batch.recipe_id and not training_is_current(user=user, recipe=batch.recipe):
        raise PermissionDenied(
            _("You have no current training on %(r)s; you may not execute this batch.") % {"r": batch.recipe}
        )


def _running(batch: Batch, step: StepExecution | None = None) -> None:
    """The batch (just loaded by the calling service) lets its steps be executed. An archived batch is
    refused with the archive's own message; the save re-checks the stored status under its lock."""
    if batch.status == BatchStatus.ARCHIVED:
        refuse_if_archived(batch.pk)
    if batch.status == BatchStatus.CORRECTION_REQUESTED and step is not None and step.reopen_reason:
        return  # the reviewer asked for this step to be executed again
    if batch.status != BatchStatus.IN_PROGRESS:
        raise ValidationError(
            _("Batch %(b)s is %(s)s: steps can only be executed while it is in progress.")
            % {"b": batch.number, "s": batch.get_status_display().lower()}
        )


@dataclass(frozen=True)
class StepLink:
    """What the step buttons and the start check read of a batch's other steps. A batch has dozens of
    steps, each a wide audited row: loading them all as records was a large share of the step screen."""

    pk: int
    number: int
    status: str
    allow_parallel: bool

    @property
    def finished(self) -> bool:
        return self.status in (StepStatus.DONE, StepStatus.VERIFIED)


def step_outline(batch: Batch) -> list[StepLink]:
    """The batch's steps in order, as StepLinks (one narrow query)."""
    return [StepLink(*row) for row in step_outline_rows(batch.pk)]


def step_blockers(step: StepExecution, steps: list[StepExecution] | list[StepLink]) -> list[str]:
    """Why this step cannot start yet: earlier steps must be finished unless it may run in parallel."""
    earlier = [s for s in steps if s.number < step.number]
    if step.allow_parallel and earlier:
        # Parallel with its immediate predecessor only: everything before that must be finished.
        earlier = earlier[:-1]
    return [_("Step %(n)s is not finished yet.") % {"n": s.number} for s in earlier if not s.finished]


# The step with its batch (and the batch's recipe: the executor's training is checked on it) and its
# equipment, read (the checks before the signature's password) and read locked (the write): their SQL
# compiled once per process (mes.prepared), every call a query.
_STEP = PreparedInstance(
    StepExecution, lambda pk: StepExecution.objects.select_related("batch__recipe", "equipment").filter(pk=pk)
)
_STEP_LOCKED = PreparedInstance(
    StepExecution,
    lambda pk: (
        StepExecution.objects.select_for_update(of=("self",)).select_related("batch__recipe", "equipment").filter(pk=pk)
    ),
)

# The entry a value is recorded in, locked, with its batch (and recipe) and its step (and equipment): every
# recorded value loads it, and building this join was most of the CPU of recording one.
_ENTRY_LOCKED = PreparedInstance(
    Entry,
    lambda pk: (
        Entry.objects.select_for_update(of=("self",)).select_related("batch__recipe", "step__equipment").filter(pk=pk)
    ),
)

_ENTRIES = PreparedInstance(Entry, lambda step_id: Entry.objects.filter(step_id=step_id))
# The second person named on a verification: an active account by its user ID (`.first()`'s order).
_ACTIVE_USER = PreparedInstance(
    get_user_model(), lambda username: get_user_model().objects.filter(username=username, is_active=True).order_by("pk")
)


def _active_user(username: str):
    """The active account with this user ID, or None."""
    found = _ACTIVE_USER.all((username or "").strip())
    return found[0] if found else None


def _step_entries(step: StepExecution) -> list[Entry]:
    """The step's entries in their order (`step.entries.all()`), each knowing its step."""
    entries = _ENTRIES.all(step.pk)
    for entry in entries:
        entry.step = step
    return entries


def _lock_step(step_id: int) -> StepExecution:
    """The step, locked, with its batch (and the batch's recipe: the executor's training is checked on it)
    and its equipment."""
    return _STEP_LOCKED.get(step_id)


# --- confirm (scan) and start a step ---------------------------------------------------------
def step_start(*, user, step: StepExecution | int, scan: str, how: str = How.SCANNED) -> StepExecution:
    """Scan the equipment barcode (or the step code when no equipment is used) to start the step."""

    step_id = step.pk if isinstance(step, StepExecution) else step
    with transaction.atomic():
        # One load of the step, locked, for the checks and the write (it was read, then read again locked).
        current = _lock_step(step_id)
        batch = current.batch
        require_executor(user, batch)
        _running(batch, current)
        code = (scan or "").strip().upper()
        if current.status != StepStatus.PENDING:
            raise ValidationError(_("Step %(n)s has already been started.") % {"n": current.number})
        blockers = step_blockers(current, step_outline(batch))
        if blockers:
            raise ValidationError(blockers)
        equipment = None
        if current.equipment_class:
            equipment = Equipment.objects.filter(code__iexact=code).select_related("equipment_class").first()
            if equipment is None:
                raise ValidationError(_("“%(c)s” is not a known equipment barcode.") % {"c": scan})
            if equipment.equipment_class.code != current.equipment_class:
                raise ValidationError(
                    _("%(e)s is a %(cls)s; this step needs a %(need)s.")
                    % {"e": equipment.code, "cls": equipment.equipment_class.code, "need": current.equipment_class}
                )
            if equipment.current_batch_id != batch.pk:
                verdict = equipment_check_usable(equipment=equipment, product=batch.product)
                if not verdict.ok:
                    raise ValidationError([_("%(e)s cannot be used:") % {"e": equipment.code}, *verdict.reasons])
        elif code != step_code(current).upper():
            raise ValidationError(
                _("This barcode is not step %(n)s of batch %(b)s.") % {"n": current.number, "b": batch}
            )
        with audit_context(actor=user, action="batches.step.start"):
            locked = current  # locked before its status was checked: nobody can have started it since
            if equipment is not None and equipment.current_batch_id != batch.pk:
                equipment_start_use(
                    equipment=equipment, batch=batch, user=user, step=f"{locked.number}. {locked.title}"
                )
            locked.status = StepStatus.ACTIVE
            locked.equipment = equipment
            locked.started_by = user
            locked.started_at = timezone.now()
            locked.start_how = how if how in How.values else How.MANUAL
            locked.save()
    return locked


def step_code(step: StepExecution) -> str:
    """The barcode printed on the paper traveller for a step without equipment."""
    return f"{step.batch.number}-S{step.number}"


# --- record a value --------------------------------------------------------------------------
def _parse(entry: Entry, value: str) -> tuple[Decimal | None, bool | None]:
    """The numeric value (if any) and whether it lies within the limits or matches the answer."""
    value = (value or "").strip()
    if entry.kind == EntryKind.CHECK and entry.expected_answer:
        expected = answer_code(entry.expected_answer)
        if expected is not None:  # yes/no, pass/fail: compared as codes, whatever the language
            given = answer_code(value)
            if given is None or PAIRS[given] != PAIRS[expected]:
                raise ValidationError(
                    _("Answer %(n)s with one of: %(choices)s.")
                    % {"n": entry.display_name, "choices": " / ".join(label for _c, label in answer_choices(expected))}
                )
            return None, given == expected
        return None, value.lower() == entry.expected_answer.strip().lower()
    try:
        number = Decimal(value.replace(",", "."))
    except InvalidOperation:
        raise ValidationError(_("Enter a number for %(n)s.") % {"n": entry.display_name}) from None
    if not number.is_finite():
        raise ValidationError(_("Enter a number for %(n)s.") % {"n": entry.display_name})
    ok = (entry.minimum is None or number >= entry.minimum) and (entry.maximum is None or number <= entry.maximum)
    return number, ok


def stored_value(entry: Entry, value: str) -> str:
    """What the record keeps: the language-independent code of a yes/no or pass/fail answer, else the text."""
    value = (value or "").strip()
    if entry.kind == EntryKind.CHECK and answer_code(entry.expected_answer) is not None:
        return answer_code(value) or value
    return value


def value_refusal(entry: Entry, value: str) -> str:
    """Why an answer or value needs a comment (it opens a deviation), in the reader's words."""
    if entry.kind == EntryKind.CHECK and answer_code(entry.expected_answer) is not None:
        return _("%(n)s was answered “%(v)s”, expected “%(e)s”. Add a comment: a deviation will be opened.") % {
            "n": entry.display_name,
            "v": answer_label(value),
            "e": answer_label(entry.expected_answer),
        }
    return _("%(v)s is outside the limits %(l)s of %(n)s. Add a comment: a deviation will be opened.") % {
        "v": value,
        "l": entry.limits_text,
        "n": entry.display_name,
    }


def machine_reading(entry: Entry, step: StepExecution):
    """The latest machine value of the entry's equipment tag, if the step uses that equipment."""
    if not entry.equipment_tag or step.equipment_id is None:
        return None
    reading = equipment_latest_reading(equipment=step.equipment_id, tag_key=entry.equipment_tag)
    return reading if reading is not None and reading.value is not None and reading.good else None


def _fmt_number(value) -> str:
    d = Decimal(str(value)).quantize(Decimal("0.0001")).normalize()
    return f"{d:f}"


def entry_record(
    *,
    user,
    entry: Entry | int,
    value: str,
    version: int,
    comment: str = "",
    override_reason: str = "",
    how: str = How.MANUAL,
) -> Entry:
    """Record one value of an active step, validated on entry (BAT-5..7).

    Out of range needs a comment and opens a deviation. A value bound to an equipment tag is taken
    from the machine; typing another value needs a reason and is kept as an override. `version` is
    the version the user saw: if someone recorded the value meanwhile, nothing is overwritten.
    """
    entry_id = entry.pk if isinstance(entry, Entry) else entry
    with transaction.atomic():
        # One load of the entry, locked, for the checks and the write (it was read, then read again locked).
        current = _lock_entry(entry_id)
        batch, step = current.batch, current.step
        require_executor(user, batch)
        _running(batch, step)
        if step.status != StepStatus.ACTIVE:
            raise ValidationError(_("Start step %(n)s first (scan its barcode).") % {"n": step.number})
        comment, override_reason = (comment or "").strip(), (override_reason or "").strip()
        value = (value or "").strip()
        reading = machine_reading(current, step)
        machine_text = _fmt_number(reading.value) if reading is not None else ""
        if not value and reading is not None:
            value, how = machine_text, How.MACHINE
        if not value:
            raise ValidationError(_("Enter a value for %(n)s.") % {"n": current.display_name})
        number, ok = _parse(current, value)
        value = stored_value(current, value)
        if reading is not None:
            if number is not None and number == Decimal(machine_text):
                how = How.MACHINE
            elif not override_reason:
                raise ValidationError(
                    _("%(n)s was read from the machine (%(v)s %(u)s). Give a reason to record another value.")
                    % {"n": current.display_name, "v": machine_text, "u": current.unit}
                )
            else:
                how = How.MANUAL
        elif current.equipment_tag:
            # Bound to a machine tag but nothing was captured: typing it is an exception the review sees.
            if not override_reason:
                raise ValidationError(
                    _(
                        "%(n)s must be read from the machine, but no value of %(t)s has been captured. Give a reason"
                        " to type it: it will be flagged as missing machine data for the review."
                    )
                    % {"n": current.display_name, "t": current.equipment_tag}
                )
            how = How.MANUAL
        if not ok and not comment:
            raise ValidationError(value_refusal(current, value))
        with audit_context(actor=user, action="batches.entry.record", reason=comment):
            locked = current
            _check_version(locked, version)
            locked.value = value
            locked.numeric_value = number
            locked.in_range = ok
            locked.comment = comment
            locked.how = how if how in How.values else How.MANUAL
            locked.machine_value = machine_text
            locked.override_reason = override_reason if current.equipment_tag and how != How.MACHINE else ""
            locked.entered_by = user
            locked.entered_at = timezone.now()
            locked.version += 1
            if not ok:
                locked.deviation_ref = raise_deviation(
                    user=user,
                    batch=batch,
                    title=OUT_OF_RANGE(n=current.name, s=step.number),
                    description=OUT_OF_RANGE_DESCRIPTION
                    % {"v": value, "u": current.unit, "l": english_limits(current), "c": comment},
                    source="parameter",
                    classification="major" if current.critical else "minor",
                    links=[locked],
                )
            locked.save()
    return locked


def _lock_entry(entry_id: int) -> Entry:
    """The entry, locked, with what its checks read (batch and recipe, step and equipment). The step's
    batch is the entry's own batch row: the audit event names the entry by both without another query."""
    entry = _ENTRY_LOCKED.get(entry_id)
    if entry.step.batch_id == entry.batch_id:
        entry.step.batch = entry.batch
    return entry


def _check_version(locked: Entry, version) -> None:
    if int(version) != locked.version or (locked.entered_at and int(version) == 0):
        who = locked.entered_by.get_full_name() or locked.entered_by.get_username() if locked.entered_by else "?"
        raise EntryConflict(
            _(
                "%(n)s was recorded by %(who)s at %(t)s while you were typing (value %(v)s). Nothing was overwritten;"
                " check the value and correct it with a reason if needed."
            )
            % {
                "n": locked.display_name,
                "who": who,
                "t": timezone.localtime(locked.entered_at).strftime("%H:%M:%S") if locked.entered_at else "?",
                "v": locked.value,
            }
        )


# --- sign and verify -------------------------------------------------------------------------
def step_sign(*, user, step: StepExecution | int, password: str, material_exception_reason: str = "") -> StepExecution:
    """The performer signs the completed step (BAT-8).

    Every value must be recorded; a value bound to a machine tag and not yet recorded is captured
    from the machine now (none captured: the operator types it with a reason, flagged for review).
    The materials the recipe lists for this step must be issued to the batch within tolerance, or
    the operator records why the step is signed without them (an exception the review shows).
    """
    step_id = step.pk if isinstance(step, StepExecution) else step
    current = _STEP.get(step_id)
    require_executor(user, current.batch)
    _running(current.batch, current)
    _signed_already(current, user)
    if current.status != StepStatus.ACTIVE:
        raise ValidationError(_("Step %(n)s is not in progress.") % {"n": current.number})
    entries = _step_entries(current)
    if _capture_machine_values(user, current, entries):
        entries = _step_entries(current)  # read again: the captured values were recorded
    no_machine = [e.display_name for e in entries if not e.recorded and e.equipment_tag]
    if no_machine:
        raise ValidationError(
            _("No machine value was captured for %(m)s: type it with a reason (it is flagged for the review).")
            % {"m": ", ".join(no_machine)}
        )
    missing = [e.display_name for e in entries if not e.recorded]
    if missing:
        raise ValidationError(_("Record every value first: %(m)s.") % {"m": ", ".join(missing)})
    materials = step_materials(current)
    short = [m for m in materials if not m.ok]
    material_exception_reason = (material_exception_reason or "").strip()
    if short and not material_exception_reason:
        raise ValidationError(
            [
                _("The materials of step %(n)s are not issued to the batch within tolerance:") % {"n": current.number},
                *[m.text for m in short],
                _("Issue them first, or record an exception with the reason."),
            ]
        )
    signature_check_password(user=user, password=password, purpose="batches.step.sign")
    reason = material_exception_reason if short else ""
    with transaction.atomic(), audit_context(actor=user, action="batches.step.sign", reason=reason):
        locked = _lock_step(step_id)
        _signed_already(locked, user)  # a double click: the first submit signed it
        if locked.status != StepStatus.ACTIVE:
            raise EntryConflict(_("Step %(n)s was signed by someone else just now.") % {"n": locked.number})
        locked.status = StepStatus.DONE
        locked.performed_by = user
        locked.performed_at = timezone.now()
        locked.material_check = [m.as_record() for m in materials]
        locked.material_exception = reason
        locked.save()
        if locked.batch.status == BatchStatus.CORRECTION_REQUESTED and locked.equipment_id:
            # A step executed again after completion: its equipment is shut down (dirty) as at completion.

            equipment_end_use(equipment=locked.equipment_id, user=user, reason=STEP_EXECUTED_AGAIN())
        signature_create(signer=user, obj=locked, meaning="performed", action="batches.step.sign")
    return locked


def _signed_already(step: StepExecution, user) -> None:
    """A repeated "sign" by the person who signed the step is answered as done, not as a conflict."""
    if step.status in (StepStatus.DONE, StepStatus.VERIFIED) and step.performed_by_id == user.pk:
        raise AlreadyDone(_("Step %(n)s is already signed by you.") % {"n": step.number})


def _verified_already(step: StepExecution, verifier) -> None:
    if step.status == StepStatus.VERIFIED and step.verified_by_id == verifier.pk:
        raise AlreadyDone(_("Step %(n)s is already verified by you.") % {"n": step.number})


def _capture_machine_values(user, step: StepExecution, entries: list[Entry]) -> bool:
    """Unrecorded values bound to a machine tag take the captured machine value at sign-off. The step's
    entries are those just loaded (no query of their own); True when a value was recorded."""
    captured = False
    for entry in entries:
        if entry.entered_at is None and entry.equipment_tag and machine_reading(entry, step) is not None:
            entry_record(user=user, entry=entry, value="", version=entry.version, how=How.MACHINE)
            captured = True
    return captured


def step_complete(step: StepExecution) -> bool:
    """Signed by the performer and, for a critical step, verified by a second person."""
    return step.status == StepStatus.VERIFIED or (step.status == StepStatus.DONE and not step.verifier_required)


def step_needs_verification(step: StepExecution) -> bool:
    return step.verifier_required and step.status == StepStatus.DONE


def step_verify(*, user, step: StepExecution | int, verifier_username: str, password: str) -> StepExecution:
    """A second person verifies a critical step with their own user ID and password, never the performer."""
    step_id = step.pk if isinstance(step, StepExecution) else step
    current = _STEP.get(step_id)
    batch = current.batch
    _running(batch, current)
    verifier = _active_user(verifier_username)
    if verifier is not None:
        _verified_already(current, verifier)
    if not step_needs_verification(current):
        raise ValidationError(_("Step %(n)s is not waiting for verification.") % {"n": current.number})
    if verifier is None:
        raise ValidationError(_("Unknown user ID for the verifier."))
    if verifier.pk == current.performed_by_id:
        with transaction.atomic(), audit_context(actor=verifier, action="batches.step.verify_refused_same_person"):
            locked = _lock_step(step_id)
            locked.same_person_refusals += 1
            locked.save()
        raise ValidationError(_("The performer cannot verify their own step. A second person must verify."))
    if not (user_may(verifier, EXECUTE, batch) or user_may(verifier, PREPARE, batch)):
        raise PermissionDenied(_("%(u)s may not verify steps of this batch.") % {"u": verifier.get_username()})
    try:
        signature_check_password(
            user=verifier, password=password, purpose="batches.step.verify", username=verifier.get_username()
        )
    except SignatureError as exc:
        raise ValidationError(str(exc)) from None
    with transaction.atomic(), audit_context(actor=verifier, action="batches.step.verify"):
        locked = _lock_step(step_id)
        _verified_already(locked, verifier)
        if not step_needs_verification(locked):
            raise EntryConflict(_("Step %(n)s was verified by someone else just now.") % {"n": locked.number})
        locked.status = StepStatus.VERIFIED
        locked.verified_by = verifier
        locked.verified_at = timezone.now()
        locked.save()
        signature_create(signer=verifier, obj=locked, meaning="verified", action="batches.step.verify")
    return locked


# --- completion ------------------------------------------------------------------------------
def batch_complete(*, user, batch: Batch, password: str, output_quantity, expiry_date=None) -> Batch:
    """Every step done: compute yield and balance (out of limits -> deviation), equipment to dirty,
    output lot in quarantine (BAT-10, MAT-7, MAT-8)."""

    require_executor(user, batch)
    try:
        output = Decimal(str(output_quantity).replace(",", "."))
    except InvalidOperation:
        raise ValidationError(_("Enter the output quantity as a number.")) from None
    if not output.is_finite() or output <= 0:
        raise ValidationError(_("Enter the output quantity as a positive number."))

    def guard(obj):
        open_steps = [s.number for s in obj.steps.all() if not step_complete(s)]
        if open_steps:
            raise ValidationError(
                _("Steps not finished or not verified: %(s)s.") % {"s": ", ".join(str(n) for n in open_steps)}
            )

    def after(obj):
        record = BatchRecord.objects.select_for_update().get(batch=obj)
        snap = record.snapshot
        limits = (Decimal(snap["yield_min"]), Decimal(snap["yield_max"]))
        for eq in Equipment.objects.filter(current_batch=obj):
            equipment_end_use(equipment=eq, user=user, reason=END_OF_BATCH % {"b": obj.number})
        lot = lot_create_output(
            user=user, batch=obj, quantity=output, unit=obj.unit, expiry_date=expiry_date or _rework_expiry(obj)
        )
        balance = batch_material_balance(batch=obj, requirements=batch_bom_lines(obj), yield_limits=limits)
        yield_pct = (output / Decimal(obj.planned_quantity) * 100).quantize(Decimal("0.01"))
        flags = [f.message for f in balance.flags]
        if not limits[0] <= yield_pct <= limits[1] and not any("yield" in f.code for f in balance.flags):
            flags.append(YIELD_OUTSIDE % {"y": yield_pct, "lo": limits[0], "hi": limits[1]})
        deviation = ""
        if flags:
            deviation = raise_deviation(
                user=user,
                batch=obj,
                title=YIELD_OUT_OF_LIMITS(b=obj.number),
                description="\n".join(str(f) for f in flags),  # one generated sentence a line
                source="yield",
                classification="major",
            )
        with audit_context(actor=user, action="batches.record.complete"):
            record.completed_at = timezone.now()
            record.output_quantity = output
            record.yield_pct = yield_pct
            record.balance_summary = {"flags": [str(f) for f in flags], "deviation": deviation, "lot": lot.code}
            record.save()

    return transition_apply(
        model=Batch,
        pk=batch.pk,
        machine=BATCH_MACHINE,
        name="complete",
        user=user,
        password=password,
        guard=guard,
        after=after,
    )


def _rework_expiry(batch: Batch):
    """A reworked lot keeps the original lot's expiry date: rework does not make old material new."""
    if not batch.rework_lot_id:
        return None

    return Lot.objects.values_list("expiry_date", flat=True).get(pk=batch.rework_lot_id)


def entry_log_refusal(*, user, entry: Entry, message: str) -> None:
    """A refused entry is audited too (what was tried, by whom)."""
    with transaction.atomic():
        audit_record(
            action="batches.entry.refused",
            actor=user,
            obj=entry.batch,
            reason=message,
            new={"entry": entry.pk, "name": entry.name},
        )
