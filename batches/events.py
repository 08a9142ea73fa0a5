"""What the batches app announces (mes.events), inside the transaction of the change."""

from mes.events import DomainEvent

batch_closed = DomainEvent(
    "batch_closed",
    "A batch was released or rejected: its record is approved and final (only archiving follows).",
    fields=("batch",),
)
