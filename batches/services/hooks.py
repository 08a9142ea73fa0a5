"""The one place batch execution talks to the quality app (deviations, release, rework authority).

The quality app sits above batches (docs/development.md, "Layers"): it reviews and releases what
production made. Batches never imports it; quality registers its services here at
`AppConfig.ready()` (`quality_register`). While nothing is registered (quality not installed), a
deviation request is kept as an audit event with the reference "PENDING-<event id>", so the
exception is still visible in the record and the review; no deviation blocks release, no release
decision is offered and no rework batch can start.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_noop

from audit.services import audit_record
from mes.generated import GeneratedText
from mes.names import chinese_name
from orders.models import ProcessParameter, StepCheck

# What the quality app registered, by name (see quality_register).
_QUALITY: dict[str, Any] = {}
QUALITY_HOOKS = (
    "deviation_raise",  # (*, user, title, description, source, classification, links) -> deviation
    "open_deviations_for",  # (object_type, object_id) -> open deviations linked to that record
    "deviations_linked",  # (records, windows) -> every deviation linked to them (batch review)
    "release_decisions",  # {"qc_release": service, "release": service}: (*, user, batch, password, reason)
    "rework_authority_lock",  # (authority_id) -> the locked rework disposition (kind, status, number, lot)
    "rework_started",  # (*, user, disposition_id, batch, reason): the disposition records its batch
)


def quality_register(**hooks: Any) -> None:
    """The quality app registers its services for batch execution (every name of QUALITY_HOOKS)."""
    if set(hooks) != set(QUALITY_HOOKS):
        raise TypeError(f"quality_register takes {sorted(QUALITY_HOOKS)}, got {sorted(hooks)}")
    _QUALITY.update(hooks)


def quality_hook(name: str) -> Callable[..., Any]:
    """A registered quality service; refused (not skipped) when quality is not installed."""
    if name not in _QUALITY:
        raise ImproperlyConfigured(f"no quality service {name!r} is registered (is the quality app installed?)")
    return _QUALITY[name]


def linked_deviations(records, windows) -> list:
    """Every deviation linked to these records or equipment windows (none without the quality app)."""
    if "deviations_linked" not in _QUALITY:
        return []
    return list(_QUALITY["deviations_linked"](records, windows))


def release_decisions() -> dict[str, Callable[..., Any]]:
    """The release decisions the review page offers (none without the quality app)."""
    return dict(_QUALITY.get("release_decisions", {}))


def recorded_name_shown(name: str) -> str:
    """A recorded value's English name (a recipe's parameter or check, as a stored title holds it) by
    its Chinese name, for a reader of Chinese; as stored otherwise or when no recipe names it."""
    shown = chinese_name(ProcessParameter, "name", "name_zh", name)
    return shown if shown != name else chinese_name(StepCheck, "question", "question_zh", name)


# Generated deviation titles: stored in English, shown in the reader's language (mes.generated), the
# value's name by the recipe's Chinese name.
OUT_OF_RANGE = GeneratedText(gettext_noop("Out of range: %(n)s in step %(s)s"), shown={"n": recorded_name_shown})
OUT_OF_RANGE_AFTER_CORRECTION = GeneratedText(
    gettext_noop("Out of range after correction: %(n)s"), shown={"n": recorded_name_shown}
)
YIELD_OUT_OF_LIMITS = GeneratedText(gettext_noop("Yield or material balance out of limits: %(b)s"))


def raise_deviation(
    *, user, batch, title: str, description: str, source: str, classification: str = "minor", links: list | None = None
) -> str:
    """Open a deviation about `batch` (and the given links); returns its reference for the record."""
    links = [batch, *(links or [])]
    source = source if source in ("parameter", "yield", "equipment", "scan", "oos") else "parameter"
    if "deviation_raise" in _QUALITY:
        deviation = _QUALITY["deviation_raise"](
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
    if "open_deviations_for" not in _QUALITY:
        return []
    return list(_QUALITY["open_deviations_for"]("batches.batch", batch.pk))
