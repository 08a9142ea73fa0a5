"""Demo material master data, storage locations and lots in every state the warehouse and QC meet."""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from audit.context import audit_context
from materials.models import EntryType, Location, Lot, Material
from materials.services import lot_block, lot_reject, next_lot_code
from materials.services.stock import post_entry
from mes.seed import DEMO_PASSWORD

SEED_ORDER = 10

# How a demo lot is released: on a passed inspection against its effective specification (issue 16),
# which only the quality app can write. Quality sits above materials (docs/development.md, "Layers")
# and registers its helper here at ready(); the batches seed uses the same one.
_RELEASE_ON_EVIDENCE: list[Callable[..., Any]] = []


def demo_release_register(release: Callable[..., Any]) -> None:
    """Register `release(*, lot, qc, qa, password, reason="") -> lot` (one helper)."""
    _RELEASE_ON_EVIDENCE[:] = [release]


def demo_release_on_evidence(**fields: Any) -> Any:
    """Release a demo lot on a passed inspection with the registered helper."""
    if not _RELEASE_ON_EVIDENCE:
        raise ImproperlyConfigured("no demo lot release is registered (is the quality app installed?)")
    return _RELEASE_ON_EVIDENCE[0](**fields)


DEMO_MATERIALS = [
    # code, name, name_zh, type, unit, storage, shelf life days, retest days
    ("RM-API-001", "Metformin hydrochloride", "盐酸二甲双胍", "raw", "kg", "ambient", 1095, 365),
    ("RM-EXC-010", "Microcrystalline cellulose PH102", "微晶纤维素 PH102", "raw", "kg", "ambient", 1825, 730),
    ("RM-EXC-020", "Povidone K30", "聚维酮 K30", "raw", "kg", "ambient", 1095, 365),
    ("RM-EXC-030", "Magnesium stearate", "硬脂酸镁", "raw", "kg", "ambient", 1095, 365),
    ("RM-SOL-001", "Purified water", "纯化水", "raw", "L", "ambient", 1, None),
    ("RM-API-002", "Insulin glargine solution", "甘精胰岛素原液", "raw", "L", "cold", 365, None),
    ("PK-BLS-001", "PVC/Alu blister foil", "PVC/铝泡罩箔", "packaging", "kg", "ambient", 1825, None),
    ("PK-CTN-001", "Printed carton 30s", "印刷纸盒（30片装）", "packaging", "pcs", "ambient", 1825, None),
    ("IM-GRN-500", "Metformin 500 mg granules", "二甲双胍 500 mg 颗粒", "intermediate", "kg", "ambient", 90, None),
    (
        "IM-TAB-500",
        "Metformin 500 mg tablets (bulk)",
        "二甲双胍 500 mg 素片",
        "intermediate",
        "kg",
        "ambient",
        365,
        None,
    ),
    (
        "FG-MET-500",
        "Metformin HCl 500 mg tablets, 30s blister",
        "盐酸二甲双胍片 500 mg（30片/盒）",
        "finished",
        "pcs",
        "ambient",
        730,
        None,
    ),
]

DEMO_LOCATIONS = [
    # code, name, name_zh, kind, condition
    ("WH-A01", "Raw material store A, rack 01", "原料库 A 区 01 货架", "warehouse", "ambient"),
    ("WH-A02", "Raw material store A, rack 02", "原料库 A 区 02 货架", "warehouse", "ambient"),
    ("WH-QA1", "Quarantine area", "待验区", "quarantine", "ambient"),
    ("WH-CR1", "Cold room 2–8 °C", "冷库（2–8 °C）", "warehouse", "cold"),
    ("WH-PK1", "Packaging material store", "包材库", "warehouse", "ambient"),
    ("WH-REJ", "Rejected goods cage", "不合格品区", "rejected", "ambient"),
    ("WH-FG1", "Finished goods store", "成品库", "warehouse", "ambient"),
    ("PR-L1", "Line 1 dispensary buffer", "一线称量暂存区", "production", "ambient"),
]

