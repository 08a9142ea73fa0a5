"""What to store of a poll's values, tag by tag, with the memory every worker shares (issue 23).

Rules, in order, for each tag of a poll:
1. A tag that cannot work (malformed node id, BadNodeIdUnknown and other configuration statuses,
   a value of the wrong data type) is a *tag error*: marked on the tag with its status in words,
   one logbook entry and one alert, nothing stored. Other tags are not affected.
2. A bad status, or no value, is stored once as a status change, not on every poll.
3. A good value is stored when its status changed or it moved beyond the deadband of the last
   *stored* value. "Last" is the receipt order, kept in TagState (the database), so every worker
   judges against the same value and a machine clock that jumps cannot hide later readings.
4. Both timestamps are kept. A source time ahead of our receipt by more than the tolerance is
   stored flagged `clock_suspect` (never dropped) and reported per equipment to the caller.

Each stored reading is handed to the registered reading hooks (a domain rule, e.g. a critical
parameter excursion during a batch, can subscribe without the poller knowing it).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from equipment.models import (
    CaptureAlert,
    CaptureAlertKind,
    Equipment,
    LogbookKind,
    TagKind,
    TagReading,
    TagState,
)
from equipment.opcua.nodeids import CONFIG_ERRORS, is_good, status_words
from equipment.services.status import logbook_write
from mes.generated import GeneratedText

TAG_NOT_CAPTURED = GeneratedText(gettext_noop("Tag %(tag)s (%(node)s) is not captured: %(error)s"))
TAG_READS_AGAIN = GeneratedText(gettext_noop("Tag %(tag)s reads again."))

log = logging.getLogger(__name__)


class TagInfo(NamedTuple):
    """What polling needs of a tag: plain values, so a poll of thousands of tags builds no model objects."""

    pk: int
    equipment_id: int
    key: str
    label: str
    node_id: str
    kind: str
    unit: str
    deadband: float
    low_limit: float | None
    high_limit: float | None
    critical: bool
    class_id: int | None
    endpoint: str


TAG_LOOKUPS = [*TagInfo._fields[:-2], "equipment__equipment_class_id", "equipment__opcua_endpoint"]


@dataclass(frozen=True)
class Sample:
    """One value as the source gave it (OPC UA DataValue or a pushed message)."""

    status: int
    value: object  # float, int, bool, str or None, as received
    source_ts: dt.datetime | None
    server_ts: dt.datetime | None


@dataclass
class Captured:
    """The outcome of one poll's values."""

    stored: int = 0
    usable: list[tuple[TagInfo, Sample]] = field(default_factory=list)  # good values, for the live state
    clock_ahead: dict[int, float] = field(default_factory=dict)  # equipment -> seconds ahead
    lag_ms: float | None = None
    tag_errors: int = 0


# (tag, value, text, status, source, server, received, clock_suspect)
Row = tuple[int, float | None, str, int, dt.datetime, dt.datetime | None, dt.datetime, bool]
ReadingHook = Callable[..., None]
READING_HOOKS: list[ReadingHook] = []


def reading_hook_register(hook: ReadingHook) -> None:
    """Call `hook(tag=TagInfo, value=..., text=..., source_ts=..., server_ts=..., clock_suspect=...)` per
    stored reading (after the poll's readings are written; a hook's failure is logged, never lost data)."""
    if hook not in READING_HOOKS:
        READING_HOOKS.append(hook)


def clock_tolerance() -> dt.timedelta:
    return dt.timedelta(seconds=settings.MES_CAPTURE_CLOCK_TOLERANCE_SECONDS)


def type_error(tag: TagInfo, value: object) -> str:
    """Words for a value of the wrong type for its tag ('' when the type fits)."""
    if value is None:
        return ""
    if tag.kind == TagKind.STATE and isinstance(value, str | int | float):
        return ""
    if tag.kind == TagKind.ALARM and isinstance(value, bool | int | float):
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return ""
    expected = {TagKind.STATE: _("a number or a word"), TagKind.ALARM: _("a boolean")}.get(tag.kind, _("a number"))
    return _("Wrong data type: the machine sends %(type)s, the tag expects %(expected)s.") % {
        "type": type(value).__name__,
        "expected": expected,
    }


def _split(value: object) -> tuple[float | None, str]:
    if isinstance(value, bool):
        return (1.0 if value else 0.0), ""
    if isinstance(value, int | float):
        return float(value), ""
    if isinstance(value, str):
        return None, value.strip()[:60]
    return None, ""


class _Memory(NamedTuple):
    value: float | None
    text: str
    status: int | None
    has_value: bool
    error: str


def _memory(tags: list[TagInfo]) -> dict[int, _Memory]:
    rows = TagState.objects.filter(tag_id__in=[t.pk for t in tags]).values_list(
        "tag_id", "value", "text", "status_code", "has_value", "error"
    )
    return {pk: _Memory(*rest) for pk, *rest in rows}


