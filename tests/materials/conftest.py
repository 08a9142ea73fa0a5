"""Fixtures for the materials tests: materials, locations, batches, released lots."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from audit.context import audit_context
from batches.models import Batch
from materials.models import Location, Material
from materials.services import lot_create_output, lot_issue_to_batch, lot_receive, lot_release
from quality.seed_evidence import inspection_pass


def make_material(code, *, mtype="raw", unit="kg", storage="ambient", shelf=365, name=None, name_zh="物料"):
    with audit_context(action="test.setup"):
        return Material.objects.create(
            code=code,
            name=name or f"Material {code}",
            name_zh=name_zh,
            type=mtype,
            unit=unit,
            storage_condition=storage,
            shelf_life_days=shelf,
        )


def make_batch(number, product, *, quantity="100", unit="kg", status="in_progress"):
    with audit_context(action="test.setup"):
        return Batch.objects.create(
            number=number, product=product, planned_quantity=Decimal(quantity), unit=unit, status=status
        )


@pytest.fixture
def api(db):
    return make_material("RM-API", name="Metformin HCl", name_zh="盐酸二甲双胍")


@pytest.fixture
def excipient(db):
    return make_material("RM-EXC", name="Cellulose", name_zh="微晶纤维素")


@pytest.fixture
def cold_material(db):
    return make_material("RM-COLD", storage="cold", unit="L", name="Insulin solution", name_zh="胰岛素原液")


@pytest.fixture
def granules(db):
    return make_material("IM-GRN", mtype="intermediate", name="Granules", name_zh="颗粒", shelf=90)


@pytest.fixture
def tablets(db):
    return make_material("FG-TAB", mtype="finished", unit="kg", name="Tablets", name_zh="片剂", shelf=730)


@pytest.fixture
def wh(db):
    with audit_context(action="test.setup"):
        return Location.objects.create(code="WH-A", name="Warehouse A", name_zh="A库", condition="ambient")


@pytest.fixture
def wh2(db):
    with audit_context(action="test.setup"):
        return Location.objects.create(code="WH-B", name="Warehouse B", name_zh="B库", condition="ambient")


@pytest.fixture
def cold_room(db):
    with audit_context(action="test.setup"):
        return Location.objects.create(code="CR-1", name="Cold room", name_zh="冷库", condition="cold")


@pytest.fixture
def batch(granules):
    return make_batch("B-0001", granules)


@pytest.fixture
def receive(users, wh):
    """`receive(material, qty, **kw)` -> a lot in quarantine, received by the warehouse keeper."""

    def make(material, quantity="100", *, location=None, **kw):
        kw.setdefault("expiry_date", timezone.localdate() + dt.timedelta(days=300))
        return lot_receive(
            user=users["warehouse"],
            material=material,
            quantity=quantity,
            unit=material.unit,
            location=location or wh,
            supplier="Acme",
            supplier_lot="S-1",
            **kw,
        )

    return make


@pytest.fixture
def released(receive, users, password):
    """`released(material, qty, **kw)` -> a lot released by QC."""

    def make(material, quantity="100", **kw):
        lot = receive(material, quantity, **kw)
        inspection_pass(lot=lot, qc=users["qc"], qa=users["qa"], password=password)
        return lot_release(user=users["qc"], lot=lot, password=password)

    return make


@pytest.fixture
def graph(released, api, excipient, granules, tablets, users, password, wh):
    """
    G1: R1 (30) + R2 (20) [two lots of the same material] + R3 -> I1
    G2: R1 (rest: a lot consumed by two batches) + R4 -> I2
    C1: I1 + I2 -> K1        C2: I2 -> K2
    P1: K1 + K2 -> F1        P2: K2 -> (still running, no output lot yet)
    """
    cores = make_material("IM-CORE", mtype="intermediate", name="Tablet cores", name_zh="素片")
    op = users["operator"]

    def use(batch, lot, qty, total=None):
        lot_issue_to_batch(
            user=op,
            batch=batch,
            lot_code=lot.code,
            quantity=qty,
            unit=lot.unit,
            material=lot.material,
            required_quantity=total or qty,
            tolerance_pct=100,
        )

    def output(batch, qty):
        lot = lot_create_output(user=op, batch=batch, quantity=qty, unit="kg", location=wh)
        if batch.product.type == "finished":
            return lot  # finished product is released only through the batch release (quality, QC-4/QC-10)
        inspection_pass(lot=lot, qc=users["qc"], qa=users["qa"], password=password)
        return lot_release(user=users["qc"], lot=lot, password=password)

    g = {
        "R1": released(api, "60"),
        "R2": released(api, "20"),
        "R3": released(excipient, "10"),
        "R4": released(excipient, "10"),
    }
    g1, g2 = make_batch("G1", granules), make_batch("G2", granules)
    use(g1, g["R1"], 30, 50), use(g1, g["R2"], 20, 50), use(g1, g["R3"], 10)
    use(g2, g["R1"], 30), use(g2, g["R4"], 10)
    g["I1"], g["I2"] = output(g1, 55), output(g2, 38)
    c1, c2 = make_batch("C1", cores), make_batch("C2", cores)
    use(c1, g["I1"], 55, 73), use(c1, g["I2"], 18, 73)
    use(c2, g["I2"], 20)
    g["K1"], g["K2"] = output(c1, 70), output(c2, 19)
    p1, p2 = make_batch("P1", tablets), make_batch("P2", tablets)
    use(p1, g["K1"], 70, 79), use(p1, g["K2"], 9, 79)
    use(p2, g["K2"], 10)
    g["F1"] = output(p1, 78)
    return {k: v.code for k, v in g.items()}
