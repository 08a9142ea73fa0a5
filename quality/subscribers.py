"""What the quality app does when other domain apps announce a change (mes.events), inside the
transaction of that change, and the release check it gives the materials app."""

from __future__ import annotations

from equipment.events import fault_reported
from materials.events import lot_created, lot_release_check_register
from quality.services.deviations import deviation_raise_for_equipment_fault
from quality.services.inspections import inspection_for_new_lot, lot_release_problems


@lot_created.subscribe
def inspect_new_lot(*, lot, user) -> None:
    """The received or produced lot gets the inspection its material's specification asks for."""
    inspection_for_new_lot(user=user, lot=lot)


@fault_reported.subscribe
def deviation_for_fault_during_a_batch(*, fault, user) -> None:
    """A fault while the equipment runs a batch opens a deviation."""
    if fault.equipment.current_batch_id:
        deviation_raise_for_equipment_fault(user=user, fault=fault)


def subscribe() -> None:
    lot_release_check_register(lot_release_problems)
