"""Who makes the batches of a released order.

The orders app decides how a released order is split (sizes, numbers, operators: ORD-6); making a
batch is the batches app's service. The batches app sits above orders (docs/development.md,
"Layers") and registers its service here at `AppConfig.ready()`, so orders never imports batches.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ImproperlyConfigured

_MAKER: list[Callable[..., Any]] = []


def batch_maker_register(maker: Callable[..., Any]) -> None:
    """Register `maker(*, user, order, sequence, number, quantity, operators) -> batch` (one maker)."""
    _MAKER[:] = [maker]


def batch_make(**fields: Any) -> Any:
    """Make one batch of an order with the registered maker, in the caller's transaction.
    Without one (the batches app missing) no batch can be made: refuse rather than pretend."""
    if not _MAKER:
        raise ImproperlyConfigured("no batch maker is registered (is the batches app installed?)")
    return _MAKER[0](**fields)
