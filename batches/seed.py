"""Demo batches in several states through the services: one ready, one in progress with steps done,
one completed awaiting review, so the supervisor, the operators and QC each have work waiting."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from audit.signatures import SignatureError
from batches import services as s
from batches.models import Batch
from batches.services import batch_bom_lines, batch_preparation
from batches.services.execution import machine_reading
from equipment.models import Equipment
from equipment.services import equipment_cleaning_finish, equipment_cleaning_start, equipment_daily_check_record
from equipment.services.care import checklist_for
from materials.models import Location
from materials.seed import demo_release_on_evidence
from materials.services import lot_issue_to_batch, lot_receive, lot_suggest_fefo
from mes.seed import DEMO_PASSWORD
from mes.units import quantity_text

SEED_ORDER = 40
PW = DEMO_PASSWORD
# The seed runs before the OPC UA simulator has delivered a reading, and several demo recipe values are
# bound to node ids no equipment tag captures: a value with no reading is typed from the machine's display,
# as an operator does when the link is down, and the batch review lists it as missing machine data.
NO_MACHINE_VALUE = "Machine link down: value read from the machine display"


def _user(name):
    return get_user_model().objects.get(username=name)


def _clean_equipment_for(batch, stdout) -> None:
    """The demo plant has dirty equipment on the line: clean (and sign) what the batch needs."""

    prep = batch_preparation(batch)
    op = _user("operator")
    for row in prep.steps:
        if row.ok:
            continue
        for code, _verdict in row.equipment:
            eq = Equipment.objects.get(code=code)
            try:
                _daily_check_today(eq, op)
                if eq.status == "dirty":
                    equipment_cleaning_start(equipment=eq, user=op, kind="full")
                if Equipment.objects.get(pk=eq.pk).status == "cleaning":
                    equipment_cleaning_finish(equipment=eq, user=op, password=PW)
                    break
            except (ValidationError, PermissionDenied, SignatureError) as exc:
                stdout.write(f"  batches: {code} not cleaned: {exc}")


def _daily_check_today(eq, user) -> None:
    """A missing daily check blocks use (issue 16): the operator does it before the demo batch runs."""

    items = checklist_for(eq)
    done = eq.daily_checks.filter(performed_at__date=timezone.localdate(), passed=True).exists()
    if items and not done and eq.status not in ("in_use", "out_of_service"):
        equipment_daily_check_record(equipment=eq, user=user, answers={i.pk: (True, "") for i in items})


def _stock_short_materials(batch) -> None:
    """Granules from an earlier campaign: receive and release what the demo warehouse lacks."""

    for row in batch_preparation(batch).materials:
        if row.ok:
            continue
        material = row.requirement.material
        location = Location.objects.filter(condition=material.storage_condition, active=True).order_by("code").first()
        lot = lot_receive(
            user=_user("warehouse"),
            material=material,
            quantity=row.requirement.quantity * 2,
            unit=row.requirement.unit,
            location=location,
            supplier="Own production",
            supplier_lot="CAMPAIGN-1",
            expiry_date=timezone.localdate() + dt.timedelta(days=365),
        )
        demo_release_on_evidence(lot=lot, qc=_user("qc"), qa=_user("qa"), password=PW)


def _run_steps(batch, count: int, lots_needed: bool) -> None:
    op, op2 = _user("operator"), _user("operator2")
    for step in list(batch.steps.order_by("number"))[:count]:
        scan = s.step_code(step)
        if step.equipment_class:
            eq = (
                Equipment.objects.filter(equipment_class__code=step.equipment_class, line_id=batch.line_id)
                .filter(status__in=["available", "in_use"])
                .order_by("code")
                .first()
            )
            scan = eq.code if eq else ""
        s.step_start(user=op, step=step, scan=scan)
        step.refresh_from_db()
        for entry in step.entries.all():
            value = entry.expected_answer or quantity_text(entry.target or entry.minimum or 1)  # "130", not "1.3E+2"
            reason = ""
            if entry.equipment_tag and machine_reading(entry, step) is not None:
                value = ""  # taken from the machine
            elif entry.equipment_tag:
                reason = NO_MACHINE_VALUE  # the review sees it as missing machine data
            s.entry_record(user=op, entry=entry, value=value, version=entry.version, override_reason=reason)
        s.step_sign(user=op, step=step, password=PW)
        step.refresh_from_db()
        if step.verifier_required:
            s.step_verify(user=op, step=step, verifier_username=op2.username, password=PW)


def _issue(batch) -> None:
    for req in batch_bom_lines(batch):
        for lot in lot_suggest_fefo(material=req.material, limit=1):
            lot_issue_to_batch(
                user=_user("operator"),
                batch=batch,
                lot_code=lot.code,
                quantity=req.quantity,
                unit=req.unit,
                requirement=req,
                verifier=_user("operator2"),
                verifier_password=PW,
            )


def _advance(batch, target: str, stdout) -> None:
    sup = _user("supervisor")
    try:
        if batch.status == "planned":
            _clean_equipment_for(batch, stdout)
            _stock_short_materials(batch)
            s.batch_line_clearance_sign(user=sup, batch=batch, password=PW, confirmed=True)
            s.batch_mark_ready(user=sup, batch=batch, password=PW)
        if target == "ready":
            return
        s.batch_start(user=sup, batch=Batch.objects.get(pk=batch.pk))
        batch = Batch.objects.get(pk=batch.pk)
        steps = batch.steps.count()
        # Steps that use materials are signed only once they are issued to the batch (issue 16).
        _issue(batch)
        if target == "in_progress":
            _run_steps(batch, max(steps // 2, 1), False)
            return
        _run_steps(batch, steps, True)
        s.batch_complete(
            user=_user("operator"), batch=batch, password=PW, output_quantity=batch.planned_quantity * 97 / 100
        )
    except (ValidationError, PermissionDenied, SignatureError) as exc:
        msgs = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        stdout.write(f"  batches: {batch.number} stopped before {target}: {msgs}")


def seed(stdout) -> None:
    if Batch.objects.exclude(status="planned").exists():
        stdout.write("  batches: already seeded")
        return

    planned = list(Batch.objects.filter(status="planned", recipe__isnull=False).order_by("number"))
    # Batches whose materials are in stock first (the demo warehouse holds raw materials, not granules).
    planned.sort(key=lambda b: (not all(m.ok for m in batch_preparation(b).materials), b.number))
    # The ready batch first: it is the operator's dispense order waiting (issue 19), and a batch that
    # cannot run to its target (machine data missing at seed time) must not hold the line's equipment
    # before the ready batch's preparation checks it.
    pairs = list(zip(planned, ("completed", "in_progress", "ready"), strict=False))
    for batch, target in sorted(pairs, key=lambda p: p[1] != "ready"):
        _advance(batch, target, stdout)
    counts = {s: Batch.objects.filter(status=s).count() for s in ("planned", "ready", "in_progress", "completed")}
    stdout.write(f"  batches: {counts}")
