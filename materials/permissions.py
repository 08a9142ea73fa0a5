"""Who may do what with lots and stock (least privilege; QC decides release, the warehouse moves)."""

VIEW = ["materials.view_lot", "materials.view_location", "materials.view_material"]

ROLE_PERMISSIONS = {
    "warehouse": [
        *VIEW,
        "materials.receive_lot",
        "materials.print_label",
        "materials.move_stock",
        "materials.adjust_stock",
        "materials.block_lot",
        "materials.view_genealogy",
    ],
    "operator": [*VIEW, "materials.issue_material", "materials.record_output"],
    "supervisor": [
        *VIEW,
        "materials.issue_material",
        "materials.record_output",
        "materials.block_lot",
        "materials.view_genealogy",
    ],
    "qc": [
        *VIEW,
        "materials.release_lot",
        "materials.block_lot",
        "materials.unblock_lot",
        "materials.view_genealogy",
        "materials.print_label",
    ],
    "qa": [
        *VIEW,
        "materials.block_lot",
        "materials.unblock_lot",
        "materials.view_genealogy",
        "materials.add_material",
        "materials.change_material",
    ],
    "planner": [*VIEW],
    "analyst": [*VIEW, "materials.view_genealogy"],
    "auditor": [*VIEW, "materials.view_genealogy"],
    "admin": [
        *VIEW,
        "materials.add_location",
        "materials.change_location",
        "materials.add_material",
        "materials.change_material",
    ],
}
