"""Integration services: outbox, inbox and API accounts (one module each, re-exported here)."""

from integrations.services.accounts import (
    integration_account_create,
    integration_account_for_token,
    integration_account_rotate,
    integration_account_set_active,
)
from integrations.services.inbox import Parked, inbox_accept, inbox_process, inbox_receive, inbox_replay
from integrations.services.outbox import (
    outbox_claim,
    outbox_deliver_batch,
    outbox_drain,
    outbox_enqueue,
    outbox_replay,
    outbox_sweep,
)

__all__ = [
    "Parked",
    "inbox_accept",
    "inbox_process",
    "inbox_receive",
    "inbox_replay",
    "integration_account_create",
    "integration_account_for_token",
    "integration_account_rotate",
    "integration_account_set_active",
    "outbox_claim",
    "outbox_deliver_batch",
    "outbox_drain",
    "outbox_enqueue",
    "outbox_replay",
    "outbox_sweep",
]
