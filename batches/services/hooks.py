"""The one place batch execution talks to the quality app (deviations and release conditions).

The quality app owns deviations. While it is not installed, a deviation request is kept as an audit
event with the reference "PENDING-<event id>", so the exception is still visible in the record and
the review; once quality is merged these functions call its services.
"""

from __future__ import annotations

import importlib

from django.utils.translation import gettext_noop

from audit.services import audit_record
from mes.generated import GeneratedText


def _quality_services():
    try:
        return importlib.import_module("quality.services")
    except ModuleNotFoundError:
        return None


# Generated deviation titles: stored in English, shown in the reader's language (mes.generated).
OUT_OF_RANGE = GeneratedText(gettext_noop("Out of range: %(n)s in step %(s)s"))
OUT_OF_RANGE_AFTER_CORRECTION = GeneratedText(gettext_noop("Out of range after correction: %(n)s"))
YIELD_OUT_OF_LIMITS = GeneratedText(gettext_noop("Yield or material balance out of limits: %(b)s"))


def raise_deviation(
    *, user, batch, title: str, description: str, source: str, classification: str = "minor", links: list | None = None
) -> str:
    """Open a deviation about `batch` (and the given links); returns its reference for the record."""
    quality = _quality_services()
    links = [batch, *(links or [])]
    source = source if source in ("parameter", "yield", "equipment", "scan", "oos") else "parameter"
    if quality is not None and hasattr(quality, "deviation_raise"):
        deviation = quality.deviation_raise(
            user=user,
            title=title,
            description=description,
            source=source,
            classification=classification,
            links=links,
        )
        return str(getattr(deviation, "number", None) or deviation.pk)
    event = audit_record(
        action="batches.deviation_requested",
        actor=user,
        obj=batch,
        reason=description,
        new={"title": title, "source": source, "classification": classification},
    )
    return f"PENDING-{event.pk}"


def open_deviations(batch) -> list:
    """Open deviations linked to the batch (blocks release); empty while quality is not installed."""
    try:
        selectors = importlib.import_module("quality.selectors")
    except ModuleNotFoundError:
        return []
    return list(selectors.open_deviations_for("batches.batch", batch.pk))
