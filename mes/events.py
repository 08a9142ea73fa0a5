"""Domain events: a domain service says what happened, in its own words, without knowing who listens.

Each domain app declares its events in `<app>/events.py` ("order released", "material consumed",
"deviation raised", ...) and announces them from its services, inside the transaction of the change.
Subscribers (the integrations app maps each event to its partner systems' messages) are called
synchronously, in that same transaction: an outbox row a subscriber writes commits or rolls back
with the change, so nothing is lost and nothing is sent for a change that did not happen. A
subscriber's error is the change's error (it propagates and rolls the transaction back).

This is how the layers run one way (docs/development.md): the foundation knows no app, a domain app
knows no partner system; a new partner system subscribes to events and nothing else changes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction

# Every declared event by name, in declaration order (listed in docs/development.md).
EVENTS: dict[str, DomainEvent] = {}


class DomainEvent:
    """One kind of thing that happened, with the named objects a subscriber receives."""

    def __init__(self, name: str, description: str, *, fields: tuple[str, ...]) -> None:
        if name in EVENTS:
            raise ValueError(f"domain event {name!r} is declared twice")
        self.name, self.description, self.fields = name, description, fields
        self._subscribers: list[Callable[..., None]] = []
        EVENTS[name] = self

    def __repr__(self) -> str:
        return f"<DomainEvent {self.name}>"

    def subscribe(self, subscriber: Callable[..., None]) -> Callable[..., None]:
        """Call `subscriber(**fields)` on every announcement (usable as a decorator; idempotent)."""
        if subscriber not in self._subscribers:
            self._subscribers.append(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Callable[..., None]) -> None:
        if subscriber in self._subscribers:
            self._subscribers.remove(subscriber)

    @property
    def subscribers(self) -> tuple[Callable[..., None], ...]:
        return tuple(self._subscribers)

    def announce(self, **fields: Any) -> None:
        """Tell every subscriber, now, inside the caller's transaction (refused outside one: an
        announcement outside the change's transaction could outlive a rolled-back change)."""
        if set(fields) != set(self.fields):
            raise TypeError(f"{self.name} takes {sorted(self.fields)}, got {sorted(fields)}")
        if not transaction.get_connection().in_atomic_block:
            raise RuntimeError(f"{self.name} must be announced inside the transaction of the change")
        for subscriber in tuple(self._subscribers):
            subscriber(**fields)
