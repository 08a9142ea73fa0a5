"""Critical process parameter excursions read from the machine while a batch uses it (issue 16).

Subscribed to the equipment poller's stored readings (`equipment.services.capture.reading_hook_register`).
A value of a *critical* tag outside its limits, while the equipment is in use by a batch, opens one
ProcessExcursion and one deviation on the batch (with the value and both timestamps). Later values
outside the limits only update the worst value: the excursion is debounced until a value comes back
within limits, which closes it. The next excursion opens a new deviation.
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from audit.context import audit_context
from batches.models import ProcessExcursion
from batches.services.hooks import raise_deviation
from equipment.models import Equipment, EquipmentStatus
from mes.generated import GeneratedText

EXCURSION_DESCRIPTION = GeneratedText(
    gettext_noop(
        "%(tag)s on %(eq)s read %(v)s %(unit)s from the machine, outside the limits %(limits)s, while batch %(batch)s used the equipment (step %(step)s). Source time %(src)s, server time %(srv)s."
    )
)
EXCURSION_TITLE = GeneratedText(gettext_noop("Critical parameter excursion: %(tag)s on %(eq)s"))


def _limits_text(tag) -> str:
    low = "–" if tag.low_limit is None else f"{tag.low_limit:g}"
    high = "–" if tag.high_limit is None else f"{tag.high_limit:g}"
    return f"{low} … {high} {tag.unit}".strip()


def _outside(tag, value: float) -> bool:
    return (tag.low_limit is not None and value < tag.low_limit) or (
        tag.high_limit is not None and value > tag.high_limit
    )


def _stamp(ts: dt.datetime | None) -> str:
    return timezone.localtime(ts).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] if ts else "–"


def excursion_on_reading(
    *, tag, value: float | None, source_ts: dt.datetime, server_ts: dt.datetime | None = None, **_ignored
) -> ProcessExcursion | None:
    """The reading hook: open, extend or close the excursion of a critical tag (cheap for other tags)."""
    if not tag.critical or value is None or (tag.low_limit is None and tag.high_limit is None):
        return None
    if _outside(tag, value):
        return excursion_open_or_extend(tag=tag, value=value, source_ts=source_ts, server_ts=server_ts)
    return excursion_close(tag=tag, value=value, source_ts=source_ts)


def _batch_using(equipment_id: int):
    row = (
        Equipment.objects.filter(pk=equipment_id, status=EquipmentStatus.IN_USE, current_batch__isnull=False)
        .select_related("current_batch")
        .first()
    )
    return (row, row.current_batch) if row else (None, None)


def excursion_open_or_extend(
    *, tag, value: float, source_ts: dt.datetime, server_ts: dt.datetime | None
) -> ProcessExcursion | None:
    """First value outside limits -> excursion + deviation on the batch; later ones only keep the worst."""
    with transaction.atomic():
        current = ProcessExcursion.objects.select_for_update().filter(tag_id=tag.pk, ended_source_ts__isnull=True)
        current = current.first()
        if current is not None:
            if abs(value - _mid(tag)) > abs(current.worst_value - _mid(tag)):
                current.worst_value = value
                with audit_context(action="batches.excursion.worst", reason=_limits_text(tag)):
                    current.save(update_fields=["worst_value"])
            return current
        equipment, batch = _batch_using(tag.equipment_id)
        if batch is None:
            return None  # not during a batch: the equipment's live state shows it, no batch is affected
        try:
            return _open(tag, equipment, batch, value, source_ts, server_ts)
        except IntegrityError:
            return None  # another worker opened it at the same moment: once per excursion


def _mid(tag) -> float:
    if tag.low_limit is not None and tag.high_limit is not None:
        return (tag.low_limit + tag.high_limit) / 2
    return tag.low_limit if tag.low_limit is not None else tag.high_limit


def _open(tag, equipment, batch, value, source_ts, server_ts) -> ProcessExcursion:
    limits = _limits_text(tag)
    name = tag.label or tag.key
    description = EXCURSION_DESCRIPTION % {
        "tag": name, "eq": equipment.code, "v": f"{value:g}", "unit": tag.unit, "limits": limits,
        "batch": batch.number, "step": equipment.current_step or "–", "src": _stamp(source_ts),
        "srv": _stamp(server_ts),
    }  # fmt: skip
    with transaction.atomic():  # a savepoint: a duplicate (another worker) rolls back only this
        with audit_context(action="batches.excursion.open", reason=f"{name} {value:g} {tag.unit}"[:100]):
            excursion = ProcessExcursion.objects.create(
                batch=batch, equipment=equipment, tag_id=tag.pk, limits=limits, first_value=value,
                first_source_ts=source_ts, first_server_ts=server_ts, worst_value=value, deviation_ref="",
            )  # fmt: skip
        excursion.deviation_ref = raise_deviation(
            user=None,
            batch=batch,
            title=EXCURSION_TITLE % {"tag": name, "eq": equipment.code},
            description=description,
            source="parameter",
            classification="major",
            links=[equipment],
        )
        with audit_context(action="batches.excursion.deviation", reason=excursion.deviation_ref):
            excursion.save(update_fields=["deviation_ref"])
    return excursion


def excursion_close(*, tag, value: float, source_ts: dt.datetime) -> ProcessExcursion | None:
    """A value back within limits ends the open excursion of this tag (if any)."""
    with transaction.atomic():
        current = (
            ProcessExcursion.objects.select_for_update().filter(tag_id=tag.pk, ended_source_ts__isnull=True).first()
        )
        if current is None:
            return None
        current.end_value, current.ended_source_ts = value, source_ts
        with audit_context(action="batches.excursion.end", reason=_limits_text(tag)):
            current.save(update_fields=["end_value", "ended_source_ts"])
        return current
