"""What the quality app announces (mes.events), inside the transaction of the change."""

from mes.events import DomainEvent

inspection_opened = DomainEvent(
    "inspection_opened", "An inspection of a lot was created: its tests are to be planned.", fields=("inspection",)
)
sample_taken = DomainEvent("sample_taken", "A sample was drawn for an inspection.", fields=("sample",))
deviation_raised = DomainEvent("deviation_raised", "A deviation was raised.", fields=("deviation",))
batch_released = DomainEvent(
    "batch_released",
    "Quality gave the production release of a batch: its lot is released for stock and shipping.",
    fields=("release",),
)
