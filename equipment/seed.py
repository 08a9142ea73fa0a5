"""Demo equipment classes, checklists and the equipment of lines L1, L2 and P1 in varied states.

Runs after the materials seed (products) and before orders (recipes need the classes). States
that follow an action are reached through the services, so the logbook and audit trail read
as they would in the plant: a fault with a work order in repair, a repair awaiting
requalification, a failed daily check, a cleaning in progress, ...
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

from audit.context import audit_context
from equipment import services
from equipment.models import (
    ChecklistItem,
    Equipment,
    EquipmentClass,
    EquipmentStatus,
    EquipmentTag,
    LogbookKind,
    MachineStateMap,
    MaintenancePlan,
)
from equipment.opcua.config import tags_configure
from equipment.opcua.simulator import DEFAULT_URL, node_id
from equipment.seed_balances import seed_balances
from equipment.services.care import checklist_for
from equipment.services.pm import pm_due_generate
from equipment.services.status import logbook_write
from equipment.services.tags import equipment_tag_add
from mes.changecontrol import masterdata_propose
from mes.models import Line
from mes.seed import DEMO_PASSWORD, demo_user

SEED_ORDER = 20
# code: (last product, hours since it became dirty)
DIRTY_WHEN_FOUND = {"FBD-101": ("IM-GRN-500", 5), "TPRS-201": ("IM-TAB-500", 2), "BLND-201": ("IM-GRN-500", 20)}

DEMO_CLASSES = [
    ("DISP", "Dispensing booth and balance", "称量间及天平"),
    ("GRAN", "High-shear granulator", "高剪切湿法制粒机"),
    ("FBD", "Fluid-bed dryer", "流化床干燥机"),
    ("BLND", "Bin blender", "料斗混合机"),
    ("TPRS", "Rotary tablet press", "旋转式压片机"),
    ("BLST", "Blister packaging machine", "泡罩包装机"),
]

COMMON_CHECKS = [
    ("Status label and cleaning label present and correct", "状态标识及清洁标识齐全、正确"),
    ("No residue of the previous product visible", "无上批产品残留"),
    ("Guards, interlocks and emergency stop work", "防护罩、联锁及急停功能正常"),
]
CLASS_CHECKS = {
    "DISP": [
        ("Balance level bubble centred and daily check weight within limits", "天平水平泡居中，日校砝码在限度内"),
        ("Downflow booth airflow indicator in the green range", "层流称量罩风速指示在绿区"),
    ],
    "GRAN": [("Impeller and chopper seals free of leaks", "搅拌桨及切刀密封无泄漏")],
    "FBD": [("Filter bags intact and correctly fitted", "滤袋完好、安装正确")],
    "BLND": [("Bin lid gasket intact", "料斗盖密封圈完好")],
    "TPRS": [("Punches and dies undamaged, tooling log up to date", "冲模无损伤，模具记录已更新")],
    "BLST": [("Forming and sealing temperatures at set point after warm-up", "成型及热封温度预热后达到设定值")],
}

# code, class, line, name, name_zh, location, OPC UA, ideal rate per minute
DEMO_EQUIPMENT = [
    ("DISP-101", "DISP", "L1", "Dispensing booth 1", "称量间 1", "OSD-101", False, None),
    ("BAL-101", "DISP", "L1", "Floor balance 600 kg", "地秤 600 kg", "OSD-101", False, None),
    ("GRAN-101", "GRAN", "L1", "High-shear granulator 300 L", "高剪切制粒机 300 L", "OSD-103", True, "40"),
    ("FBD-101", "FBD", "L1", "Fluid-bed dryer 200 kg", "流化床干燥机 200 kg", "OSD-104", True, "30"),
    ("BLND-101", "BLND", "L1", "Bin blender 1000 L", "料斗混合机 1000 L", "OSD-105", True, "50"),
    ("TPRS-101", "TPRS", "L1", "Rotary tablet press 45 stations", "45 冲旋转压片机", "OSD-107", True, "3000"),
    ("DISP-201", "DISP", "L2", "Dispensing booth 2", "称量间 2", "OSD-201", False, None),
    ("BAL-201", "DISP", "L2", "Bench balance 32 kg", "台秤 32 kg", "OSD-201", False, None),
    ("GRAN-201", "GRAN", "L2", "High-shear granulator 600 L", "高剪切制粒机 600 L", "OSD-203", True, "60"),
    ("FBD-201", "FBD", "L2", "Fluid-bed dryer 400 kg", "流化床干燥机 400 kg", "OSD-204", True, "45"),
    ("BLND-201", "BLND", "L2", "Bin blender 2000 L", "料斗混合机 2000 L", "OSD-205", True, "80"),
    ("TPRS-201", "TPRS", "L2", "Rotary tablet press 55 stations", "55 冲旋转压片机", "OSD-207", True, "4000"),
    ("BLST-301", "BLST", "P1", "Blister packaging machine", "泡罩包装机", "PKG-301", True, "400"),
]


# What the demo tablet presses and blister machines say in words or vendor codes (issue 23).
DEMO_STATE_MAPS = {
    "TPRS": [("Production", "running"), ("Stopped", "idle"), ("Setup", "idle"), ("Jam", "fault"), ("E-Stop", "fault")],
    "BLST": [("AUTO", "running"), ("MANUAL", "idle"), ("10", "running"), ("20", "idle"), ("90", "fault")],
}


def seed_classes(stdout=None) -> None:
    """Equipment classes, their checklists and machine state mappings (master data; needs no users)."""
    for code, name, name_zh in DEMO_CLASSES:
        EquipmentClass.objects.get_or_create(code=code, defaults={"name": name, "name_zh": name_zh})
    _seed_checklists()
    _seed_state_maps()


def _seed_state_maps() -> None:
    for cls in EquipmentClass.objects.filter(code__in=list(DEMO_STATE_MAPS)):
        if cls.state_map.exists():
            continue
        with audit_context(action="equipment.machinestatemap.create", reason="demo data (seed_demo)"):
            for value, state in DEMO_STATE_MAPS[cls.code]:
                MachineStateMap.objects.create(equipment_class=cls, value=value, state=state)


def seed(stdout) -> None:
    seed_classes()
    created = _seed_equipment()
    if created:
        _seed_states(created)
    stdout.write(f"  equipment: {len(DEMO_CLASSES)} classes, {len(DEMO_EQUIPMENT)} equipment ({len(created)} new)")

    seed_balances(stdout)


def _seed_checklists() -> None:
    for cls in EquipmentClass.objects.filter(code__in=[c for c, _n, _z in DEMO_CLASSES]):
        if cls.checklist.exists():
            continue
        for order, (text, text_zh) in enumerate(COMMON_CHECKS + CLASS_CHECKS.get(cls.code, []), start=1):
            ChecklistItem.objects.create(equipment_class=cls, order=order * 10, name=text, name_zh=text_zh)


def _seed_equipment() -> dict[str, Equipment]:
    now, today = timezone.now(), timezone.localdate()
    lines = {line.code: line for line in Line.objects.all()}
    # The product model through the equipment's own relation: the seed adds no import of materials.
    material = Equipment._meta.get_field("last_product").related_model
    products = {m.code: m for m in material.objects.filter(code__in=[p for p, _h in DIRTY_WHEN_FOUND.values()])}
    created = {}
    for code, cls, line, name, name_zh, room, opcua, rate in DEMO_EQUIPMENT:
        if Equipment.objects.filter(code=code).exists():
            continue
        balance = code.startswith("BAL")
        interval = 90 if balance else 365
        # Equipment found dirty after its last batch is registered in that state (a new record has no history).
        dirty = DIRTY_WHEN_FOUND.get(code)
        state = (
            {
                "status": EquipmentStatus.DIRTY,
                "last_product": products.get(dirty[0]),
                "cleaned_at": None,
                "dirty_since": now - dt.timedelta(hours=dirty[1]),
            }
            if dirty
            else {"cleaned_at": now - dt.timedelta(hours=3)}
        )
        with audit_context(action="equipment.equipment.register", reason="demo data (seed_demo)"):
            eq = Equipment.objects.create(
                code=code,
                name=name,
                name_zh=name_zh,
                equipment_class=EquipmentClass.objects.get(code=cls),
                line=lines.get(line),
                area=lines[line].area if line in lines else None,
                location=room,
                qualified_on=today - dt.timedelta(days=400),
                requalification_due_on=today + dt.timedelta(days=330),
                calibration_interval_days=interval,
                last_calibrated_on=today - dt.timedelta(days=40),
                calibration_due_on=today + dt.timedelta(days=interval - 40),
                ideal_rate_per_min=Decimal(rate) if rate else None,
                **state,
            )
            if dirty:
                logbook_write(
                    equipment=eq,
                    kind=LogbookKind.STATUS,
                    to_status=EquipmentStatus.DIRTY,
                    text=f"Registered as found: dirty after {dirty[0]}.",
                )
        if opcua and lines.get(line):
            tags_configure(eq, DEFAULT_URL)
        created[code] = eq
    return created


def _edit(eq: Equipment, **values) -> None:
    """Demo master data set as found when the equipment was registered (not a workflow action)."""
    for name, value in values.items():
        setattr(eq, name, value)
    with audit_context(action="equipment.equipment.register", reason="demo data (seed_demo): state as found"):
        eq.save()


def _seed_states(created: dict[str, Equipment]) -> None:
    operator, operator2, tech = demo_user("operator"), demo_user("operator2"), demo_user("maintenance")
    supervisor = demo_user("supervisor")
    now, today = timezone.now(), timezone.localdate()

    def passed_check(code: str, user=operator) -> None:
        if code in created:
            eq = created[code]
            services.equipment_daily_check_record(
                equipment=eq, user=user, answers={i.pk: (True, "") for i in checklist_for(eq)}
            )

    for code in ("GRAN-101", "TPRS-101", "BLST-301", "DISP-101", "BAL-201"):
        passed_check(code)
    if "BAL-101" in created:  # calibration overdue
        _edit(
            created["BAL-101"],
            last_calibrated_on=today - dt.timedelta(days=95),
            calibration_due_on=today - dt.timedelta(days=5),
        )
    if "BAL-201" in created:  # calibration due soon
        _edit(created["BAL-201"], calibration_due_on=today + dt.timedelta(days=4))
    if "BLND-101" in created:  # clean hold time ran out: cleaning due
        _edit(created["BLND-101"], cleaned_at=now - dt.timedelta(hours=80))
    if "BLND-201" in created:
        services.equipment_cleaning_start(
            equipment=created["BLND-201"], user=operator2, kind="full", procedure="SOP-CL-031"
        )
    if "TPRS-201" in created:  # failed daily check -> open fault waiting for a work order
        eq = created["TPRS-201"]
        items = checklist_for(eq)
        answers = {i.pk: (True, "") for i in items}
        answers[items[-1].pk] = (False, "Upper punch 17 chipped")
        services.equipment_daily_check_record(equipment=eq, user=operator, answers=answers)
    if "GRAN-201" in created:  # a fault with a work order in repair
        fault = services.fault_report(
            equipment=created["GRAN-201"],
            user=operator,
            description="Chopper motor vibrates strongly and trips at high speed.",
        )
        wo = services.workorder_create(fault=fault, user=tech)
        services.workorder_start(work_order=wo, user=tech)
    if "FBD-201" in created:  # repaired, awaiting requalification by someone other than the technician
        fault = services.fault_report(
            equipment=created["FBD-201"], user=operator2, description="Inlet air temperature does not reach 60 °C."
        )
        wo = services.workorder_create(fault=fault, user=tech)
        services.workorder_start(work_order=wo, user=tech)
        services.workorder_complete(
            work_order=wo,
            user=tech,
            password=DEMO_PASSWORD,
            work_done="Replaced failed heater element H2 and checked the controller loop.",
            parts_replaced="Heater element 12 kW (P/N HE-12-400) x1",
            labour_minutes=150,
        )
    _seed_maintenance_plans(created, today)
    _seed_pending_change(created, tech)
    if "DISP-201" in created:
        services.equipment_take_out_of_service(
            equipment=created["DISP-201"],
            user=supervisor,
            reason="Downflow booth HEPA filter integrity test failed; filter on order.",
        )


def _seed_maintenance_plans(created: dict[str, Equipment], today) -> None:
    """A calendar plan falling due (its work order generated), a usage plan counting batches and hours."""

    plans = [
        ("GRAN-101", "Replace impeller shaft seals", "SOP-PM-014", {"interval_days": 90, "next_due_on": today + dt.timedelta(days=3)}),
        ("TPRS-101", "Inspect and polish punches and dies", "SOP-PM-021", {"interval_hours": Decimal("500"), "interval_batches": 40}),
    ]  # fmt: skip
    with audit_context(action="equipment.pm.plan", reason="demo data (seed_demo)"):
        for code, title, sop, intervals in plans:
            if code in created:
                MaintenancePlan.objects.create(equipment=created[code], title=title, instructions=sop, **intervals)
    pm_due_generate(today=today)


def _seed_pending_change(created: dict[str, Equipment], tech) -> None:
    """A tag limit change proposed by maintenance, waiting for QA's signed approval."""

    tag = EquipmentTag.objects.filter(equipment=created.get("GRAN-101"), key="temperature").first()
    if tag is None:
        return
    tag.high_limit = 58.0
    masterdata_propose(user=tech, obj=tag, reason="Narrower product temperature range after PQ report PQ-GRAN-101-07.")
    _seed_pending_tag(created["GRAN-101"])


def _seed_pending_tag(eq: Equipment) -> None:
    """A new tag picked in the tag browser by the administrator: a change request until QA approves it."""

    admin = get_user_model().objects.filter(groups__name="admin", is_active=True).first()
    if admin is None or not admin.has_perm("equipment.add_equipmenttag"):
        return
    equipment_tag_add(
        user=admin, equipment=eq, key="product_temperature", node_id=node_id(eq.code, "temperature"), kind="process",
        label="Product temperature (second probe)", unit="°C", reason="Second probe for the batch record, CR-2026-131.",
    )  # fmt: skip