def capture(tags: list[TagInfo], samples: list[Sample | str], received: dt.datetime) -> Captured:
    """Decide, store and remember one poll's values (`samples[i]` is a Sample, or the words of why
    tag i could not even be asked for, e.g. a malformed node id)."""
    memory = _memory(tags)
    out = Captured()
    rows: list[Row] = []
    errors: dict[int, tuple[TagInfo, str]] = {}
    cleared: list[TagInfo] = []
    tolerance = clock_tolerance()
    for tag, sample in zip(tags, samples, strict=True):
        mem = memory.get(tag.pk)
        if isinstance(sample, str):
            error = sample
        elif sample.status in CONFIG_ERRORS:
            error = status_words(sample.status)
        else:
            error = type_error(tag, sample.value) if is_good(sample.status) else ""
        if error:
            errors[tag.pk] = (tag, error)
            continue
        if mem is not None and mem.error:
            cleared.append(tag)
        source_ts = sample.source_ts or sample.server_ts or received
        ahead = (source_ts - received).total_seconds()
        suspect = source_ts - received > tolerance
        if suspect:
            out.clock_ahead[tag.equipment_id] = max(ahead, out.clock_ahead.get(tag.equipment_id, 0.0))
        value, text = _split(sample.value)
        has_value = sample.value is not None
        if is_good(sample.status) and has_value:
            out.usable.append((tag, sample))
        if not _worth_storing(tag, mem, sample.status, has_value, value, text):
            continue
        rows.append((tag.pk, value, text, sample.status, source_ts, sample.server_ts, received, suspect))
        if not suspect:
            lag = max(0.0, -ahead * 1000)
            out.lag_ms = lag if out.lag_ms is None else max(out.lag_ms, lag)
    inserted = _insert_readings(rows) if rows else set()
    kept = [r for r in rows if r[0] in inserted]
    _remember(kept)
    out.stored = len(kept)
    out.tag_errors = len(errors)
    _tag_errors(errors, memory, received)
    _tags_cleared(cleared, received)
    _call_hooks(tags, kept)
    return out


def _worth_storing(tag: TagInfo, mem: _Memory | None, status: int, has_value: bool, value, text: str) -> bool:
    if mem is None or mem.status != status or mem.has_value != has_value:
        return True  # first reading, or a change of quality: always recorded (once)
    if not is_good(status) or not has_value:
        return False  # the same bad status / no value again: already recorded
    if text or mem.text:
        return text != mem.text
    return mem.value is None or value is None or abs(value - mem.value) > tag.deadband


def _insert_readings(rows: list[Row]) -> set[int]:
    """Append readings; returns the tags whose reading went in (a (tag, source time) already stored
    is skipped by the unique constraint). On PostgreSQL one INSERT ... SELECT FROM unnest(arrays)
    carries a whole poll in one statement. Readings are append-only machine data, not GMP records."""
    if connection.vendor != "postgresql":
        for t, v, x, c, s, sv, r, k in rows:
            try:
                with transaction.atomic():
                    TagReading.objects.create(
                        tag_id=t, value=v, text_value=x, status_code=c, source_ts=s, server_ts=sv, received_at=r,
                        clock_suspect=k,
                    )  # fmt: skip
            except IntegrityError:
                continue
        return {r[0] for r in rows}
    table = TagReading._meta.db_table
    tag, value, text, status, source, server, received, suspect = zip(*rows, strict=True)
    # One poll has one receipt time: sent once, not as an array of thousands of equal timestamps.
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (tag_id, value, text_value, status_code, source_ts, server_ts, received_at, "
            "clock_suspect) SELECT t, v, x, c, s, sv, %s, k FROM unnest(%s::bigint[], %s::double precision[], "
            "%s::varchar[], %s::bigint[], %s::timestamptz[], %s::timestamptz[], %s::boolean[]) AS u(t, v, x, c, s, "
            "sv, k) ON CONFLICT (tag_id, source_ts) DO NOTHING RETURNING tag_id",
            [
                _one(received),
                list(tag),
                list(value),
                list(text),
                list(status),
                list(source),
                list(server),
                list(suspect),
            ],
        )
        return {row[0] for row in cursor.fetchall()}


def _one(values: tuple) -> object:
    """The value all rows share (a poll's receipt time)."""
    first = values[0]
    if any(v != first for v in values):
        raise ValueError("rows of one poll must share their receipt time")
    return first


_REMEMBER_SQL = f"""
INSERT INTO {TagState._meta.db_table} (tag_id, value, text, status_code, has_value, stored_at, error, error_since)
SELECT t, v, x, c, h, %s, '', NULL FROM unnest(%s::bigint[], %s::double precision[], %s::varchar[], %s::bigint[],
       %s::boolean[]) AS u(t, v, x, c, h)
ON CONFLICT (tag_id) DO UPDATE SET value = EXCLUDED.value, text = EXCLUDED.text, status_code = EXCLUDED.status_code,
       has_value = EXCLUDED.has_value, stored_at = EXCLUDED.stored_at
"""


