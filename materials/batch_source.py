"""The batches that material goes into, as the batches app provides them.

Materials issues and dispenses to a batch, locks the batch while it books, and shows batches in its
traces, work cards and operator pages; but batches sits above materials and imports it, so materials
may not import batches (docs/development.md, "Layers"). The batches app registers its batches here
in `BatchesConfig.ready()` (as it registers its BOM lines with `materials.requirements`); materials
reaches them only through `batches()` and the status names below. `Batch` is the shape of a batch
that materials relies on: the registered model provides it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet


class Batch(Protocol):
    """What materials reads of a batch (batches.models.Batch has these fields and more)."""

    pk: Any
    number: str
    status: str
    rework_lot_id: int | None
    product: Any

    def get_status_display(self) -> str: ...


_SOURCE: dict[str, Callable[[], Any]] = {}


def batch_source_register(*, batches: Callable[[], QuerySet], status_choices: Callable[[], list]) -> None:
    """Register the batches: `batches()` gives a fresh queryset of every batch, `status_choices()` the
    (value, label) pairs of a batch's status. Registering again replaces the source."""
    _SOURCE["batches"] = batches
    _SOURCE["status_choices"] = status_choices


def _source(name: str) -> Callable[[], Any]:
    try:
        return _SOURCE[name]
    except KeyError:
        # Without the batches app there is nothing to issue to: say so rather than find nothing.
        raise ImproperlyConfigured("No batch source registered (the batches app registers it).") from None


def batches() -> QuerySet:
    """Every batch, as a queryset to filter, look up or lock (`batches().select_for_update()`)."""
    return _source("batches")()


def batch_status_choices() -> list[tuple[str, Any]]:
    """The (value, label) pairs of a batch's status, in the batches app's order."""
    return list(_source("status_choices")())


def batch_status_label(value: str) -> str:
    """A batch status in the reader's words (the value itself if the batches app does not know it)."""
    return str(dict(batch_status_choices()).get(value, value))
