"""Quality test data: materials, a specification, deviations made through the services."""

from __future__ import annotations

from decimal import Decimal

import pytest

from audit.context import audit_context
from materials.models import Material


@pytest.fixture
def material(users):
    with audit_context(actor=users["admin"], action="test.material"):
        return Material.objects.create(code="RM-T-001", name="Test API", type="raw", unit="kg", shelf_life_days=365)


@pytest.fixture
def product(users):
    with audit_context(actor=users["admin"], action="test.material"):
        return Material.objects.create(
            code="FG-T-001", name="Test tablets", type="finished", unit="pcs", shelf_life_days=730
        )


def make_spec(users, password, material, inspection_type="incoming", approve=True):
    from quality import services

    spec = services.spec_create(user=users["qc"], material=material, inspection_type=inspection_type, title="Spec")
    services.spec_item_save(
        user=users["qc"],
        spec_id=spec.pk,
        sequence=10,
        name="Assay",
        kind="numeric",
        unit="%",
        lower_limit=Decimal("98.0"),
        upper_limit=Decimal("102.0"),
    )
    services.spec_item_save(user=users["qc"], spec_id=spec.pk, sequence=20, name="Identification", kind="pass_fail")
    services.spec_item_save(
        user=users["qc"], spec_id=spec.pk, sequence=30, name="Appearance", kind="text", acceptance="White powder"
    )
    if approve:
        services.spec_submit(user=users["qc"], spec_id=spec.pk, password=password)
        services.spec_approve(user=users["qa"], spec_id=spec.pk, password=password)
    spec.refresh_from_db()
    return spec


@pytest.fixture
def spec(users, password, material):
    return make_spec(users, password, material)
