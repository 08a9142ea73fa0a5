"""The smallest data the access-matrix walk needs: one equipment with a fault and a work order."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from audit.context import audit_context
from equipment.models import Equipment, EquipmentClass, FaultReport, WorkOrder


def ensure_access_fixture() -> None:
    if WorkOrder.objects.exists():
        return

    with audit_context(action="test.access_fixture"):
        cls, _ = EquipmentClass.objects.get_or_create(code="ACC", defaults={"name": "Access test class"})
        eq = Equipment.objects.filter(code="ACC-01").first() or Equipment.objects.create(
            code="ACC-01", name="Access test equipment", equipment_class=cls
        )
        fault = FaultReport.objects.create(equipment=eq, description="access test fault")
        user = get_user_model().objects.order_by("pk").first()
        WorkOrder.objects.create(
            equipment=eq, fault=FaultReport.objects.create(equipment=eq, description="repair"), created_by=user
        )
        del fault
