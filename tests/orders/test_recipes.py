"""Master batch records: versions, status rules, signatures over the whole content, one effective, diff."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from audit.context import audit_context, status_change_allowed
from audit.models import AuditEvent, Signature
from audit.signatures import signature_is_valid, signatures_for
from mes.seed import DEMO_PASSWORD as PW
from orders import services as s
from orders.diff import recipe_diff
from orders.models import ProcessParameter, Recipe, RecipeStep
from orders.services.recipes import recipe_with_parts
from tests.orders.conftest import build_recipe, make_effective

pytestmark = pytest.mark.django_db


def fetch(recipe):
    return recipe_with_parts().get(pk=recipe.pk)


@pytest.mark.req("ORD-4", "BAT-2")
def test_draft_is_built_and_versioned(plant, users):
    recipe = build_recipe(users["supervisor"])
    recipe = fetch(recipe)
    assert recipe.version == 1 and recipe.status == "draft"
    assert [b.material.code for b in recipe.active_bom()] == ["RM-API-001", "RM-EXC-010"]
    assert [st.number for st in recipe.active_steps()] == [10, 20]
    step = recipe.active_steps()[0]
    assert step.equipment_class.code == "GRAN" and step.verifier_signature
    assert step.active_parameters()[0].critical and step.active_checks()[0].expected_answer == "Yes"


@pytest.mark.req("SEC-3")
def test_signature_binds_bom_steps_checks_and_parameters(plant, users):
    recipe = build_recipe(users["supervisor"])
    content = fetch(recipe).signature_content()
    assert content["bom"][0]["material"] == "RM-API-001"
    step = content["steps"][0]
    assert step["parameters"][0]["name"] == "Impeller speed" and step["checks"][0]["question"] == "End-point reached?"
    assert "status" not in content

    s.recipe_submit(user=users["supervisor"], recipe_id=recipe.pk, password=PW)
    (sig,) = signatures_for(recipe)
    assert sig.meaning == "authored" and signature_is_valid(sig, fetch(recipe))
    # Any change to a parameter (even behind the services' back) invalidates the signature.
    param = ProcessParameter.objects.get(step__recipe=recipe)
    param.maximum = Decimal("170")
    with audit_context(actor=users["admin"], reason="tamper test"):
        param.save()
    assert not signature_is_valid(sig, fetch(recipe))


@pytest.mark.req("BAT-2")
def test_full_lifecycle_author_signs_qa_approves_and_effective(plant, users):
    recipe = build_recipe(users["supervisor"])
    make_effective(recipe, users["supervisor"], users["qa"])
    recipe.refresh_from_db()
    assert recipe.status == "effective" and recipe.approved_by == users["qa"] and recipe.effective_at
    meanings = [sig.meaning for sig in signatures_for(recipe)]
    assert meanings == ["authored", "approved", "released"]
    assert {sig.username for sig in signatures_for(recipe)} == {"supervisor", "qa"}


@pytest.mark.req("SEC-3")
def test_author_cannot_approve_their_own_recipe(plant, users):
    from django.contrib.auth.models import Group

    author = users["qa"]
    author.groups.add(Group.objects.get(name="supervisor"))
    author = type(author).objects.get(pk=author.pk)
    recipe = build_recipe(author)
    s.recipe_submit(user=author, recipe_id=recipe.pk, password=PW)
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationError, match="someone else"):
        s.recipe_approve(user=author, recipe_id=recipe.pk, password=PW)
    recipe.refresh_from_db()
    assert recipe.status == "in_review" and AuditEvent.objects.count() == events


def test_incomplete_recipe_cannot_be_submitted(plant, users):
    from materials.models import Material

    recipe = s.recipe_create(
        user=users["supervisor"],
        product=Material.objects.get(code="IM-TAB-500"),
        title="x",
        batch_size=Decimal("200"),
        unit="kg",
    )
    signatures_before = Signature.objects.count()  # whatever the plant's seed signed is not this test's
    with pytest.raises(ValidationError) as info:
        s.recipe_submit(user=users["supervisor"], recipe_id=recipe.pk, password=PW)
    assert "bill of materials is empty" in " ".join(info.value.messages)
    recipe.refresh_from_db()
    assert recipe.status == "draft" and Signature.objects.count() == signatures_before


@pytest.mark.req("ORD-4")
@pytest.mark.parametrize("state", ["in_review", "effective", "superseded"])
def test_only_drafts_are_edited_effective_and_superseded_never(plant, users, state):
    recipe = build_recipe(users["supervisor"])
    if state == "in_review":
        s.recipe_submit(user=users["supervisor"], recipe_id=recipe.pk, password=PW)
    else:
        make_effective(recipe, users["supervisor"], users["qa"])
    if state == "superseded":
        make_effective(
            s.recipe_new_version(user=users["supervisor"], recipe_id=recipe.pk), users["supervisor"], users["qa"]
        )
    recipe.refresh_from_db()
    assert recipe.status == state
    step = recipe.steps.first()
    events = AuditEvent.objects.count()
    attempts = [
        lambda: s.recipe_update(user=users["supervisor"], recipe_id=recipe.pk, title="changed"),
        lambda: s.recipe_step_save(user=users["supervisor"], recipe_id=recipe.pk, step_id=step.pk, title="changed"),
        lambda: s.recipe_parameter_save(
            user=users["supervisor"], recipe_id=recipe.pk, step_id=step.pk, name="New", unit="rpm"
        ),
        lambda: s.recipe_part_remove(user=users["supervisor"], recipe_id=recipe.pk, kind="step", part_id=step.pk),
    ]
    for attempt in attempts:
        with pytest.raises(ValidationError) as info:
            attempt()
        if state != "in_review":
            assert "can never be edited" in " ".join(info.value.messages)
    assert AuditEvent.objects.count() == events
    assert RecipeStep.objects.get(pk=step.pk).title == "Granulation"


@pytest.mark.req("BAT-2")
def test_new_version_copies_everything_and_supersedes_on_effective(plant, users):
    v1 = make_effective(build_recipe(users["supervisor"]), users["supervisor"], users["qa"])
    v2 = s.recipe_new_version(user=users["supervisor"], recipe_id=v1.pk)
    assert v2.version == 2 and v2.status == "draft" and v2.based_on_id == v1.pk
    a, b = fetch(v1).signature_content(), fetch(v2).signature_content()
    assert a["bom"] == b["bom"] and a["steps"] == b["steps"]
    with pytest.raises(ValidationError, match="still draft"):
        s.recipe_new_version(user=users["supervisor"], recipe_id=v1.pk)

    make_effective(v2, users["supervisor"], users["qa"])
    v1.refresh_from_db()
    v2.refresh_from_db()
    assert (v1.status, v2.status) == ("superseded", "effective")
    assert Recipe.objects.filter(product=v1.product, status="effective").count() == 1
    assert s.effective_recipe(v1.product) == v2


@pytest.mark.req("BAT-2")
def test_database_refuses_two_effective_versions(plant, users):
    v1 = make_effective(build_recipe(users["supervisor"]), users["supervisor"], users["qa"])
    v2 = s.recipe_new_version(user=users["supervisor"], recipe_id=v1.pk)
    v2.status = "effective"
    with pytest.raises(IntegrityError), transaction.atomic():
        with audit_context(actor=users["admin"]), status_change_allowed(v2):
            v2.save()


def test_bad_recipe_input_is_refused_in_words(plant, users):
    from materials.models import Material

    product = Material.objects.get(code="IM-TAB-500")
    with pytest.raises(ValidationError) as info:
        s.recipe_create(user=users["supervisor"], product=product, title="x", batch_size=Decimal("0"), unit="kg")
    assert "greater than zero" in info.value.message_dict["batch_size"][0]
    with pytest.raises(ValidationError) as info:
        s.recipe_create(
            user=users["supervisor"],
            product=Material.objects.get(code="RM-API-001"),
            title="x",
            batch_size=Decimal("1"),
            unit="kg",
        )
    assert "finished product or an intermediate" in info.value.message_dict["product"][0]
    with pytest.raises(ValidationError):
        s.recipe_create(
            user=users["supervisor"],
            product=product,
            title="x",
            batch_size=Decimal("1"),
            unit="kg",
            expected_yield=99,
            yield_min=100,
            yield_max=101,
        )
    recipe = build_recipe(users["supervisor"])
    step = recipe.steps.first()
    with pytest.raises(ValidationError, match="critical parameter needs both"):
        s.recipe_parameter_save(
            user=users["supervisor"],
            recipe_id=recipe.pk,
            step_id=step.pk,
            name="T",
            unit="°C",
            critical=True,
            minimum=Decimal("1"),
        )
    with pytest.raises(ValidationError, match="lower limit is above"):
        s.recipe_parameter_save(
            user=users["supervisor"],
            recipe_id=recipe.pk,
            step_id=step.pk,
            name="T",
            unit="°C",
            minimum=Decimal("5"),
            maximum=Decimal("1"),
        )
    with pytest.raises(ValidationError, match="measure"):
        s.recipe_bom_line_save(
            user=users["supervisor"],
            recipe_id=recipe.pk,
            position=3,
            material=Material.objects.get(code="RM-SOL-001"),
            quantity=Decimal("1"),
            unit="kg",
        )
    with pytest.raises(ValidationError, match="greater than zero"):
        s.recipe_bom_line_save(
            user=users["supervisor"],
            recipe_id=recipe.pk,
            position=3,
            material=Material.objects.get(code="RM-EXC-030"),
            quantity=Decimal("0"),
            unit="kg",
        )
    with pytest.raises(ValidationError, match="already exists"):
        s.recipe_step_save(user=users["supervisor"], recipe_id=recipe.pk, number=10, title="dup", instruction="x")


def test_removed_parts_leave_the_content_but_stay_in_the_database(plant, users):
    recipe = build_recipe(users["supervisor"])
    line = recipe.bom_lines.get(material__code="RM-EXC-010")
    s.recipe_part_remove(user=users["supervisor"], recipe_id=recipe.pk, kind="bom", part_id=line.pk, reason="typo")
    assert [b["material"] for b in fetch(recipe).signature_content()["bom"]] == ["RM-API-001"]
    line.refresh_from_db()
    assert line.removed
    assert AuditEvent.objects.filter(action="orders.recipe.bom_remove", reason="typo").exists()


def test_diff_lists_changed_parameters_bom_and_steps(plant, users):
    from materials.models import Material

    v1 = make_effective(build_recipe(users["supervisor"]), users["supervisor"], users["qa"])
    v2 = s.recipe_new_version(user=users["supervisor"], recipe_id=v1.pk)
    step = v2.steps.get(number=10)
    param = step.parameters.get()
    s.recipe_parameter_save(
        user=users["supervisor"],
        recipe_id=v2.pk,
        step_id=step.pk,
        parameter_id=param.pk,
        target=Decimal("155"),
        maximum=Decimal("165"),
    )
    s.recipe_bom_line_save(
        user=users["supervisor"],
        recipe_id=v2.pk,
        position=3,
        material=Material.objects.get(code="RM-EXC-020"),
        quantity=Decimal("8"),
        unit="kg",
    )
    s.recipe_part_remove(user=users["supervisor"], recipe_id=v2.pk, kind="step", part_id=v2.steps.get(number=20).pk)
    sections = {str(sec.title): sec.rows for sec in recipe_diff(fetch(v1), fetch(v2))}
    params = {(r.key, r.field): (r.old, r.new, r.kind) for r in sections["Process parameters"]}
    assert params[("10 · Impeller speed", "target")][:2] == ("150", "155")
    assert params[("10 · Impeller speed", "maximum")][:2] == ("160", "165")
    assert [(r.key, r.kind) for r in sections["Bill of materials"]] == [("RM-EXC-020", "added")]
    assert [(r.key, r.kind) for r in sections["Steps"]] == [("20", "removed")]
    assert sections["Header"] == []
