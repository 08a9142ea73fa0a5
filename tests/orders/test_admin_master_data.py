"""Django admin and master-data pages go through the services; the admin cannot bypass status rules."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from materials.models import Material
from mes.changecontrol import masterdata_change_approve
from mes.models import Line, MasterDataChange
from orders.models import Recipe
from tests.conftest import DEMO_PASSWORD, make_user
from tests.orders.conftest import build_recipe, make_effective

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_supervisor(users):
    user = users["supervisor"]
    user.is_staff = True
    user.save()
    client = Client()
    client.force_login(user)
    return client


def _inline(prefix, rows, fields):
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(sum(1 for r in rows if r.get("id"))),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for i, row in enumerate(rows):
        for name in ("id", "recipe", *fields):
            value = row.get(name, "")
            if isinstance(value, bool):
                if value:
                    data[f"{prefix}-{i}-{name}"] = "on"
                continue
            data[f"{prefix}-{i}-{name}"] = "" if value is None else str(value)
    return data


def recipe_post(recipe, *, title=None, extra_bom=None):
    data = {
        "title": title or recipe.title,
        "batch_size": str(recipe.batch_size),
        "unit": recipe.unit,
        "expected_yield": str(recipe.expected_yield),
        "yield_min": str(recipe.yield_min),
        "yield_max": str(recipe.yield_max),
        "description": recipe.description,
    }
    bom_fields = ("position", "material", "quantity", "unit", "tolerance_pct", "weigh_and_verify")
    bom = [
        {
            "id": b.pk,
            "recipe": recipe.pk,
            "position": b.position,
            "material": b.material_id,
            "quantity": b.quantity,
            "unit": b.unit,
            "tolerance_pct": b.tolerance_pct,
            "weigh_and_verify": b.weigh_and_verify,
        }
        for b in recipe.bom_lines.filter(removed=False)
    ]
    if extra_bom:
        bom.append({"recipe": recipe.pk, **extra_bom})
    step_fields = (
        "number",
        "title",
        "title_zh",
        "equipment_class",
        "duration_minutes",
        "verifier_signature",
        "allow_parallel",
    )
    steps = [
        {
            "id": st.pk,
            "recipe": recipe.pk,
            "number": st.number,
            "title": st.title,
            "title_zh": st.title_zh,
            "equipment_class": st.equipment_class_id,
            "duration_minutes": st.duration_minutes,
            "verifier_signature": st.verifier_signature,
            "allow_parallel": st.allow_parallel,
        }
        for st in recipe.steps.filter(removed=False)
    ]
    return {**data, **_inline("bom_lines", bom, bom_fields), **_inline("steps", steps, step_fields)}


def test_admin_edits_of_a_draft_go_through_the_services(plant, users, staff_supervisor):
    recipe = build_recipe(users["supervisor"])
    url = reverse("admin:orders_recipe_change", args=[recipe.pk])
    assert staff_supervisor.get(url).status_code == 200
    data = recipe_post(
        recipe,
        title="Granules, revised",
        extra_bom={
            "position": 3,
            "material": Material.objects.get(code="RM-EXC-020").pk,
            "quantity": "8",
            "unit": "kg",
            "tolerance_pct": "1",
            "weigh_and_verify": True,
        },
    )
    response = staff_supervisor.post(url, data)
    assert response.status_code == 302 and response.url != url, [
        str(m) for m in staff_supervisor.get(url).context["messages"]
    ]
    recipe.refresh_from_db()
    assert recipe.title == "Granules, revised"
    assert recipe.bom_lines.filter(material__code="RM-EXC-020", quantity=Decimal("8")).exists()
    actions = set(AuditEvent.objects.filter(object_type__startswith="orders.recipe").values_list("action", flat=True))
    assert {"orders.recipe.update", "orders.recipe.bom_save"} <= actions
    step = recipe.steps.get(number=10)
    assert staff_supervisor.get(reverse("admin:orders_recipestep_change", args=[step.pk])).status_code == 200
    assert staff_supervisor.get(reverse("admin:orders_productionorder_changelist")).status_code in (200, 403)


def test_admin_refusal_from_a_service_rolls_everything_back(plant, users, staff_supervisor):
    recipe = build_recipe(users["supervisor"])
    url = reverse("admin:orders_recipe_change", args=[recipe.pk])
    data = recipe_post(
        recipe,
        title="Should not stay",
        extra_bom={
            "position": 3,
            "material": Material.objects.get(code="RM-SOL-001").pk,
            "quantity": "8",
            "unit": "kg",
            "tolerance_pct": "1",
        },
    )  # litres, not kg
    response = staff_supervisor.post(url, data, follow=True)
    assert "does not measure" in response.text
    recipe.refresh_from_db()
    assert recipe.title != "Should not stay"


@pytest.mark.req("ORD-4")
def test_admin_cannot_change_an_effective_recipe(plant, users, staff_supervisor):
    recipe = make_effective(build_recipe(users["supervisor"]), users["supervisor"], users["qa"])
    url = reverse("admin:orders_recipe_change", args=[recipe.pk])
    page = staff_supervisor.get(url)
    assert page.status_code == 200
    assert 'name="title"' not in page.text and 'name="status"' not in page.text
    staff_supervisor.post(url, recipe_post(recipe, title="Sneaky change"))
    recipe.refresh_from_db()
    assert recipe.title != "Sneaky change" and recipe.status == "effective"
    delete = staff_supervisor.post(reverse("admin:orders_recipe_delete", args=[recipe.pk]), {"post": "yes"})
    assert delete.status_code == 403
    assert Recipe.objects.filter(pk=recipe.pk).exists()


def test_material_pages_create_and_change_through_services(plant, users, client_for):
    client = client_for("qa")
    data = {
        "code": "rm-exc-040",
        "name": "Croscarmellose sodium",
        "name_zh": "交联羧甲基纤维素钠",
        "type": "raw",
        "unit": "kg",
        "specification": "USP",
        "storage_condition": "ambient",
        "shelf_life_days": "1095",
        "retest_days": "365",
        "active": "on",
    }
    # A new material is a change request: it exists once another person approves it (issue 16).
    assert client.post(reverse("materials:material_create"), data).status_code == 302
    assert not Material.objects.filter(code="RM-EXC-040").exists()
    assert "already waiting for approval" in client.post(reverse("materials:material_create"), data).text
    second_qa = make_user("qa.second", "qa", first="Lan", last="Wu")
    approve = MasterDataChange.objects.get(object_type="materials.material", status="proposed")
    assert approve.proposed_by == users["qa"]
    masterdata_change_approve(user=second_qa, change_id=approve.pk, password=DEMO_PASSWORD)
    material = Material.objects.get(code="RM-EXC-040")
    assert material.name == "Croscarmellose sodium" and material.unit == "kg"
    dup = client.post(reverse("materials:material_create"), data)
    assert "already exists" in dup.text
    edit = reverse("materials:material_edit", args=[material.pk])
    bad = client.post(edit, {**data, "unit": "L", "reason": "x"})
    assert "measure different things" in bad.text
    assert client.post(edit, {**data, "unit": "g", "reason": "supplier packs in grams"}).status_code == 302
    material.refresh_from_db()
    assert material.unit == "kg"  # proposed, not yet effective
    change = MasterDataChange.objects.get(object_id=str(material.pk), status="proposed")
    assert change.before == {"unit": "kg"} and change.after == {"unit": "g"}
    masterdata_change_approve(user=second_qa, change_id=change.pk, password=DEMO_PASSWORD)
    material.refresh_from_db()
    assert material.unit == "g"
    assert AuditEvent.objects.filter(object_id=str(material.pk)).exists()
    assert "RM-EXC-040" in client_for("planner").get(reverse("materials:material_list"), {"q": "040"}).text
    assert client_for("planner").get(reverse("materials:material_create")).status_code == 403


def test_line_pages_change_lines_through_services(plant, users, client_for):
    from mes.models import Area

    users["admin"].groups.add(Group.objects.get(name="admin"))
    client = client_for("admin")
    area = Area.objects.get(code="OSD")
    response = client.post(
        reverse("orders:line_create"),
        {"area": area.pk, "code": "l3", "name": "Line 3", "name_zh": "三线", "active": "on"},
    )
    assert response.status_code == 302
    line = Line.objects.get(code="L3")
    response = client.post(
        reverse("orders:line_edit", args=[line.pk]),
        {"area": area.pk, "name": "Line 3", "name_zh": "三线", "reason": "decommissioned"},
    )
    line.refresh_from_db()
    assert not line.active
    assert AuditEvent.objects.filter(action="mes.line.update", reason="decommissioned").exists()
    assert "L3" in client_for("planner").get(reverse("orders:line_list")).text
