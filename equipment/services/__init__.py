"""Equipment services: every state change and rule of the equipment app (see the modules)."""

from equipment.services.care import (
    equipment_calibration_record,
    equipment_cleaning_finish,
    equipment_cleaning_start,
    equipment_daily_check_record,
)
from equipment.services.maintenance import (
    fault_dismiss,
    fault_report,
    workorder_complete,
    workorder_create,
    workorder_requalify,
    workorder_start,
)
from equipment.services.monitoring import MachineValue, equipment_latest_reading, opcua_poll
from equipment.services.qualification import equipment_qualification_set
from equipment.services.status import (
    Usability,
    equipment_check_usable,
    equipment_end_use,
    equipment_requalify,
    equipment_return_to_service,
    equipment_start_use,
    equipment_take_out_of_service,
    equipment_verify_for_batch,
)

__all__ = [
    "MachineValue",
    "Usability",
    "equipment_calibration_record",
    "equipment_check_usable",
    "equipment_cleaning_finish",
    "equipment_cleaning_start",
    "equipment_daily_check_record",
    "equipment_end_use",
    "equipment_latest_reading",
    "equipment_qualification_set",
    "equipment_requalify",
    "equipment_return_to_service",
    "equipment_start_use",
    "equipment_take_out_of_service",
    "equipment_verify_for_batch",
    "fault_dismiss",
    "fault_report",
    "opcua_poll",
    "workorder_complete",
    "workorder_create",
    "workorder_requalify",
    "workorder_start",
]
