"""Helpers that make lots and batches through the materials services (for the quality tests)."""

from __future__ import annotations

from decimal import Decimal

from audit.context import audit_context, status_change_allowed
from batches.models import Batch


def location(code="WH-Q", condition="ambient"):
    from materials.models import Location

    with audit_context(action="test.setup"):
        return Location.objects.create(code=code, name=f"Location {code}", condition=condition)


def receive(users, material, loc, quantity="100"):
    from materials.services import lot_receive

    return lot_receive(
        user=users["warehouse"],
        material=material,
        quantity=Decimal(quantity),
        unit=material.unit,
        location=loc,
        supplier="ACME",
        supplier_lot="S-1",
    )


def make_batch(number, product, status="in_progress"):
    with audit_context(action="test.setup"):
        return Batch.objects.create(
            number=number, product=product, planned_quantity=Decimal("1000"), unit=product.unit, status=status
        )


def set_batch_status(batch, status):
    """Stands in for the batch review of batch execution (issue #7), which owns the batch states."""
    batch = Batch.objects.get(pk=batch.pk)
    batch.status = status
    with audit_context(action="test.batch_review"), status_change_allowed(batch):
        batch.save()
    return batch


def output(users, batch, loc, quantity="1000"):
    from materials.services import lot_create_output

    return lot_create_output(
        user=users["operator"], batch=batch, quantity=Decimal(quantity), unit=batch.unit, location=loc
    )
