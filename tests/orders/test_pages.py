"""Orders pages: access per role, list filters and pagination without N+1, detail, review, recipes."""

from __future__ import annotations

import io
import re

import pytest
from django.urls import reverse

from mes.seed import DEMO_PASSWORD as PW
from orders.access import ACCESS
from orders.models import OrderApproval, ProductionOrder, Recipe
from tests.orders.conftest import order_values

pytestmark = pytest.mark.django_db
ROLES = ["planner", "supervisor", "operator", "qc", "qa", "maintenance", "warehouse", "analyst", "auditor", "admin"]


@pytest.fixture
def demo(plant, users):
    from orders.seed import seed

    seed(io.StringIO())


@pytest.mark.req("SEC-2")
def test_every_orders_page_answers_only_its_roles(demo, client_for):
    for name, rule in ACCESS.items():
        kwargs = rule.make_kwargs(None) if rule.make_kwargs else rule.kwargs
        url = reverse(name, kwargs=kwargs)
        for role in ROLES:
            client = client_for("operator2" if role == "operator" else role)
            response = client.post(url) if rule.method == "post" else client.get(url)
            if role in rule.roles:
                expected = (302,) if rule.method == "post" else (200,)
                assert response.status_code in expected, f"{name} as {role}: {response.status_code}"
            else:
                assert response.status_code == 403, f"{name} as {role}: {response.status_code}"


@pytest.mark.req("ORD-1")
def test_order_list_filters_and_paginates_without_n_plus_one(demo, users, client_for, django_assert_max_num_queries):
    from orders.services import order_create

    for _ in range(30):
        order_create(user=users["planner"], **order_values())
    client = client_for("planner")
    url = reverse("orders:order_list")
    with django_assert_max_num_queries(15):
        response = client.get(url)
    assert response.status_code == 200
    assert len(re.findall(r'data-order="PO-', response.text)) == 25
    assert "Page 1 of 2" in response.text
    page2 = client.get(url, {"page": 2})
    assert len(re.findall(r'data-order="PO-', page2.text)) == 39 - 25
    with django_assert_max_num_queries(15):
        filtered = client.get(url, {"status": "released"})
    numbers = re.findall(r'data-order="(PO-[\d-]+)"', filtered.text)
    assert set(numbers) == set(ProductionOrder.objects.filter(status="released").values_list("number", flat=True))
    from mes.models import Line

    line = Line.objects.get(code="P1")
    by_line = re.findall(r'data-order="(PO-[\d-]+)"', client.get(url, {"line": line.pk}).text)
    assert set(by_line) == set(ProductionOrder.objects.filter(line=line).values_list("number", flat=True))
    from django.utils import timezone

    start = ProductionOrder.objects.get(erp_reference="ERP-PLAN-24004").planned_start
    day = timezone.localtime(start).date().isoformat()
    by_date = re.findall(r'data-order="(PO-[\d-]+)"', client.get(url, {"start_from": day, "start_to": day}).text)
    assert ProductionOrder.objects.get(erp_reference="ERP-PLAN-24004").number in by_date
    by_text = re.findall(r'data-order="(PO-[\d-]+)"', client.get(url, {"q": "ERP-PLAN-24002"}).text)
    assert by_text == [ProductionOrder.objects.get(erp_reference="ERP-PLAN-24002").number]


@pytest.mark.req("ORD-6", "ORD-5", "SEC-3")
def test_order_detail_shows_history_signatures_and_batches(demo, client_for):
    order = ProductionOrder.objects.get(erp_reference="ERP-PLAN-24001")
    response = client_for("planner").get(reverse("orders:order_detail", args=[order.pk]))
    text = response.text
    assert response.status_code == 200
    assert text.count('data-testid="signature"') == 3  # authored, approved, released
    assert "B2026" in text or order.batches.first().number in text
    for batch in order.batches.all():
        assert batch.number in text
    assert "Qiang Li" in text  # assigned operator
    assert "BLST" in text  # equipment the recipe needs (ORD-5)
    assert "orders.productionorder.approve" in text and "orders.productionorder.start" in text
    assert 'data-testid="action-' not in text  # the planner has nothing to do on an order in progress


