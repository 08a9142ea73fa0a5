"""In the browser: the planner creates and submits an order, the supervisor approves and releases it,
the planner sees it released (ORD-1, ORD-2)."""

from __future__ import annotations

import pytest

from tests.browser_fixtures import login, screenshot

pytestmark = [pytest.mark.browser]


@pytest.fixture
def live_plant(transactional_db, users):
    import io

    from equipment.seed import seed as seed_equipment
    from materials.seed import seed as seed_materials
    from mes.seed import seed_plant
    from tests.orders.conftest import build_recipe, make_effective

    seed_plant()
    seed_equipment(io.StringIO())
    seed_materials(io.StringIO())
    return make_effective(build_recipe(users["supervisor"]), users["supervisor"], users["qa"])


def settle(page) -> None:
    """Let the page finish loading (its icon too) before the next navigation aborts a request."""
    page.wait_for_load_state("networkidle")


def sign_and_confirm(page, password: str, reason: str = "") -> None:
    page.fill("#id_sig_password", password)
    if reason:
        page.fill("#id_sig_reason", reason)


@pytest.mark.req("ORD-1", "ORD-2")
def test_planner_creates_and_submits_supervisor_approves_and_releases(live_plant, new_page, password):
    from orders.models import ProductionOrder

    # Planner: create the order.
    page, problems = new_page()
    login(page, "planner", password)
    page.goto("/orders/")
    page.click("[data-testid=new-order]")
    page.select_option("#id_product", label="IM-GRN-500 Metformin 500 mg granules")
    page.fill("#id_planned_quantity", "400")
    page.select_option("#id_unit", "kg")
    page.select_option("#id_line", label="L2 Granulation and compression line 2")
    page.fill("#id_erp_reference", "ERP-BROWSER-1")
    page.fill("#id_resource_notes", "Granulator GRAN-01 and dryer FBD-01")
    settle(page)
    screenshot(page, "orders-01-planner-new-order")
    page.click("[data-testid=save-order]")
    page.wait_for_selector("[data-testid=action-submit]")
    order = ProductionOrder.objects.get(erp_reference="ERP-BROWSER-1")
    assert order.status == "draft"
    settle(page)
    screenshot(page, "orders-02-planner-draft")

    # Planner: submit it (signed).
    page.click("[data-testid=action-submit]")
    sign_and_confirm(page, password, "Plan week 48")
    settle(page)
    screenshot(page, "orders-03-planner-submit-signature")
    page.click("[data-testid=confirm-action]")
    page.wait_for_selector("h1 [data-status=submitted]")
    order.refresh_from_db()
    assert order.status == "submitted"
    problems.check()

    # Supervisor: approval queue, review, approve (signed).
    sup, sup_problems = new_page()
    login(sup, "supervisor", password)
    sup.goto("/orders/approvals/")
    settle(sup)
    screenshot(sup, "orders-04-supervisor-queue")
    sup.click(f"[data-testid=review-{order.number}]")
    sup.wait_for_selector("[data-testid=resources-ok]")
    sign_and_confirm(sup, password, "Line and materials checked")
    settle(sup)
    screenshot(sup, "orders-05-supervisor-review")
    sup.click("[data-testid=approve]")
    sup.wait_for_url("**/orders/approvals/")
    sup.wait_for_selector(".msg-success")
    order.refresh_from_db()
    assert order.status == "approved"

    # Supervisor: release (signed).
    sup.goto(f"/orders/{order.pk}/")
    sup.click("[data-testid=action-release]")
    sign_and_confirm(sup, password)
    sup.click("[data-testid=confirm-action]")
    sup.wait_for_selector("[data-testid=create-batches]")
    settle(sup)
    screenshot(sup, "orders-06-supervisor-released")
    order.refresh_from_db()
    assert order.status == "released"
    sup_problems.check()

    # Planner: sees it released in the list and on the detail page, with the three signatures.
    page.goto("/orders/?status=released")
    row = page.locator(f"tr[data-order='{order.number}']")
    assert row.locator("[data-status=released]").is_visible()
    settle(page)
    screenshot(page, "orders-07-planner-sees-released")
    page.click(f"text={order.number}")
    assert page.locator("[data-testid=signature]").count() == 3
    settle(page)
    screenshot(page, "orders-08-planner-detail")
    problems.check()


@pytest.fixture
def live_demo(transactional_db, users):
    import io

    from equipment.seed import seed as seed_equipment
    from materials.seed import seed as seed_materials
    from mes.seed import seed_plant
    from orders.seed import seed as seed_orders

    seed_plant()
    seed_equipment(io.StringIO())
    seed_materials(io.StringIO())
    seed_orders(io.StringIO())


def test_recipe_pages_and_chinese_order_detail_render(live_demo, new_page, password):
    from orders.models import ProductionOrder, Recipe

    page, problems = new_page()
    login(page, "qa", password)
    v2 = Recipe.objects.get(product__code="FG-MET-500", version=2)
    v1 = Recipe.objects.get(product__code="FG-MET-500", version=1)
    page.goto(f"/orders/recipes/{v2.pk}/")
    assert page.locator("[data-testid=step]").count() == 3
    settle(page)
    screenshot(page, "orders-20-recipe-detail")
    page.select_option("#id_other", str(v1.pk))
    page.click("[data-testid=compare]")
    page.wait_for_selector("[data-testid=diff]")
    assert page.locator(".diff-changed").count() >= 2
    settle(page)
    screenshot(page, "orders-21-recipe-diff")
    in_review = Recipe.objects.get(status="in_review")
    page.goto(f"/orders/recipes/{in_review.pk}/do/approve/")
    settle(page)
    screenshot(page, "orders-22-recipe-approve")
    page.goto("/")
    settle(page)
    screenshot(page, "orders-23-qa-home")
    problems.check()

    sup, sup_problems = new_page()
    login(sup, "supervisor", password)
    sup.click("[data-testid=lang-zh-hans]")
    order = ProductionOrder.objects.get(erp_reference="ERP-PLAN-24001")
    sup.goto(f"/orders/{order.pk}/")
    assert sup.locator("h1").inner_text().startswith("订单")
    settle(sup)
    screenshot(sup, "orders-24-order-detail-zh")
    draft = Recipe.objects.get(status="draft")
    sup.goto(f"/orders/recipes/{draft.pk}/")
    settle(sup)
    screenshot(sup, "orders-25-recipe-draft-zh")
    sup.goto("/orders/")
    settle(sup)
    screenshot(sup, "orders-26-order-list-zh")
    sup_problems.check()
