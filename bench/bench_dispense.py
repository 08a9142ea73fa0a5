"""Weigh & dispense (issue 19): from "capture" to the stored entry, including the balance round trip.

A simulated MT-SICS balance on loopback TCP (in-process thread); each capture reads the serial
number, the stable net weight and the tare (3 round trips), checks the balance interlock, and books
the issue (ledger, genealogy edge, dispense record, outbox, audit events) in one transaction.
"""

from __future__ import annotations

import statistics
import time
from decimal import Decimal

TITLE = "Weigh & dispense: capture to stored entry"
CAPTURES = 200


def _setup():
    import datetime as dt

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from audit.context import audit_context
    from batches.models import Batch
    from equipment.balances.simulator import BalanceSimulator
    from equipment.models import Balance, BalanceMetrology, Equipment, EquipmentClass
    from equipment.services.balance import balance_check_record
    from materials.models import Location, Material
    from materials.services import lot_receive
    from quality.seed_evidence import lot_release_on_evidence

    users = get_user_model().objects
    password = "Bench-password-2026!"
    people = {}
    for name, role in (("bd-wh", "warehouse"), ("bd-qc", "qc"), ("bd-qa", "qa"), ("bd-op", "operator")):
        user = users.create_user(username=name, password=password)
        user.groups.add(Group.objects.get(name=role))
        people[role] = users.get(pk=user.pk)
    sim = BalanceSimulator(serial="BENCH-1", capacity="6200").start()
    today = timezone.localdate()
    with audit_context(actor=people["warehouse"], action="bench.setup"):
        location = Location.objects.create(code="BD-WH", name="Bench store", condition="ambient")
        material = Material.objects.create(code="BD-API", name="Bench API", type="raw", unit="kg", shelf_life_days=900)
        product = Material.objects.create(code="BD-GRN", name="Granules", type="intermediate", unit="kg")
        batch = Batch.objects.create(
            number="BD-0001", product=product, planned_quantity=100, unit="kg", status="in_progress"
        )
        cls, _ = EquipmentClass.objects.get_or_create(code="BAL", defaults={"name": "Balance"})
        eq = Equipment.objects.create(
            code="BD-BAL",
            name="Bench balance",
            equipment_class=cls,
            cleaned_at=timezone.now() - dt.timedelta(hours=1),
            calibration_interval_days=90,
            calibration_due_on=today + dt.timedelta(days=60),
        )
        balance = Balance.objects.create(equipment=eq, port=sim.port)
        BalanceMetrology.objects.create(
            balance=balance,
            serial_number="BENCH-1",
            unit="g",
            capacity=6200,
            readability=Decimal("0.01"),
            minimum_weight=Decimal("8.2"),
            check_weight=200,
            check_tolerance=Decimal("0.05"),
        )
    lot = lot_receive(
        user=people["warehouse"],
        material=material,
        quantity=1_000_000,
        unit="kg",
        location=location,
        supplier="Bench",
        supplier_lot="BD",
    )
    lot_release_on_evidence(lot=lot, qc=people["qc"], qa=people["qa"], password=password)
    balance = Balance.objects.select_related("equipment", "metrology").get(pk=balance.pk)
    sim.put("200.01")
    balance_check_record(user=people["operator"], balance=balance, test_weight="TW-1")
    return sim, people["operator"], batch, lot, balance, material


def run(ctx) -> list:
    from bench.run import Figure
    from equipment.services.balance import balance_capture, balance_tare
    from materials.requirements import Requirement
    from materials.services.dispense import dispense_capture

    sim, user, batch, lot, balance, material = _setup()
    line = Requirement(material=material, quantity=Decimal("1000000"), unit="kg", tolerance_pct=Decimal("100"))
    times, reads = [], []
    try:
        for i in range(CAPTURES + 10):
            sim.put("85.30")
            balance_tare(balance=balance)
            sim.add(f"{250 + i % 7}.40")
            start = time.perf_counter()
            balance_capture(balance=balance)  # the balance part alone: interlock + I4, S, TA on loopback
            reads.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            dispense_capture(user=user, batch=batch, requirement=line, lot_code=lot.code, balance=balance)
            if i >= 10:  # the first ones warm the connection pool and caches
                times.append((time.perf_counter() - start) * 1000)
    finally:
        sim.stop()
    times.sort()
    p95 = times[int(len(times) * 0.95) - 1]
    return [
        Figure(
            "Capture to stored dispense entry, p95",
            p95,
            "ms",
            "< 300 ms",
            p95 < 300,
            f"{CAPTURES} captures on one batch; median {statistics.median(times):.1f} ms, max {max(times):.1f} ms; "
            "includes the balance interlock, I4 + S + TA over loopback TCP and the issue transaction",
        ),
        Figure(
            "Balance part alone (interlock + I4, S, TA on loopback), median",
            statistics.median(reads[10:]),
            "ms",
            "(informative)",
            True,
            f"p95 {sorted(reads[10:])[int(len(reads[10:]) * 0.95) - 1]:.1f} ms; the rest of a capture is the issue "
            "transaction (ledger, genealogy, dispense record, outbox, audit events with their history rows)",
        ),
    ]
