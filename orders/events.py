"""What the orders app announces (mes.events), inside the transaction of the change."""

from mes.events import DomainEvent

order_released = DomainEvent("order_released", "A production order was released to the shop floor.", fields=("order",))
order_completed = DomainEvent("order_completed", "Production of an order is finished.", fields=("order",))
