from decimal import Decimal

import pytest

from materials.services import lot_issue_to_batch, on_hand, stock_check

pytestmark = pytest.mark.django_db


def test_smoke(released, api, batch, users):
    lot = released(api, "50")
    e = lot_issue_to_batch(
        user=users["operator"],
        batch=batch,
        lot_code=lot.code,
        quantity="50",
        unit="kg",
        material=api,
        required_quantity="50",
        tolerance_pct=2,
    )
    assert e.delta == Decimal("-50")
    lot.refresh_from_db()
    assert lot.status == "consumed"
    assert on_hand(lot) == 0
    assert stock_check() == []
