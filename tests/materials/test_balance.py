"""Material balance per batch: issued, returned, waste, consumed, output, yield and the flags the
quality side turns into deviations."""

from decimal import Decimal

import pytest

from materials.requirements import Requirement
from materials.services import (
    batch_material_balance,
    lot_create_output,
    lot_issue_to_batch,
    lot_record_waste,
    lot_return_from_batch,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def booked(released, api, excipient, batch, users, wh):
    op = users["operator"]
    a, e = released(api, "100"), released(excipient, "100")
    lot_issue_to_batch(
        user=op,
        batch=batch,
        lot_code=a.code,
        quantity=60,
        unit="kg",
        material=api,
        required_quantity=60,
        tolerance_pct=2,
    )
    lot_issue_to_batch(
        user=op,
        batch=batch,
        lot_code=e.code,
        quantity=41,
        unit="kg",
        material=excipient,
        required_quantity=40,
        tolerance_pct=5,
    )
    lot_return_from_batch(user=op, batch=batch, lot_code=a.code, quantity=2, unit="kg", location=wh)
    lot_record_waste(user=op, batch=batch, lot_code=e.code, quantity="0.5", unit="kg", reason="spill")
    return a, e


@pytest.mark.req("MAT-5")
def test_balance_sums_issued_returned_waste_consumed_and_yield(booked, batch, users, wh, api, excipient):
    lot_create_output(user=users["operator"], batch=batch, quantity="97.5", unit="kg", location=wh)
    reqs = [
        Requirement(material=api, quantity=Decimal(60), unit="kg", tolerance_pct=Decimal(2)),
        Requirement(material=excipient, quantity=Decimal(40), unit="kg", tolerance_pct=Decimal(5)),
    ]
    balance = batch_material_balance(batch=batch, requirements=reqs)
    lines = {line.code: line for line in balance.lines}
    api_line, exc_line = lines["RM-API"], lines["RM-EXC"]
    assert (api_line.issued, api_line.returned, api_line.waste, api_line.consumed) == (60, 2, 0, 58)
    assert (exc_line.issued, exc_line.returned, exc_line.waste, exc_line.consumed) == (
        41,
        0,
        Decimal("0.5"),
        Decimal("40.5"),
    )
    assert balance.output == Decimal("97.5") and balance.theoretical == 100 and balance.yield_pct == Decimal("97.50")
    # 58 kg of API consumed where 60 ± 2 % (58.8..61.2) is allowed: flagged; the excipient is within 40 ± 5 %
    assert [f.code for f in balance.flags] == ["consumption_outside_tolerance"]
    assert balance.flags[0].material_code == "RM-API"


@pytest.mark.req("MAT-5")
def test_yield_outside_limits_and_missing_output_are_flagged(booked, batch, users, wh):
    assert [f.code for f in batch_material_balance(batch=batch).flags] == ["no_output"]
    lot_create_output(user=users["operator"], batch=batch, quantity="90", unit="kg", location=wh)
    balance = batch_material_balance(batch=batch)
    assert balance.yield_pct == 90 and [f.code for f in balance.flags] == ["yield_low"]
    assert batch_material_balance(batch=batch, theoretical="85000", theoretical_unit="g").flags[0].code == "yield_high"
    assert batch_material_balance(batch=batch, yield_limits=(85, 95)).ok
