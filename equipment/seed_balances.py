"""Demo balances (issue 19), bound to the MT-SICS simulator `make run` starts (manage.py balance_simulator).

A precision balance and a floor scale join the demo plant; the bench balance and the floor balance
already there get their connection and metrology too (the floor balance is overdue for calibration,
so the booth shows that interlock). Each day's balance check is left to the operator: it reads the
test weight from the balance, and the seed cannot (the simulator is not running while it seeds).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

from django.utils import timezone

from audit.context import audit_context
from equipment.models import Balance, BalanceMetrology, Equipment, EquipmentClass

# code, name, name_zh, port, serial, unit, capacity, readability, minimum weight, check weight, tolerance
DEMO_BALANCES = [
    (
        "BAL-102",
        "Precision balance 6.2 kg",
        "精密天平 6.2 kg",
        8101,
        "B530112233",
        "g",
        D("6200"),
        D("0.01"),
        D("8.2"),
        D("200"),
        D("0.05"),
    ),
    (
        "BAL-103",
        "Floor scale 300 kg",
        "地磅 300 kg",
        8102,
        "F710045566",
        "kg",
        D("300"),
        D("0.01"),
        D("8.2"),
        D("100"),
        D("0.05"),
    ),
    ("BAL-201", "", "", 8103, "B320098765", "kg", D("32"), D("0.0001"), D("0.082"), D("10"), D("0.001")),
    ("BAL-101", "", "", 8104, "F600012345", "kg", D("600"), D("0.1"), D("82"), D("200"), D("0.2")),
]


def seed_balances(stdout=None) -> int:
    """Create the demo balances that are missing; returns how many were bound."""
    today, now = timezone.localdate(), timezone.now()
    cls = EquipmentClass.objects.get(code="DISP")
    bound = 0
    for code, name, name_zh, port, serial, unit, cap, d, minimum, check, tol in DEMO_BALANCES:
        with audit_context(action="equipment.balance.register", reason="demo data (seed_demo)"):
            eq = Equipment.objects.filter(code=code).first()
            if eq is None:
                # No line: the batch steps of the demo lines keep using their own booth equipment.
                eq = Equipment.objects.create(
                    code=code,
                    name=name,
                    name_zh=name_zh,
                    equipment_class=cls,
                    location="OSD-101",
                    cleaned_at=now - dt.timedelta(hours=2),
                    calibration_interval_days=90,
                    last_calibrated_on=today - dt.timedelta(days=20),
                    calibration_due_on=today + dt.timedelta(days=70),
                    qualified_on=today - dt.timedelta(days=200),
                    requalification_due_on=today + dt.timedelta(days=165),
                )
            if Balance.objects.filter(equipment=eq).exists():
                continue
            balance = Balance.objects.create(equipment=eq, host="127.0.0.1", port=port)
            BalanceMetrology.objects.create(
                balance=balance,
                serial_number=serial,
                unit=unit,
                capacity=cap,
                readability=d,
                minimum_weight=minimum,
                check_weight=check,
                check_tolerance=tol,
            )
            bound += 1
    if stdout is not None:
        stdout.write(f"  equipment: {bound} balances bound to the MT-SICS simulator (ports 8101-8104)")
    return bound