@pytest.mark.req("ORD-1")
def test_planner_creates_an_order_on_the_page_and_bad_input_is_explained(demo, client_for):
    client = client_for("planner")
    values = order_values()
    data = {
        "product": values["product"].pk,
        "planned_quantity": "0",
        "unit": "kg",
        "planned_start": values["planned_start"].strftime("%Y-%m-%dT%H:%M"),
        "planned_end": values["planned_end"].strftime("%Y-%m-%dT%H:%M"),
        "line": values["line"].pk,
        "priority": 2,
        "operators_required": 2,
        "erp_reference": "ERP-PLAN-24001",
        "resource_notes": "",
    }
    count = ProductionOrder.objects.count()
    response = client.post(reverse("orders:order_create"), data)
    assert response.status_code == 200
    assert "The planned quantity must be greater than zero." in response.text
    assert "ERP reference ERP-PLAN-24001 is already used" in response.text
    assert ProductionOrder.objects.count() == count
    data.update(planned_quantity="350", erp_reference="ERP-NEW-1")
    response = client.post(reverse("orders:order_create"), data)
    order = ProductionOrder.objects.get(erp_reference="ERP-NEW-1")
    assert response.status_code == 302 and response.url == reverse("orders:order_detail", args=[order.pk])
    assert order.status == "draft" and order.created_by.username == "planner"