# key, material, quantity, location, state, days to expiry, supplier
DEMO_LOTS = [
    ("api-rel-1", "RM-API-001", "250", "WH-A01", "released", 400, "Shandong Keyuan Pharma"),
    ("api-rel-2", "RM-API-001", "180", "WH-A01", "released", 20, "Shandong Keyuan Pharma"),
    ("api-qua", "RM-API-001", "300", "WH-QA1", "quarantine", 700, "Shandong Keyuan Pharma"),
    ("mcc-rel", "RM-EXC-010", "500", "WH-A02", "released", 900, "JRS Pharma"),
    ("mcc-exp", "RM-EXC-010", "40", "WH-A02", "expired", -12, "JRS Pharma"),
    ("pvp-rel", "RM-EXC-020", "60", "WH-A02", "released", 300, "Ashland"),
    ("pvp-blk", "RM-EXC-020", "25", "WH-A02", "blocked", 250, "Ashland"),
    ("mgst-rel", "RM-EXC-030", "15", "WH-A02", "released", 25, "Peter Greven"),
    ("mgst-qua", "RM-EXC-030", "20", "WH-QA1", "quarantine", 600, "Peter Greven"),
    ("wfi-rel", "RM-SOL-001", "800", "PR-L1", "released", 1, "In-house water system"),
    ("ins-rel", "RM-API-002", "12", "WH-CR1", "released", 200, "Tonghua Dongbao"),
    ("ins-qua", "RM-API-002", "8", "WH-CR1", "quarantine", 330, "Tonghua Dongbao"),
    ("bls-rel", "PK-BLS-001", "120", "WH-PK1", "released", 1500, "Amcor"),
    ("ctn-rel", "PK-CTN-001", "20000", "WH-PK1", "released", 1600, "Shanghai Printing Co."),
    ("ctn-rej", "PK-CTN-001", "5000", "WH-REJ", "rejected", 1600, "Shanghai Printing Co."),
]


def seed(stdout) -> None:
    seed_master()
    made = sum(_seed_lot(*row) for row in DEMO_LOTS)
    stdout.write(f"  materials: {len(DEMO_MATERIALS)} materials, {len(DEMO_LOCATIONS)} locations, {made} new lots")


def seed_master(stdout=None) -> None:
    """Materials and storage locations only (no lots, no users needed)."""
    for code, name, name_zh, mtype, unit, storage, shelf, retest in DEMO_MATERIALS:
        Material.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "name_zh": name_zh,
                "type": mtype,
                "unit": unit,
                "storage_condition": storage,
                "shelf_life_days": shelf,
                "retest_days": retest,
            },
        )
    for code, name, name_zh, kind, condition in DEMO_LOCATIONS:
        Location.objects.get_or_create(
            code=code, defaults={"name": name, "name_zh": name_zh, "kind": kind, "condition": condition}
        )


def _seed_lot(key, material_code, quantity, location_code, state, days, supplier) -> int:
    """One demo lot with its receipt in the ledger, taken to `state` through the lot services."""

    reference = f"DEMO-{key}"
    if Lot.objects.filter(reference=reference).exists():
        return 0
    users = get_user_model().objects
    keeper, qc = users.get(username="warehouse"), users.get(username="qc")
    material = Material.objects.get(code=material_code)
    location = Location.objects.get(code=location_code)
    today = timezone.localdate()
    received = today - dt.timedelta(days=60)
    qty = Decimal(quantity)
    # Written directly (not through lot_receive) so the demo can hold lots received long ago,
    # including one that has expired since; everything is audited all the same.
    with audit_context(actor=keeper, action="materials.lot.receive", reason="demo data"):
        lot = Lot.objects.create(
            code=next_lot_code(material, received),
            material=material,
            supplier=supplier,
            supplier_lot=f"{supplier[:3].upper()}-{zlib.crc32(key.encode()) % 100000:05d}",
            quantity_received=qty,
            unit=material.unit,
            containers=max(1, min(int(qty // 50) or 1, 8)),
            manufacture_date=received - dt.timedelta(days=30),
            expiry_date=today + dt.timedelta(days=days),
            reference=reference,
            received_at=timezone.now() - dt.timedelta(days=60),
            received_by=keeper,
        )
    post_entry(
        lot=lot, entry_type=EntryType.RECEIPT, quantity=qty, delta=qty, user=keeper, location=location, reason=reference
    )
    if state in ("released", "blocked"):  # an expired lot is shown expired whatever it stored
        # Released only on evidence (issue 16): tested against the effective specification, passed.
        demo_release_on_evidence(
            lot=lot, qc=qc, qa=users.get(username="qa"), password=DEMO_PASSWORD, reason="demo: tested, complies"
        )
    if state == "blocked":
        lot_block(user=keeper, lot=lot, reason="demo: drum damaged on the forklift, under investigation")
    if state == "rejected":
        lot_reject(user=qc, lot=lot, password=DEMO_PASSWORD, reason="demo: print misregistration (OOS)")
    return 1
