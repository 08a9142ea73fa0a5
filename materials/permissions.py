"""Material master data: QA and the administrator maintain it; roles that plan or use it read it."""

_VIEW = ["materials.view_material"]

ROLE_PERMISSIONS = {
    "qa": [*_VIEW, "materials.add_material", "materials.change_material"],
    "admin": [*_VIEW, "materials.add_material", "materials.change_material"],
    "planner": _VIEW,
    "supervisor": _VIEW,
    "warehouse": _VIEW,
    "qc": _VIEW,
    "auditor": _VIEW,
}
