"""What the equipment app announces (mes.events), inside the transaction of the change."""

from mes.events import DomainEvent

fault_reported = DomainEvent(
    "fault_reported",
    "A fault was reported on a piece of equipment (by a person, or an alarm from the plant: user None).",
    fields=("fault", "user"),
)
