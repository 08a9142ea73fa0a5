"""Demo equipment classes."""

from equipment.models import EquipmentClass

SEED_ORDER = 10

DEMO_CLASSES = [
    ("DISP", "Dispensing booth and balance", "称量间及天平"),
    ("GRAN", "High-shear granulator", "高剪切湿法制粒机"),
    ("FBD", "Fluid-bed dryer", "流化床干燥机"),
    ("BLND", "Bin blender", "料斗混合机"),
    ("TPRS", "Rotary tablet press", "旋转式压片机"),
    ("BLST", "Blister packaging machine", "泡罩包装机"),
]


def seed(stdout) -> None:
    for code, name, name_zh in DEMO_CLASSES:
        EquipmentClass.objects.get_or_create(code=code, defaults={"name": name, "name_zh": name_zh})
    stdout.write(f"  equipment classes: {len(DEMO_CLASSES)}")
