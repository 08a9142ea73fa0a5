"""Equipment permissions per role (least privilege)."""

VIEW = "equipment.view_equipment"

ROLE_PERMISSIONS = {
    "operator": [
        VIEW,
        "equipment.use_equipment",
        "equipment.clean_equipment",
        "equipment.perform_daily_check",
        "equipment.report_fault",
    ],
    "supervisor": [
        VIEW,
        "equipment.use_equipment",
        "equipment.clean_equipment",
        "equipment.perform_daily_check",
        "equipment.report_fault",
        "equipment.requalify_equipment",
        "equipment.manage_equipment_status",
        "equipment.view_oee",
    ],
    "maintenance": [
        VIEW,
        "equipment.report_fault",
        "equipment.maintain_equipment",
        "equipment.calibrate_equipment",
        "equipment.perform_daily_check",
        "equipment.requalify_equipment",
        "equipment.manage_equipment_status",
    ],
    "qa": [VIEW, "equipment.requalify_equipment", "equipment.qualify_equipment", "equipment.view_oee"],
    "qc": [VIEW],
    "planner": [VIEW, "equipment.view_oee"],
    "analyst": [VIEW, "equipment.view_oee"],
    "auditor": [VIEW],
    "warehouse": [VIEW],
    # the system administrator keeps the master data (through the admin, which saves via the service)
    "admin": [
        VIEW,
        "equipment.add_equipment",
        "equipment.change_equipment",
        "equipment.view_equipmentclass",
        "equipment.add_equipmentclass",
        "equipment.change_equipmentclass",
        "equipment.view_checklistitem",
        "equipment.add_checklistitem",
        "equipment.change_checklistitem",
        "equipment.view_equipmenttag",
        "equipment.add_equipmenttag",
        "equipment.change_equipmenttag",
        # what machine state words and codes mean, per class (master data, audited)
        "equipment.view_machinestatemap",
        "equipment.add_machinestatemap",
        "equipment.change_machinestatemap",
        # balances (issue 19): the connection, and the metrology master data (serial, capacity, d, minimum weight)
        "equipment.view_balance",
        "equipment.add_balance",
        "equipment.change_balance",
        "equipment.view_balancemetrology",
        "equipment.add_balancemetrology",
        "equipment.change_balancemetrology",
    ],
}
