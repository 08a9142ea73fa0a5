"""The domain events the WMS hears of, mapped to its outbox messages (mes.events).

Each subscriber runs inside the transaction of the change it hears of, so its outbox row commits
or rolls back with that change; one message per (kind, key), so hearing an event twice is harmless.
"""

from __future__ import annotations

from integrations.erp.mapping import material_consumed_payload
from integrations.services.outbox import outbox_enqueue
from integrations.wms.mapping import lot_status_payload, material_requirement_payload
from materials.events import lot_status_changed, material_consumed
from orders.events import order_released


@order_released.subscribe
def order_released_to_wms(*, order) -> None:
    """The material requirements of the released order."""
    payload = material_requirement_payload(order)
    outbox_enqueue(system="wms", kind="material_requirement", payload=payload, key=order.number)


@material_consumed.subscribe
def material_consumed_to_wms(*, entry) -> None:
    """The consumption confirmation (the same facts as the ERP's goods issue)."""
    payload = material_consumed_payload(entry)
    outbox_enqueue(system="wms", kind="consumption_confirmation", payload=payload, key=f"ledger:{entry.pk}")


@lot_status_changed.subscribe
def lot_status_to_wms(*, lot) -> None:
    outbox_enqueue(system="wms", kind="lot_status", payload=lot_status_payload(lot), key=f"{lot.code}:{lot.status}")
