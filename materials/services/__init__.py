"""Materials services: every change to lots, stock and genealogy goes through one of these."""

from materials.requirements import Requirement
from materials.services.balance import BalanceFlag, BatchMaterialBalance, batch_material_balance
from materials.services.issue import (
    issued_to_batch,
    lot_check_scan,
    lot_create_output,
    lot_issue_to_batch,
    lot_record_waste,
    lot_return_from_batch,
    lot_suggest_fefo,
    lot_usable_problem,
)
from materials.services.lots import (
    lot_actions,
    lot_block,
    lot_print_labels,
    lot_receive,
    lot_reject,
    lot_release,
    lot_unblock,
    next_lot_code,
)
from materials.services.master import MATERIAL_FIELDS, material_create, material_update
from materials.services.stock import location_save, lot_adjust, lot_ship, lot_transfer, on_hand, stock_check

__all__ = [
    "MATERIAL_FIELDS",
    "material_create",
    "material_update",
    "Requirement",
    "BalanceFlag",
    "BatchMaterialBalance",
    "batch_material_balance",
    "issued_to_batch",
    "lot_check_scan",
    "lot_create_output",
    "lot_issue_to_batch",
    "lot_record_waste",
    "lot_return_from_batch",
    "lot_suggest_fefo",
    "lot_usable_problem",
    "lot_actions",
    "lot_block",
    "lot_print_labels",
    "lot_receive",
    "lot_reject",
    "lot_release",
    "lot_unblock",
    "next_lot_code",
    "location_save",
    "lot_adjust",
    "lot_ship",
    "lot_transfer",
    "on_hand",
    "stock_check",
]
