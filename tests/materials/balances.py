"""Test helpers: a balance (equipment + connection + metrology) bound to an in-process simulator."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from audit.context import audit_context
from equipment.balances.simulator import BalanceSimulator
from equipment.models import Balance, BalanceMetrology, Equipment, EquipmentClass
from equipment.services.balance import balance_check_record


def make_balance(
    code: str, sim: BalanceSimulator, *, serial: str | None = None, minimum="10", capacity="6200", checker=None
) -> Balance:
    """A usable balance on `sim`; with `checker`, today's daily check is done (test weight 200 g)."""
    today = timezone.localdate()
    with audit_context(action="test.balance.create"):
        cls, _ = EquipmentClass.objects.get_or_create(code="BAL", defaults={"name": "Balance", "name_zh": "天平"})
        eq = Equipment.objects.create(
            code=code,
            name=f"Balance {code}",
            name_zh=f"天平 {code}",
            equipment_class=cls,
            cleaned_at=timezone.now() - dt.timedelta(hours=1),
            calibration_interval_days=365,
            last_calibrated_on=today - dt.timedelta(days=30),
            calibration_due_on=today + dt.timedelta(days=300),
            qualified_on=today - dt.timedelta(days=300),
        )
        balance = Balance.objects.create(equipment=eq, host="127.0.0.1", port=sim.port, timeout_s=Decimal("2"))
        BalanceMetrology.objects.create(
            balance=balance,
            serial_number=serial or sim.state.serial,
            unit="g",
            capacity=Decimal(capacity),
            readability=Decimal("0.01"),
            minimum_weight=Decimal(minimum),
            check_weight=Decimal("200"),
            check_tolerance=Decimal("0.05"),
        )
    balance = Balance.objects.select_related("equipment", "metrology").get(pk=balance.pk)
    if checker is not None:
        daily_check(balance, sim, checker)
    return balance


def daily_check(balance: Balance, sim: BalanceSimulator, user, weight="200.02"):
    sim.put(weight)
    check = balance_check_record(user=user, balance=balance, test_weight="TW-200-01")
    sim.put("0")
    return check
