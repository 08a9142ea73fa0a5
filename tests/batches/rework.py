"""Rework test helpers: a batch really executed, its output lot failed by QC and rejected, a rework
disposition approved by QA, and the product's effective rework master batch record."""

from __future__ import annotations

from decimal import Decimal

from mes.demo_accounts import DEMO_PASSWORD
from tests.orders.conftest import fresh

PW = DEMO_PASSWORD


def build_rework_recipe(users, product_code="IM-GRN-500"):
    """An effective rework MBR: the product itself back in (±1 %), one re-sieving step with a check."""
    from materials.models import Material
    from orders import services as s
    from tests.orders.conftest import make_effective

    sup = users["supervisor"]
    product = Material.objects.get(code=product_code)
    recipe = s.recipe_create(
        user=sup, product=product, title=f"{product_code} rework: re-sieve", batch_size=Decimal("200"), unit="kg",
        yield_min=Decimal("90"), expected_yield=Decimal("97"), yield_max=Decimal("100"), purpose="rework",
    )  # fmt: skip
    s.recipe_bom_line_save(
        user=sup, recipe_id=recipe.pk, position=1, material=product, quantity=Decimal("200"), unit="kg",
        tolerance_pct=Decimal("1"), weigh_and_verify=False, step_number=10,
    )  # fmt: skip
    step = s.recipe_step_save(
        user=sup, recipe_id=recipe.pk, number=10, title="Re-sieve", title_zh="重新过筛",
        instruction="Pass the granulate through the 1.0 mm screen.", instruction_zh="用1.0毫米筛网重新过筛。",
        duration_minutes=30,
    )  # fmt: skip
    s.recipe_check_save(
        user=sup, recipe_id=recipe.pk, step_id=step.pk, number=1, kind="question",
        question="Screen intact after sieving?", question_zh="过筛后筛网是否完好？", expected_answer="Yes",
    )  # fmt: skip
    recipe = make_effective(recipe, sup, users["qa"])
    from tests.batches.conftest import train

    train(users, recipe, "operator", "operator2")  # rework is trained like any process
    return recipe


def execute_batch(batch, users, lots, *, output="196"):
    """Issue, run every step and complete the batch through the services (as the floor would)."""
    from batches import services as s
    from tests.batches.conftest import issue_all, run_all_steps

    issue_all(batch, users, lots)
    run_all_steps(batch, users)
    return s.batch_complete(user=fresh(users["operator"]), batch=batch, password=PW, output_quantity=output)


def fail_and_reject(lot, users):
    """QC tests the lot against its effective specification, it fails, QC rejects it."""
    from quality.models import Inspection
    from quality.services import inspections as isvc

    inspection = Inspection.objects.filter(lot=lot).latest("pk")
    for item in inspection.specification.active_items():
        if item.kind == "numeric":
            isvc.result_enter(user=users["qc"], inspection_id=inspection.pk, item_id=item.pk, value="0")
        else:
            isvc.result_enter(
                user=users["qc"], inspection_id=inspection.pk, item_id=item.pk, passed=False, text="Lumps"
            )
    isvc.inspection_complete(user=users["qc"], inspection_id=inspection.pk, password=PW)
    isvc.inspection_reject_lot(user=users["qc"], inspection_id=inspection.pk, password=PW, reason="Lumps > 2 mm")
    lot.refresh_from_db()
    return lot


def approved_rework(lot, users, instruction="RI-7: re-sieve through 1.0 mm"):
    from quality.services import dispositions as dsvc

    d = dsvc.disposition_propose(user=users["qc"], lot=lot, kind="rework", instruction=instruction)
    return dsvc.disposition_approve(user=users["qa"], disposition_id=d.pk, password=PW)


def intermediate_spec(users):
    """IM-GRN-500's effective intermediate specification, so its output lots are inspected."""
    from materials.models import Material
    from quality.seed_evidence import ensure_effective_spec

    return ensure_effective_spec(
        Material.objects.get(code="IM-GRN-500"), "intermediate", qc=users["qc"], qa=users["qa"], password=PW
    )
