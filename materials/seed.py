"""Demo material master data."""

from materials.models import Material

SEED_ORDER = 10

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


def seed(stdout) -> None:
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
    stdout.write(f"  materials: {len(DEMO_MATERIALS)} materials")
