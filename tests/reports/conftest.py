"""Report test data: batches whose history (start, completion, corrections) and output are known."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from audit.context import audit_context, status_change_allowed

NOW = timezone.now()
DAY = timezone.localdate()


def at(hours: float) -> dt.datetime:
    """A time today (local midnight + hours)."""
    midnight = timezone.make_aware(dt.datetime.combine(DAY, dt.time.min))
    return midnight + dt.timedelta(hours=hours)


def move(batch, status: str, when: dt.datetime) -> None:
    """Change the batch's state as a transition would, its history row dated `when` (the day's events are
    set at fixed hours). History rows are append-only for the application's role: the row is dated as it
    is written (simple-history's `_history_date`), never changed afterwards."""

    with audit_context(action="test.batch.move"), status_change_allowed(batch):
        batch.status = status
        save_dated(batch, when)


def save_dated(batch, when: dt.datetime) -> None:
    """Save the batch with its new history row dated `when`."""
    batch._history_date = when
    try:
        batch.save()
    finally:
        del batch._history_date


def output(batch, quantity: str, location) -> None:
    from materials.models import LedgerEntry, Lot

    with audit_context(action="test.output"):
        lot = Lot.objects.create(
            code=f"OUT-{batch.number}", material=batch.product, quantity_received=Decimal(quantity), unit="kg",
            expiry_date=DAY + dt.timedelta(days=365), produced_by=batch,
        )  # fmt: skip
        LedgerEntry.objects.create(
            entry_type="output", lot=lot, location=location, batch=batch, quantity=Decimal(quantity),
            delta=Decimal(quantity), unit="kg",
        )  # fmt: skip


@pytest.fixture
def plant(db):
    from materials.models import Location, Material
    from mes.seed import seed_plant

    seed_plant()
    with audit_context(action="test.setup"):
        products = {
            code: Material.objects.create(code=code, name=f"Product {code}", name_zh="片剂", type="finished", unit="kg")
            for code in ("FG-A", "FG-B")
        }
        wh = Location.objects.create(code="WH-R", name="Warehouse", name_zh="成品库", condition="ambient")
    return {"products": products, "wh": wh}


@pytest.fixture
def batches(plant):
    """A-1: 08-13h, 97 of 100 kg, closed. A-2: 09-17h, sent back once, 190 of 200. B-1: 10-12h, 40 of 50,
    closed. B-2: planned, never started (not in the period: not completed, no order)."""
    from batches.models import Batch
    from mes.models import Line

    line = Line.objects.get(code="L1")
    made = {}
    for number, product, qty in (("A-1", "FG-A", "100"), ("A-2", "FG-A", "200"), ("B-1", "FG-B", "50"),
                                 ("B-2", "FG-B", "50")):  # fmt: skip
        with audit_context(action="test.batch.create"):
            made[number] = Batch.objects.create(
                number=number, product=plant["products"][product], line=line, planned_quantity=Decimal(qty), unit="kg"
            )
    b = made
    move(b["A-1"], "in_progress", at(8))
    move(b["A-1"], "completed", at(13))
    output(b["A-1"], "97", plant["wh"])
    move(b["A-1"], "closed", at(14))
    move(b["A-2"], "in_progress", at(9))
    move(b["A-2"], "completed", at(17))
    move(b["A-2"], "correction_requested", at(17.5))
    move(b["A-2"], "reviewed", at(18))
    output(b["A-2"], "190", plant["wh"])
    move(b["B-1"], "in_progress", at(10))
    move(b["B-1"], "completed", at(12))
    output(b["B-1"], "40", plant["wh"])
    return made
