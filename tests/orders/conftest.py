"""Fixtures for the orders tests: the demo plant master data and small recipes built by services."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.utils import timezone

from mes.seed import DEMO_PASSWORD


@pytest.fixture
def plant(db):
    """Lines, equipment classes and the demo materials (no recipes, no orders)."""
    from equipment.seed import seed_classes as seed_equipment
    from materials.seed import seed_master as seed_materials
    from mes.seed import seed_plant

    seed_plant()
    seed_equipment(io.StringIO())
    seed_materials(io.StringIO())


def fresh(user):
    """The same user without cached permissions (after grants)."""
    return type(user).objects.get(pk=user.pk)


def build_recipe(author, product_code="IM-GRN-500", *, batch_size="200", unit="kg"):
    """A small complete draft: two BOM lines, two steps, a critical parameter and a check."""
    from equipment.models import EquipmentClass
    from materials.models import Material
    from orders import services as s

    product = Material.objects.get(code=product_code)
    recipe = s.recipe_create(
        user=author, product=product, title=f"{product_code} process", batch_size=Decimal(batch_size), unit=unit
    )
    s.recipe_bom_line_save(
        user=author,
        recipe_id=recipe.pk,
        position=1,
        material=Material.objects.get(code="RM-API-001"),
        quantity=Decimal("170"),
        unit="kg",
        tolerance_pct=Decimal("0.5"),
        weigh_and_verify=True,
        step_number=10,
    )
    s.recipe_bom_line_save(
        user=author,
        recipe_id=recipe.pk,
        position=2,
        material=Material.objects.get(code="RM-EXC-010"),
        quantity=Decimal("20"),
        unit="kg",
        tolerance_pct=Decimal("1"),
        weigh_and_verify=True,
        step_number=10,
    )
    step = s.recipe_step_save(
        user=author,
        recipe_id=recipe.pk,
        number=10,
        title="Granulation",
        title_zh="制粒",
        instruction="Granulate.",
        instruction_zh="制粒。",
        equipment_class=EquipmentClass.objects.get(code="GRAN"),
        duration_minutes=40,
        verifier_signature=True,
    )
    s.recipe_parameter_save(
        user=author,
        recipe_id=recipe.pk,
        step_id=step.pk,
        name="Impeller speed",
        unit="rpm",
        target=Decimal("150"),
        minimum=Decimal("140"),
        maximum=Decimal("160"),
        critical=True,
    )
    s.recipe_check_save(
        user=author,
        recipe_id=recipe.pk,
        step_id=step.pk,
        number=1,
        kind="question",
        question="End-point reached?",
        expected_answer="Yes",
    )
    s.recipe_step_save(
        user=author,
        recipe_id=recipe.pk,
        number=20,
        title="Drying",
        instruction="Dry.",
        equipment_class=EquipmentClass.objects.get(code="FBD"),
        duration_minutes=60,
    )
    return recipe


def make_effective(recipe, author, qa):
    from orders import services as s

    s.recipe_submit(user=author, recipe_id=recipe.pk, password=DEMO_PASSWORD)
    s.recipe_approve(user=qa, recipe_id=recipe.pk, password=DEMO_PASSWORD)
    return s.recipe_make_effective(user=qa, recipe_id=recipe.pk, password=DEMO_PASSWORD)


@pytest.fixture
def effective_recipe(plant, users):
    return make_effective(build_recipe(users["supervisor"]), users["supervisor"], users["qa"])


def order_values(**overrides):
    from materials.models import Material
    from mes.models import Line

    start = timezone.now() + dt.timedelta(days=1)
    values = {
        "product": Material.objects.get(code="IM-GRN-500"),
        "planned_quantity": Decimal("400"),
        "unit": "kg",
        "planned_start": start,
        "planned_end": start + dt.timedelta(hours=16),
        "line": Line.objects.get(code="L1"),
        "priority": 3,
    }
    values.update(overrides)
    return values


@pytest.fixture
def draft_order(effective_recipe, users):
    from orders.services import order_create

    return order_create(user=users["planner"], **order_values())


def advance(order, state, users):
    """Take an order through the lifecycle up to `state` with the demo users."""
    from orders import services as s

    pw = DEMO_PASSWORD
    steps = ["submitted", "approved", "released", "in_progress", "completed", "closed"]
    for target in steps[: steps.index(state) + 1]:
        if target == "submitted":
            s.order_submit(user=users["planner"], order_id=order.pk, password=pw)
        elif target == "approved":
            s.order_approve(user=users["supervisor"], order_id=order.pk, password=pw)
        elif target == "released":
            s.order_release(user=users["supervisor"], order_id=order.pk, password=pw)
        elif target == "in_progress":
            s.order_start(user=users["supervisor"], order_id=order.pk)
        elif target == "completed":
            s.order_complete(user=users["supervisor"], order_id=order.pk, password=pw)
        elif target == "closed":
            s.order_close(user=users["supervisor"], order_id=order.pk, password=pw)
    order.refresh_from_db()
    return order
