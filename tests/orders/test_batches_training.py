"""Batches from released orders (ORD-6) and training records (21 CFR 11.10(i))."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from guardian.shortcuts import get_users_with_perms

from audit.models import AuditEvent
from batches.models import Batch
from batches.services import batch_operators
from mes.units import quantity_text
from orders import services as s
from orders.services.orders import batch_split
from tests.orders.conftest import advance, fresh, order_values

pytestmark = pytest.mark.django_db


@pytest.mark.req("ORD-6", "BAT-1")
def test_batches_from_a_released_order_have_unique_numbers_split_size_and_operators(draft_order, users):
    advance(draft_order, "released", users)
    operators = [users["operator"], users["operator2"]]
    batches = s.order_create_batches(user=users["supervisor"], order_id=draft_order.pk, count=2, operators=operators)
    assert [b.number for b in batches] == [
        f"{draft_order.number.replace('PO-', 'B')}-01",
        f"{draft_order.number.replace('PO-', 'B')}-02",
    ]
    assert [b.planned_quantity for b in batches] == [Decimal("200"), Decimal("200")]
    for b in batches:
        assert (b.order_id, b.recipe_id, b.product_id, b.line_id, b.unit, b.status) == (
            draft_order.pk,
            draft_order.recipe_id,
            draft_order.product_id,
            draft_order.line_id,
            "kg",
            "planned",
        )
        assert set(get_users_with_perms(b, only_with_perms_in=["execute_batch"])) == set(operators)
        assert fresh(users["operator"]).has_perm("batches.execute_batch", b)
        assert not fresh(users["qc"]).has_perm("batches.execute_batch", b)
    assert {u.username for u in batch_operators(batches)[batches[0].pk]} == {"operator", "operator2"}
    assert AuditEvent.objects.filter(action="batches.batch.assign_operator").count() == 4
    assert AuditEvent.objects.filter(action="batches.batch.create_from_order").count() >= 2
    # The whole quantity is planned now: more batches are refused.
    with pytest.raises(ValidationError, match="already in batches"):
        s.order_create_batches(user=users["supervisor"], order_id=draft_order.pk, count=1, operators=operators)


@pytest.mark.req("ORD-6")
def test_batches_are_refused_before_release_and_over_the_validated_size(draft_order, users):
    ops = [users["operator"]]
    advance(draft_order, "approved", users)
    with pytest.raises(ValidationError, match="only from a released order"):
        s.order_create_batches(user=users["supervisor"], order_id=draft_order.pk, count=2, operators=ops)
    s.order_release(user=users["supervisor"], order_id=draft_order.pk, password="Pharma-MES-2026!")
    with pytest.raises(ValidationError, match="Create at least 2 batches"):
        s.order_create_batches(user=users["supervisor"], order_id=draft_order.pk, count=1, operators=ops)
    with pytest.raises(ValidationError, match="not an active operator"):
        s.order_create_batches(user=users["supervisor"], order_id=draft_order.pk, count=2, operators=[users["qc"]])
    with pytest.raises(ValidationError, match="at least one operator"):
        s.order_create_batches(user=users["supervisor"], order_id=draft_order.pk, count=2, operators=[])
    assert not Batch.objects.exists()


@pytest.mark.req("ORD-6")
def test_the_batch_size_refusal_reads_as_people_write_numbers(effective_recipe, users):
    """250 kg over a validated 200 kg: "200 kg", never "2E+2 kg", and two batches, not "1 batches"."""
    order = s.order_create(user=users["planner"], **order_values(planned_quantity=Decimal("250.5")))
    advance(order, "released", users)
    with pytest.raises(ValidationError) as refused:
        s.order_create_batches(user=users["supervisor"], order_id=order.pk, count=1, operators=[users["operator"]])
    text = " ".join(refused.value.messages)
    assert "Each batch would hold 250.5 kg, more than the validated batch size of 200 kg." in text
    assert "Create at least 2 batches." in text and "E+" not in text


def test_quantity_text_has_no_exponent_and_no_trailing_zeros():
    assert [quantity_text(Decimal(v)) for v in ("2E+2", "146.200000000000", "0.0050", "1200.000")] == [
        "200",
        "146.2",
        "0.005",
        "1200",
    ]


def test_split_gives_the_remainder_to_the_last_batch():
    assert batch_split(Decimal("1000"), 3, "kg") == [Decimal("333.333"), Decimal("333.333"), Decimal("333.334")]
    assert batch_split(Decimal("18001"), 3, "pcs") == [Decimal("6000"), Decimal("6000"), Decimal("6001")]


def test_only_the_supervisor_creates_batches(draft_order, users):
    from django.core.exceptions import PermissionDenied

    advance(draft_order, "released", users)
    with pytest.raises(PermissionDenied):
        s.order_create_batches(user=users["planner"], order_id=draft_order.pk, count=2, operators=[users["operator"]])


def test_training_is_current_only_for_that_recipe_version_and_inside_the_dates(effective_recipe, users):
    today = timezone.localdate()
    op = users["operator"]
    assert not s.training_is_current(user=op, recipe=effective_recipe)
    s.training_record_create(
        user=users["supervisor"],
        trainee=op,
        recipe=effective_recipe,
        trained_on=today - dt.timedelta(days=10),
        valid_until=today + dt.timedelta(days=30),
    )
    assert s.training_is_current(user=op, recipe=effective_recipe)
    assert not s.training_is_current(user=op, recipe=effective_recipe, on=today + dt.timedelta(days=31))
    assert not s.training_is_current(user=users["operator2"], recipe=effective_recipe)
    v2 = s.recipe_new_version(user=users["supervisor"], recipe_id=effective_recipe.pk)
    assert not s.training_is_current(user=op, recipe=v2)  # a new version needs new training
    s.training_record_create(user=users["qa"], trainee=op, sop_code="SOP-PRD-001", trained_on=today, valid_until=today)
    assert s.training_is_current(user=op, sop_code="SOP-PRD-001")
    assert not s.training_is_current(user=op, sop_code="SOP-OTHER")


def test_bad_training_records_are_refused(effective_recipe, users):
    today = timezone.localdate()
    with pytest.raises(ValidationError) as info:
        s.training_record_create(
            user=users["supervisor"],
            trainee=users["operator"],
            recipe=effective_recipe,
            sop_code="SOP-1",
            trained_on=today,
            valid_until=today,
        )
    assert "either" in info.value.message_dict["recipe"][0]
    with pytest.raises(ValidationError) as info:
        s.training_record_create(
            user=users["supervisor"],
            trainee=users["operator"],
            sop_code="SOP-1",
            trained_on=today,
            valid_until=today - dt.timedelta(days=1),
        )
    assert "valid_until" in info.value.message_dict
    with pytest.raises(ValidationError):
        s.training_record_create(
            user=users["supervisor"],
            trainee=users["operator"],
            sop_code="SOP-1",
            trained_on=today + dt.timedelta(days=2),
            valid_until=today + dt.timedelta(days=9),
        )
