"""Batch execution fixtures: an effective recipe, clean equipment, released lots, trained operators,
a released order and its planned batch, built through the owning apps' services."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from audit.context import audit_context
from mes.demo_accounts import DEMO_PASSWORD
from tests.orders.conftest import advance, build_recipe, fresh, make_effective, order_values, plant  # noqa: F401

PW = DEMO_PASSWORD


def make_equipment(code, cls_code):
    from equipment.models import Equipment, EquipmentClass
    from mes.models import Line

    today = timezone.localdate()
    with audit_context(action="test.equipment.create"):
        eq = Equipment.objects.create(
            code=code,
            name=f"Equipment {code}",
            equipment_class=EquipmentClass.objects.get(code=cls_code),
            line=Line.objects.get(code="L1"),
            cleaned_at=timezone.now() - dt.timedelta(hours=1),
            calibration_interval_days=180,
            last_calibrated_on=today - dt.timedelta(days=30),
            calibration_due_on=today + dt.timedelta(days=150),
            qualified_on=today - dt.timedelta(days=300),
        )
        _daily_check_passed(eq)
    return eq


def _daily_check_passed(eq) -> None:
    """Today's daily check, passed (a missing one blocks use, issue 16)."""
    from django.contrib.auth import get_user_model

    from equipment.models import DailyCheck

    if eq.equipment_class.checklist.exists():
        checker, _created = get_user_model().objects.get_or_create(username="fixture-daily-checker")
        DailyCheck.objects.create(equipment=eq, performed_by=checker, passed=True)


def released_lot(users, code, quantity):
    from materials.models import Location, Material
    from materials.services import lot_receive

    material = Material.objects.get(code=code)
    location = Location.objects.filter(condition=material.storage_condition, active=True).first()
    if location is None:
        with audit_context(action="test.setup"):
            location = Location.objects.create(
                code=f"WH-{material.storage_condition}", name="Warehouse", condition=material.storage_condition
            )
    lot = lot_receive(
        user=users["warehouse"],
        material=material,
        quantity=quantity,
        unit=material.unit,
        location=location,
        supplier="Acme",
        supplier_lot="S-1",
        expiry_date=timezone.localdate() + dt.timedelta(days=300),
    )
    from quality.seed_evidence import lot_release_on_evidence

    return lot_release_on_evidence(lot=lot, qc=users["qc"], qa=users["qa"], password=PW)


def train(users, recipe, *names):
    from orders.services.training import training_record_create

    for name in names:
        training_record_create(
            user=users["supervisor"],
            trainee=users[name],
            recipe=recipe,
            trained_on=timezone.localdate() - dt.timedelta(days=1),
            valid_until=timezone.localdate() + dt.timedelta(days=365),
        )


@pytest.fixture
def setup(plant, users):  # noqa: F811
    """{recipe, order, batch, equipment, lots}: batch planned, everything needed for it in place."""
    from orders.services import order_create, order_create_batches

    recipe = make_effective(build_recipe(users["supervisor"]), users["supervisor"], users["qa"])
    equipment = {"GRAN": make_equipment("GRAN-01", "GRAN"), "FBD": make_equipment("FBD-01", "FBD")}
    lots = {"api": released_lot(users, "RM-API-001", "400"), "exc": released_lot(users, "RM-EXC-010", "100")}
    train(users, recipe, "operator", "operator2")
    order = order_create(user=users["planner"], **order_values())
    advance(order, "released", users)
    batch = order_create_batches(
        user=users["supervisor"], order_id=order.pk, count=2, operators=[users["operator"], users["operator2"]]
    )[0]
    return {"recipe": recipe, "order": order, "batch": batch, "equipment": equipment, "lots": lots}


@pytest.fixture
def running(setup, users):
    """The batch prepared, cleared, ready and started."""
    from batches import services as s

    batch = setup["batch"]
    s.batch_line_clearance_sign(user=users["supervisor"], batch=batch, password=PW, confirmed=True)
    s.batch_mark_ready(user=users["supervisor"], batch=batch, password=PW)
    s.batch_start(user=users["supervisor"], batch=batch)
    batch.refresh_from_db()
    setup["batch"] = batch
    return setup


def run_all_steps(batch, users, *, values=None):
    """Execute every step in range (operator performs, operator2 verifies critical steps)."""
    from batches import services as s

    op = fresh(users["operator"])
    for step in batch.steps.order_by("number"):
        scan = step.equipment_class and {"GRAN": "GRAN-01", "FBD": "FBD-01"}[step.equipment_class] or s.step_code(step)
        s.step_start(user=op, step=step, scan=scan)
        for entry in step.entries.all():
            value = (values or {}).get(entry.name) or (entry.expected_answer or str(entry.target or entry.minimum or 1))
            s.entry_record(user=op, entry=entry, value=value, version=entry.version, comment="noted")
        s.step_sign(user=op, step=step, password=PW)
        step.refresh_from_db()
        if step.verifier_required:
            s.step_verify(user=fresh(users["operator2"]), step=step, verifier_username="operator2", password=PW)


def issue_all(batch, users, lots):
    from batches.services import batch_bom_lines
    from materials.services import lot_issue_to_batch

    for req, lot in zip(batch_bom_lines(batch), (lots["api"], lots["exc"]), strict=True):
        lot_issue_to_batch(
            user=fresh(users["operator"]),
            batch=batch,
            lot_code=lot.code,
            quantity=req.quantity,
            unit=req.unit,
            requirement=req,
            verifier=fresh(users["operator2"]),
            verifier_password=PW,
        )