def test_bad_input_on_the_page_in_chinese(demo, client_for):
    client = client_for("planner")
    client.cookies["django_language"] = "zh-hans"
    values = order_values()
    data = {
        "product": values["product"].pk,
        "planned_quantity": "10",
        "unit": "kg",
        "planned_start": values["planned_end"].strftime("%Y-%m-%dT%H:%M"),
        "planned_end": values["planned_start"].strftime("%Y-%m-%dT%H:%M"),
        "line": values["line"].pk,
        "priority": 3,
        "operators_required": 2,
    }
    response = client.post(reverse("orders:order_create"), data, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "计划结束时间必须晚于计划开始时间" in response.text


@pytest.mark.req("ORD-2")
def test_supervisor_approves_from_the_review_page(demo, client_for, users):
    order = ProductionOrder.objects.get(erp_reference="ERP-PLAN-24005")
    client = client_for("supervisor")
    queue = client.get(reverse("orders:approval_queue"))
    assert order.number in queue.text
    page = client.get(reverse("orders:order_review", args=[order.pk]))
    assert 'data-testid="resources-ok"' in page.text
    wrong = client.post(reverse("orders:order_review", args=[order.pk]), {"decision": "approve", "password": "nope"})
    assert "The password is not correct" in wrong.text
    response = client.post(
        reverse("orders:order_review", args=[order.pk]), {"decision": "approve", "password": PW, "reason": "ok"}
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == "approved" and OrderApproval.objects.filter(order=order, decision="approved").exists()


def test_review_page_tells_the_author_they_cannot_approve(demo, users, client_for):
    from django.contrib.auth.models import Group

    users["planner"].groups.add(Group.objects.get(name="supervisor"))
    order = ProductionOrder.objects.get(erp_reference="ERP-PLAN-24005")
    page = client_for("planner").get(reverse("orders:order_review", args=[order.pk]))
    assert "you cannot approve it" in page.text
    response = client_for("planner").post(
        reverse("orders:order_review", args=[order.pk]), {"decision": "approve", "password": PW}
    )
    assert "approval must come from someone else" in response.text
    order.refresh_from_db()
    assert order.status == "submitted"


def test_edit_page_of_a_released_order_refuses(demo, client_for):
    order = ProductionOrder.objects.get(erp_reference="ERP-PLAN-24002")
    client = client_for("planner")
    response = client.post(
        reverse("orders:order_edit", args=[order.pk]),
        {
            "planned_quantity": "100",
            "unit": "pcs",
            "planned_start": order.planned_start.strftime("%Y-%m-%dT%H:%M"),
            "planned_end": order.planned_end.strftime("%Y-%m-%dT%H:%M"),
            "line": order.line_id,
            "priority": 3,
            "operators_required": 2,
            "reason": "x",
        },
    )
    assert "can no longer be changed" in response.text
    order.refresh_from_db()
    assert order.planned_quantity == 12000


def test_supervisor_creates_batches_on_the_page(demo, client_for, users):
    from orders.services import order_approve, order_release

    order = ProductionOrder.objects.get(erp_reference="ERP-PLAN-24004")  # approved, 400 kg
    order_release(user=users["supervisor"], order_id=order.pk, password=PW)
    client = client_for("supervisor")
    page = client.get(reverse("orders:order_batches", args=[order.pk]))
    assert 'value="2"' in page.text  # default: 400 kg at 200 kg per batch
    response = client.post(
        reverse("orders:order_batches", args=[order.pk]), {"count": 2, "operators": [users["operator"].pk]}
    )
    assert response.status_code == 302
    assert order.batches.count() == 2
    assert order_approve  # imported for symmetry with the service tests


@pytest.mark.req("BAT-2")
def test_recipe_pages_list_detail_diff_and_approval(demo, client_for):
    client = client_for("qa")
    assert "FG-MET-500" in client.get(reverse("orders:recipe_list")).text
    v2 = Recipe.objects.get(product__code="FG-MET-500", version=2)
    v1 = Recipe.objects.get(product__code="FG-MET-500", version=1)
    detail = client.get(reverse("orders:recipe_detail", args=[v2.pk])).text
    assert "Sealing temperature" in detail and "can never be edited" in detail
    diff = client.get(reverse("orders:recipe_diff", args=[v2.pk]), {"other": v1.pk}).text
    assert "20 · Sealing temperature" in diff and "170" in diff and "175" in diff
    in_review = Recipe.objects.get(status="in_review")
    assert in_review.product.code in client.get(reverse("orders:recipe_review_queue")).text
    response = client.post(reverse("orders:recipe_action", args=[in_review.pk, "approve"]), {"password": PW})
    assert response.status_code == 302
    in_review.refresh_from_db()
    assert in_review.status == "approved"
    response = client.post(reverse("orders:recipe_action", args=[in_review.pk, "make_effective"]), {"password": PW})
    in_review.refresh_from_db()
    assert in_review.status == "effective"
    assert Recipe.objects.get(product=in_review.product, version=1).status == "superseded"


def test_supervisor_edits_a_draft_recipe_on_the_pages(demo, client_for):
    draft = Recipe.objects.get(status="draft")
    client = client_for("supervisor")
    step = draft.steps.get(number=30)
    url = reverse("orders:recipe_step_part_add", kwargs={"pk": draft.pk, "step": step.pk, "kind": "parameter"})
    response = client.post(
        url,
        {
            "name": "Pre-compression force",
            "unit": "kN",
            "target": "3",
            "minimum": "2",
            "maximum": "4",
            "critical": "on",
        },
    )
    assert response.status_code == 302
    assert step.parameters.filter(name="Pre-compression force", critical=True).exists()
    bad = client.post(url, {"name": "Feeder speed", "unit": "rpm", "minimum": "30", "maximum": "20"})
    assert "The lower limit is above the upper limit." in bad.text
    effective = Recipe.objects.filter(status="effective").first()
    locked = client.get(reverse("orders:recipe_edit", args=[effective.pk]))
    assert locked.status_code == 302


def test_home_page_shows_the_orders_work_waiting_for_each_role(demo, client_for):
    from mes.workqueue import work_cards
    from tests.orders.conftest import fresh

    def cards(username):
        from django.contrib.auth import get_user_model

        user = fresh(get_user_model().objects.get(username=username))
        return {str(c.title): c.count for c in work_cards(user)}

    assert cards("supervisor")["Orders to approve"] == 2
    assert cards("supervisor")["Approved orders to release"] == 1
    assert cards("qa")["Master batch records for QA"] == 1
    assert cards("planner")["Orders returned for change"] == 1
    assert cards("planner")["My draft orders"] == 2
    assert "Orders to approve" not in cards("operator")
    assert "Orders to approve" in client_for("supervisor").get("/").text


def test_training_is_recorded_on_the_page(demo, client_for, users):
    import datetime as dt

    from django.utils import timezone

    from orders.models import TrainingRecord
    from orders.services import training_is_current

    recipe = Recipe.objects.get(status="effective", product__code="IM-TAB-500")
    today = timezone.localdate()
    response = client_for("qa").post(
        reverse("orders:training_create"),
        {
            "trainee": users["operator"].pk,
            "recipe": recipe.pk,
            "trained_on": today.isoformat(),
            "valid_until": (today + dt.timedelta(days=10)).isoformat(),
            "trainer": "QA",
        },
    )
    assert response.status_code == 302
    assert TrainingRecord.objects.filter(trainee=users["operator"], recipe=recipe, recorded_by=users["qa"]).exists()
    assert training_is_current(user=users["operator"], recipe=recipe)
    listing = client_for("auditor").get(reverse("orders:training_list"), {"who": "operator2"}).text
    assert "SOP-CLN-004" in listing and "expired" in listing