def _remember(rows: list[Row]) -> None:
    """The stored readings become every worker's memory (one upsert for the whole poll)."""
    if not rows:
        return
    if connection.vendor == "postgresql":  # one statement of arrays: no model object per tag
        tag, value, text, status, _s, _sv, received, _k = zip(*rows, strict=True)
        has_value = [v is not None or bool(x) for v, x in zip(value, text, strict=True)]
        with connection.cursor() as cursor:
            cursor.execute(_REMEMBER_SQL, [_one(received), list(tag), list(value), list(text), list(status), has_value])
        return
    states = [
        TagState(tag_id=t, value=v, text=x, status_code=c, has_value=v is not None or bool(x), stored_at=r)
        for t, v, x, c, _s, _sv, r, _k in rows
    ]
    # TagState is the poller's shared cache (not a GMP record): an upsert is its normal write.
    TagState.objects.bulk_create(
        states,
        update_conflicts=True,
        unique_fields=["tag"],
        update_fields=["value", "text", "status_code", "has_value", "stored_at"],
    )


def _tag_errors(errors: dict[int, tuple[TagInfo, str]], memory: dict[int, _Memory], now: dt.datetime) -> None:
    for pk, (tag, error) in errors.items():
        mem = memory.get(pk)
        if mem is not None and mem.error == error[:300]:
            continue  # already marked: once, not once per poll
        with transaction.atomic():
            state, _created = TagState.objects.select_for_update().get_or_create(tag_id=pk)
            if state.error == error[:300]:
                continue
            new = not state.error
            state.error, state.error_since = error[:300], state.error_since if not new else now
            state.save(update_fields=["error", "error_since"])
            if new:
                alert_raise(
                    equipment_id=tag.equipment_id,
                    tag_id=pk,
                    kind=CaptureAlertKind.TAG_ERROR,
                    detail=TAG_NOT_CAPTURED % {"tag": tag.label or tag.key, "node": tag.node_id, "error": error},
                )


def _tags_cleared(tags: list[TagInfo], now: dt.datetime) -> None:
    for tag in tags:
        with transaction.atomic():
            state = TagState.objects.select_for_update().filter(tag_id=tag.pk).first()
            if state is None or not state.error:
                continue
            state.error, state.error_since = "", None
            state.save(update_fields=["error", "error_since"])
            alert_clear(
                equipment_id=tag.equipment_id,
                tag_id=tag.pk,
                kind=CaptureAlertKind.TAG_ERROR,
                text=TAG_READS_AGAIN % {"tag": tag.label or tag.key},
            )


def alert_raise(*, equipment_id: int, kind: str, detail: str, tag_id: int | None = None) -> bool:
    """Raise a capture alert once (while it is open) with its logbook entry; False if already open."""
    try:
        with transaction.atomic():
            CaptureAlert.objects.create(
                equipment_id=equipment_id, tag_id=tag_id, kind=kind, detail=detail[:300], raised_at=timezone.now()
            )
            logbook_write(equipment=Equipment.objects.get(pk=equipment_id), kind=LogbookKind.COMMUNICATION, text=detail)
    except IntegrityError:
        return False  # another worker raised it at the same moment
    log.warning("capture alert %s equipment=%s tag=%s: %s", kind, equipment_id, tag_id, detail)
    return True


def alert_clear(*, equipment_id: int, kind: str, text: str, tag_id: int | None = None) -> None:
    """Close the open alert (if any) and say so in the logbook."""
    with transaction.atomic():
        alert = (
            CaptureAlert.objects.select_for_update()
            .filter(equipment_id=equipment_id, tag_id=tag_id, kind=kind, cleared_at__isnull=True)
            .first()
        )
        if alert is None:
            return
        alert.cleared_at = timezone.now()
        alert.save(update_fields=["cleared_at"])
        logbook_write(equipment=Equipment.objects.get(pk=equipment_id), kind=LogbookKind.COMMUNICATION, text=text)


def _call_hooks(tags: list[TagInfo], rows: list[Row]) -> None:
    if not READING_HOOKS or not rows:
        return
    by_pk = {t.pk: t for t in tags}
    for pk, value, text, _c, source_ts, server_ts, _r, suspect in rows:
        for hook in READING_HOOKS:
            try:
                hook(
                    tag=by_pk[pk],
                    value=value,
                    text=text,
                    source_ts=source_ts,
                    server_ts=server_ts,
                    clock_suspect=suspect,
                )
            except Exception:  # noqa: BLE001 - a domain rule's failure must not lose the poll's readings
                log.exception("reading hook %s failed for tag %s", hook, pk)
