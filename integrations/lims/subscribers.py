"""The domain events the LIMS hears of, mapped to its outbox messages (mes.events).

Each subscriber runs inside the transaction of the change it hears of, so its outbox row commits
or rolls back with that change; one message per (kind, key), so hearing an event twice is harmless.
"""

from __future__ import annotations

from integrations.lims.mapping import sample_payload, test_request_payload
from integrations.services.outbox import outbox_enqueue
from quality.events import inspection_opened, sample_taken


@inspection_opened.subscribe
def inspection_opened_to_lims(*, inspection) -> None:
    """Ask the LIMS to plan the inspection's tests."""
    payload = test_request_payload(inspection)
    outbox_enqueue(system="lims", kind="test_request", payload=payload, key=inspection.number)


@sample_taken.subscribe
def sample_taken_to_lims(*, sample) -> None:
    """Which sample (the code on its label) answers the test request."""
    outbox_enqueue(system="lims", kind="sample", payload=sample_payload(sample), key=sample.code)
