from mes.registry import Rule

VIEWERS = frozenset({"qa", "admin", "planner", "supervisor", "warehouse", "qc", "auditor"})
EDITORS = frozenset({"qa", "admin"})


def _material() -> dict:
    from materials.models import Material

    return {"pk": Material.objects.order_by("pk").values_list("pk", flat=True).first()}


ACCESS = {
    "materials:material_list": Rule(VIEWERS),
    "materials:material_create": Rule(EDITORS),
    "materials:material_edit": Rule(EDITORS, make_kwargs=lambda data: _material()),
}
