"""Equipment master data under change control (mes.changecontrol): one line per model."""

from mes.changecontrol import controlled

CONTROLLED = [
    controlled(
        "equipment.Equipment",
        [
            "code",
            "name",
            "name_zh",
            "equipment_class",
            "line",
            "area",
            "location",
            "active",
            "calibration_interval_days",
            "clean_hold_hours",
            "dirty_hold_hours",
            "ideal_rate_per_min",
            "opcua_endpoint",
        ],
    ),  # fmt: skip
    controlled(
        "equipment.EquipmentTag",
        [
            "equipment",
            "key",
            "label",
            "node_id",
            "kind",
            "unit",
            "deadband",
            "low_limit",
            "high_limit",
            "critical",
            "active",
        ],
    ),  # fmt: skip
    controlled("equipment.ChecklistItem", ["equipment_class", "order", "name", "name_zh", "active"]),
    controlled("equipment.MachineStateMap", ["equipment_class", "value", "state"]),  # issue 23's state mapping
    controlled(
        "equipment.MaintenancePlan",
        [
            "equipment",
            "title",
            "instructions",
            "interval_days",
            "interval_hours",
            "interval_batches",
            "next_due_on",
            "active",
        ],
    ),  # fmt: skip
    # Weigh & dispense (issue 19): what a balance may weigh (USP <41> minimum weight) and its daily check.
    controlled(
        "equipment.BalanceMetrology",
        [
            "balance",
            "serial_number",
            "unit",
            "capacity",
            "readability",
            "minimum_weight",
            "check_weight",
            "check_tolerance",
        ],
    ),  # fmt: skip
]
