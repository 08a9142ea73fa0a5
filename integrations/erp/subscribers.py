"""The domain events the ERP hears of, mapped to its outbox messages (mes.events).

Each subscriber runs inside the transaction of the change it hears of, so its outbox row commits
or rolls back with that change; one message per (kind, key), so hearing an event twice is harmless.
"""

from __future__ import annotations

from batches.events import batch_closed
from integrations.erp.mapping import (
    batch_released_payload,
    material_consumed_payload,
    order_completed_payload,
    performance_payload,
)
from integrations.services.outbox import outbox_enqueue
from materials.events import material_consumed
from orders.events import order_completed
from quality.events import batch_released


@order_completed.subscribe
def order_completed_to_erp(*, order) -> None:
    outbox_enqueue(system="erp", kind="order_completed", payload=order_completed_payload(order), key=order.number)


@material_consumed.subscribe
def material_consumed_to_erp(*, entry) -> None:
    """The ERP's goods issue."""
    payload = material_consumed_payload(entry)
    outbox_enqueue(system="erp", kind="material_consumed", payload=payload, key=f"ledger:{entry.pk}")


@batch_closed.subscribe
def batch_closed_to_erp(*, batch) -> None:
    """The closed batch's production performance (B2MML OperationsPerformance)."""
    outbox_enqueue(system="erp", kind="production_performance", payload=performance_payload(batch), key=batch.number)


@batch_released.subscribe
def batch_released_to_erp(*, release) -> None:
    payload = batch_released_payload(release)
    outbox_enqueue(system="erp", kind="batch_released", payload=payload, key=release.batch.number)
