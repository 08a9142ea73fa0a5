"""The domain events the QMS hears of, mapped to its outbox messages (mes.events).

Each subscriber runs inside the transaction of the change it hears of, so its outbox row commits
or rolls back with that change; one message per (kind, key), so hearing an event twice is harmless.
"""

from __future__ import annotations

from integrations.qms.mapping import deviation_payload
from integrations.services.outbox import outbox_enqueue
from quality.events import deviation_raised


@deviation_raised.subscribe
def deviation_raised_to_qms(*, deviation) -> None:
    outbox_enqueue(system="qms", kind="deviation", payload=deviation_payload(deviation), key=deviation.number)
