"""What the materials app announces (mes.events), inside the transaction of the change."""

from mes.events import DomainEvent

lot_status_changed = DomainEvent(
    "lot_status_changed", "A lot was released, rejected, blocked or otherwise changed status.", fields=("lot",)
)
material_consumed = DomainEvent(
    "material_consumed", "Material was issued from a lot into a batch (a ledger entry).", fields=("entry",)
)
