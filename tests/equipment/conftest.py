"""Equipment test data: a plant, equipment in a known good state, a batch and products."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from audit.context import audit_context
from equipment.models import ChecklistItem, DailyCheck, Equipment, EquipmentClass


@pytest.fixture
def plant(db):
    from mes.seed import seed_plant

    seed_plant()
    classes = {}
    for code, name in (("GRAN", "High-shear granulator"), ("TPRS", "Rotary tablet press"), ("DISP", "Balance")):
        classes[code], _ = EquipmentClass.objects.get_or_create(code=code, defaults={"name": name})
    for order, text in enumerate(
        ["Guards and interlocks in place", "No leaks or unusual noise", "Status label correct"]
    ):
        ChecklistItem.objects.create(equipment_class=classes["GRAN"], order=order, name=text)
    return classes


@pytest.fixture
def products(db):
    from materials.models import Material

    return {
        code: Material.objects.create(code=code, name=name, type="finished", unit="pcs")
        for code, name in (("FG-A", "Product A tablets"), ("FG-B", "Product B tablets"))
    }


@pytest.fixture
def make_equipment(plant):
    from mes.models import Line

    def make(code="GRAN-01", cls="GRAN", daily_check=True, **kw):
        today = timezone.localdate()
        values = {
            "name": f"Equipment {code}",
            "equipment_class": plant[cls],
            "line": Line.objects.get(code="L1"),
            "cleaned_at": timezone.now() - dt.timedelta(hours=1),
            "calibration_interval_days": 180,
            "last_calibrated_on": today - dt.timedelta(days=30),
            "calibration_due_on": today + dt.timedelta(days=150),
            "qualified_on": today - dt.timedelta(days=300),
            "ideal_rate_per_min": Decimal("100"),
        }
        values.update(kw)
        with audit_context(action="test.equipment.create"):
            eq = Equipment.objects.create(code=code, **values)
            if daily_check and eq.equipment_class.checklist.exists():
                # Today's daily check passed: a missing one blocks use (issue 16); tests of that rule pass False.
                DailyCheck.objects.create(equipment=eq, performed_by=_checker(), passed=True)
        return eq

    return make


@pytest.fixture
def equipment(make_equipment):
    return make_equipment()


@pytest.fixture
def make_batch(products, plant):
    from batches.models import Batch

    counter = {"n": 0}

    def make(product="FG-A"):
        counter["n"] += 1
        with audit_context(action="test.batch.create"):
            return Batch.objects.create(
                number=f"B-TEST-{counter['n']:03d}",
                product=products[product],
                planned_quantity=Decimal("100.000"),
                unit="kg",
            )

    return make


def fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


def _checker():
    from django.contrib.auth import get_user_model

    user, _created = get_user_model().objects.get_or_create(username="fixture-daily-checker")
    return user
