"""Order rules: bad input is refused in words and changes nothing; approval, changes, ERP plans."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from audit.context import audit_context
from audit.models import AuditEvent, Signature
from materials.models import Material
from mes.changecontrol import controlled_writes
from mes.models import Line
from mes.seed import DEMO_PASSWORD as PW
from orders import services as s
from orders.models import OrderAmendment, OrderApproval, ProductionOrder
from tests.orders.conftest import advance, build_recipe, order_values

pytestmark = pytest.mark.django_db


def refused(fn, **kwargs) -> ValidationError:
    """Call a service expecting a refusal; assert nothing at all was written."""
    counts = (ProductionOrder.objects.count(), AuditEvent.objects.count(), Signature.objects.count())
    with pytest.raises(ValidationError) as info:
        fn(**kwargs)
    assert (ProductionOrder.objects.count(), AuditEvent.objects.count(), Signature.objects.count()) == counts
    return info.value


def messages_of(exc: ValidationError) -> str:
    return " ".join(exc.messages)


@pytest.mark.req("ORD-1")
@pytest.mark.parametrize("qty", [Decimal("0"), Decimal("-5")])
def test_zero_or_negative_quantity_is_refused(effective_recipe, users, qty):
    exc = refused(s.order_create, user=users["planner"], **order_values(planned_quantity=qty))
    assert "greater than zero" in exc.message_dict["planned_quantity"][0]


@pytest.mark.req("ORD-1")
def test_end_before_start_is_refused(effective_recipe, users):
    values = order_values()
    values["planned_end"] = values["planned_start"] - dt.timedelta(hours=1)
    exc = refused(s.order_create, user=users["planner"], **values)
    assert "after the planned start" in exc.message_dict["planned_end"][0]


@pytest.mark.req("ORD-1")
def test_unknown_product_is_refused(effective_recipe, users):
    exc = refused(s.order_create, user=users["planner"], **order_values(product=None))
    assert "Unknown product" in messages_of(exc)
    exc = refused(
        s.order_create_from_plan,
        user=users["planner"],
        erp_reference="ERP-9",
        product_code="NOPE",
        planned_quantity=10,
        unit="kg",
        planned_start=order_values()["planned_start"],
        planned_end=order_values()["planned_end"],
        line_code="L1",
    )
    assert "Unknown product NOPE" in messages_of(exc)


@pytest.mark.req("ORD-4")
def test_product_without_effective_recipe_is_refused(effective_recipe, users):
    exc = refused(
        s.order_create, user=users["planner"], **order_values(product=Material.objects.get(code="IM-TAB-500"))
    )
    assert "no effective master batch record" in messages_of(exc)


@pytest.mark.req("ORD-1")
def test_duplicate_erp_reference_is_refused(effective_recipe, users):
    s.order_create(user=users["planner"], erp_reference="ERP-1", **order_values())
    exc = refused(s.order_create, user=users["planner"], erp_reference="ERP-1", **order_values())
    assert "ERP-1 is already used by order PO-" in exc.message_dict["erp_reference"][0]


@pytest.mark.req("ORD-2")
def test_the_author_cannot_approve_their_own_order(draft_order, users):
    planner = users["planner"]
    from django.contrib.auth.models import Group

    planner.groups.add(Group.objects.get(name="supervisor"))  # a planner who is also a supervisor
    planner = type(planner).objects.get(pk=planner.pk)
    s.order_submit(user=planner, order_id=draft_order.pk, password=PW)
    exc = refused(s.order_approve, user=planner, order_id=draft_order.pk, password=PW)
    assert "approval must come from someone else" in messages_of(exc)
    draft_order.refresh_from_db()
    assert draft_order.status == "submitted" and not OrderApproval.objects.exists()


@pytest.mark.req("ORD-2")
def test_editing_a_released_order_is_refused(draft_order, users):
    advance(draft_order, "released", users)
    exc = refused(
        s.order_update, user=users["planner"], order_id=draft_order.pk, reason="more", planned_quantity=Decimal("500")
    )
    assert "released to the shop floor and can no longer be changed" in messages_of(exc)
    draft_order.refresh_from_db()
    assert draft_order.planned_quantity == Decimal("400")


@pytest.mark.req("ORD-1")
def test_refusals_are_in_the_users_language(effective_recipe, users):
    with translation.override("zh-hans"):
        exc = refused(s.order_create, user=users["planner"], **order_values(planned_quantity=Decimal("0")))
        exc2 = refused(
            s.order_create, user=users["planner"], **order_values(product=Material.objects.get(code="IM-TAB-500"))
        )
    assert "计划数量必须大于零" in exc.message_dict["planned_quantity"][0]
    assert "没有生效的" in messages_of(exc2)


@pytest.mark.req("ORD-4")
def test_order_keeps_the_recipe_version_it_was_created_with(draft_order, effective_recipe, users):
    from tests.orders.conftest import make_effective

    v2 = s.recipe_new_version(user=users["supervisor"], recipe_id=effective_recipe.pk)
    make_effective(v2, users["supervisor"], users["qa"])
    draft_order.refresh_from_db()
    assert draft_order.recipe_id == effective_recipe.pk
    new_order = s.order_create(user=users["planner"], **order_values())
    assert new_order.recipe_id == v2.pk
    # The old order can no longer be approved: its recipe is superseded, and the page says so.
    advance(draft_order, "submitted", users)
    problems = s.order_problems(draft_order)
    assert any("superseded" in p.lower() for p in problems)
    exc = refused(s.order_approve, user=users["supervisor"], order_id=draft_order.pk, password=PW)
    assert "not effective" in messages_of(exc)


@pytest.mark.req("ORD-5", "ORD-2")
def test_approval_checks_line_and_materials_and_says_what_is_missing(draft_order, users):
    advance(draft_order, "submitted", users)
    line = Line.objects.get(code="L1")
    line.active = False
    api = Material.objects.get(code="RM-API-001")
    api.active = False
    with audit_context(actor=users["admin"]), controlled_writes("test: the material withdrawn before approval"):
        line.save()
        api.save()
    exc = refused(s.order_approve, user=users["supervisor"], order_id=draft_order.pk, password=PW)
    text = messages_of(exc)
    assert "Line L1 is not active" in text and "Material RM-API-001" in text


@pytest.mark.req("ORD-3")
def test_changing_an_approved_order_sends_it_back_and_keeps_the_approval_record(draft_order, users):
    advance(draft_order, "approved", users)
    first = OrderApproval.objects.get(order=draft_order)
    with pytest.raises(ValidationError):  # a reason is required after submission
        s.order_update(user=users["planner"], order_id=draft_order.pk, planned_quantity=Decimal("300"))
    s.order_update(
        user=users["planner"],
        order_id=draft_order.pk,
        reason="ERP plan reduced",
        planned_quantity=Decimal("300"),
        line=Line.objects.get(code="L2"),
    )
    draft_order.refresh_from_db()
    assert draft_order.status == "submitted" and draft_order.revision == 2
    amendment = OrderAmendment.objects.get(order=draft_order)
    assert amendment.changes == {"planned_quantity": ["400.000", "300.000"], "line": ["L1", "L2"]}
    assert amendment.reason == "ERP plan reduced" and amendment.changed_by == users["planner"]
    # The planner changed it, so the planner can never approve it; the supervisor approves revision 2.
    s.order_approve(user=users["supervisor"], order_id=draft_order.pk, password=PW)
    revisions = list(OrderApproval.objects.filter(order=draft_order).order_by("pk").values_list("revision", "decision"))
    assert revisions == [(1, "approved"), (2, "approved")]
    assert OrderApproval.objects.filter(pk=first.pk).exists()
    event = AuditEvent.objects.filter(action="orders.productionorder.amend").latest("seq")
    assert event.reason == "ERP plan reduced"


@pytest.mark.req("ORD-3", "ORD-2")
def test_returned_order_is_reworked_and_every_change_is_recorded(draft_order, users):
    advance(draft_order, "submitted", users)
    s.order_return(user=users["supervisor"], order_id=draft_order.pk, password=PW, reason="Line busy that day")
    with pytest.raises(ValidationError, match="Rework"):
        s.order_update(user=users["planner"], order_id=draft_order.pk, reason="x", priority=1)
    s.order_rework(user=users["planner"], order_id=draft_order.pk)
    new_start = draft_order.planned_start + dt.timedelta(days=2)
    s.order_update(
        user=users["planner"],
        order_id=draft_order.pk,
        reason="moved as asked",
        planned_start=new_start,
        planned_end=new_start + dt.timedelta(hours=10),
    )
    s.order_submit(user=users["planner"], order_id=draft_order.pk, password=PW)
    s.order_approve(user=users["supervisor"], order_id=draft_order.pk, password=PW)
    decisions = list(
        OrderApproval.objects.filter(order=draft_order).order_by("pk").values_list("revision", "decision", "reason")
    )
    assert decisions == [(1, "returned", "Line busy that day"), (2, "approved", "")]
    assert OrderAmendment.objects.get(order=draft_order).revision == 2


@pytest.mark.req("ORD-1", "INT-1")
def test_create_from_plan_is_idempotent_by_erp_reference(effective_recipe, users):
    v = order_values()
    kwargs = {
        "user": users["planner"],
        "erp_reference": "ERP-PLAN-77",
        "product_code": "IM-GRN-500",
        "planned_quantity": Decimal("400"),
        "unit": "kg",
        "planned_start": v["planned_start"],
        "planned_end": v["planned_end"],
        "line_code": "L2",
    }
    order, created = s.order_create_from_plan(**kwargs)
    again, created_again = s.order_create_from_plan(**kwargs)
    assert created and not created_again and again.pk == order.pk
    assert ProductionOrder.objects.filter(erp_reference="ERP-PLAN-77").count() == 1
    assert order.line.code == "L2" and order.recipe_id == effective_recipe.pk and order.status == "draft"


def test_order_numbers_are_unique_and_sequential(effective_recipe, users):
    numbers = [s.order_create(user=users["planner"], **order_values()).number for _ in range(3)]
    assert len(set(numbers)) == 3
    assert [int(n.rsplit("-", 1)[1]) for n in numbers] == sorted(int(n.rsplit("-", 1)[1]) for n in numbers)


@pytest.mark.req("SEC-4")
def test_orders_are_gmp_records_that_cannot_be_deleted_or_bulk_changed(draft_order):
    from audit.gmp import AuditBypassError

    with pytest.raises(AuditBypassError):
        draft_order.delete()
    with pytest.raises(AuditBypassError):
        ProductionOrder.objects.filter(pk=draft_order.pk).update(planned_quantity=1)


def test_unit_of_another_dimension_is_refused(effective_recipe, users):
    exc = refused(s.order_create, user=users["planner"], **order_values(unit="L"))
    assert "does not measure" in exc.message_dict["unit"][0]


def test_other_recipe_builder_is_usable(plant, users):
    # build_recipe is shared with the page tests; it must give a complete draft.
    recipe = build_recipe(users["supervisor"], "IM-TAB-500")
    assert s.recipes.recipe_problems(s.recipes.recipe_with_parts().get(pk=recipe.pk)) == []
