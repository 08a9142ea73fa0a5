"""Plant data over OPC UA: polling, deadband storage, live state, alarms -> fault reports.

`opcua_poll` is what the Celery beat task calls (and what tests call directly). Per endpoint it
makes one batched read, stores readings whose value moved beyond the tag's deadband (with the
source and server timestamps and the OPC UA status code), updates the live machine state, and
turns each new alarm into one fault report. A failed read marks the equipment "communication
lost" once, stores nothing (nothing is invented) and backs off; the next successful read
stores only values newer than what is already stored (nothing is duplicated).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from equipment.models import (
    MACHINE_STATE_CODES,
    CommState,
    Equipment,
    EquipmentLive,
    EquipmentTag,
    FaultSource,
    LogbookKind,
    MachineState,
    TagKind,
    TagReading,
)
from equipment.opcua.link import link_for, read_endpoint, to_utc
from equipment.services.maintenance import fault_report
from equipment.services.status import logbook_write

log = logging.getLogger(__name__)
logging.getLogger("asyncua").setLevel(logging.ERROR)


LAST_OK_REFRESH = dt.timedelta(seconds=10)


@dataclass
class PollResult:
    endpoint: str
    ok: bool = False
    skipped: bool = False
    read: int = 0
    stored: int = 0
    faults: int = 0
    error: str = ""


@dataclass
class _TagMemory:
    """What this process last stored and last saw for a tag (kept across polls)."""

    value: float | None = None
    status: int | None = None
    seen_ts: dt.datetime | None = None


_MEMORY: dict[int, _TagMemory] = {}


def _load_memory(tags: list[EquipmentTag]) -> None:
    """Fill the memory of tags not seen yet by this process from their latest stored reading."""
    missing = [t.pk for t in tags if t.pk not in _MEMORY]
    if not missing:
        return
    latest = TagReading.objects.filter(tag=OuterRef("pk")).order_by("-source_ts")
    rows = (
        EquipmentTag.objects.filter(pk__in=missing)
        .annotate(
            v=Subquery(latest.values("value")[:1]),
            s=Subquery(latest.values("status_code")[:1]),
            ts=Subquery(latest.values("source_ts")[:1]),
        )
        .values_list("pk", "v", "s", "ts")
    )
    for pk, value, status, ts in rows:
        _MEMORY[pk] = _TagMemory(value, status, ts)


def forget_memory() -> None:
    _MEMORY.clear()


def polled_tags(endpoint: str | None = None) -> dict[str, list[EquipmentTag]]:
    qs = (
        EquipmentTag.objects.filter(active=True, equipment__active=True)
        .exclude(equipment__opcua_endpoint="")
        .select_related("equipment")
        .order_by("equipment_id", "id")
    )
    if endpoint:
        qs = qs.filter(equipment__opcua_endpoint=endpoint)
    groups: dict[str, list[EquipmentTag]] = defaultdict(list)
    for tag in qs:
        groups[tag.equipment.opcua_endpoint].append(tag)
    return groups


def opcua_poll(*, endpoint: str | None = None) -> list[PollResult]:
    """Poll every configured endpoint (or one). Safe to call at any rate: a link in backoff is skipped."""
    return [_poll_endpoint(url, tags) for url, tags in polled_tags(endpoint).items()]


def _poll_endpoint(url: str, tags: list[EquipmentTag]) -> PollResult:
    result = PollResult(url)
    link = link_for(url)
    equipment = {t.equipment_id: t.equipment for t in tags}
    if not link.due():
        result.skipped, result.error = True, link.last_error
        return result
    try:
        values = read_endpoint(link, [t.node_id for t in tags])
    except BaseException as exc:  # noqa: BLE001 - any failure of the link is "communication lost"
        result.error = link.last_error or str(exc)
        _mark_lost(equipment, result.error)
        return result
    received = timezone.now()
    result.ok, result.read = True, len(values)
    rows = _new_readings(tags, values, received)
    if rows:
        TagReading.objects.bulk_create(rows, ignore_conflicts=True, batch_size=2000)
    result.stored = len(rows)
    result.faults = _update_live(equipment, tags, values, received)
    return result


def _number(variant) -> float | None:
    value = getattr(variant, "Value", None)
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    return None


def _new_readings(tags, values, received) -> list[TagReading]:
    """The readings worth storing: newer than seen, and beyond the deadband or with a new quality."""
    _load_memory(tags)
    rows = []
    for tag, dv in zip(tags, values, strict=True):
        status = dv.StatusCode.value if dv.StatusCode is not None else 0
        server_ts = to_utc(dv.ServerTimestamp)
        source_ts = to_utc(dv.SourceTimestamp) or server_ts or received
        value = _number(dv.Value)
        mem = _MEMORY.setdefault(tag.pk, _TagMemory())
        if mem.seen_ts is not None and source_ts <= mem.seen_ts:
            continue  # the same (or an older) sample again: never stored twice
        mem.seen_ts = source_ts
        if (
            mem.status == status
            and value is not None
            and mem.value is not None
            and abs(value - mem.value) <= tag.deadband
        ):
            continue
        mem.value, mem.status = value, status
        rows.append(
            TagReading(
                tag=tag, value=value, status_code=status, source_ts=source_ts, server_ts=server_ts, received_at=received
            )
        )
    return rows


def _lives(equipment: dict[int, Equipment]) -> dict[int, EquipmentLive]:
    lives = {lv.equipment_id: lv for lv in EquipmentLive.objects.filter(equipment_id__in=list(equipment))}
    for pk in equipment:
        if pk not in lives:
            lives[pk], _created = EquipmentLive.objects.get_or_create(equipment_id=pk)
    return lives


def _mark_lost(equipment: dict[int, Equipment], error: str) -> None:
    now = timezone.now()
    for pk, live in _lives(equipment).items():
        if live.comm_state == CommState.LOST:
            continue
        with transaction.atomic():
            live.comm_state, live.comm_changed_at, live.last_error = CommState.LOST, now, error[:300]
            live.save(update_fields=["comm_state", "comm_changed_at", "last_error"])
            logbook_write(
                equipment=equipment[pk],
                kind=LogbookKind.COMMUNICATION,
                text=_("Communication lost with the machine (%(error)s).") % {"error": error[:200]},
            )


def _update_live(equipment, tags, values, received) -> int:
    """Machine state, alarm, out-of-range summary, link restored; returns faults opened."""
    per_eq: dict[int, list[tuple[EquipmentTag, object]]] = defaultdict(list)
    for tag, dv in zip(tags, values, strict=True):
        per_eq[tag.equipment_id].append((tag, dv))
    faults = 0
    for pk, live in _lives(equipment).items():
        before = (live.comm_state, live.machine_state, live.alarm_active, live.alarm_code, live.out_of_range)
        previous_ok = live.last_ok_at
        restored = live.comm_state == CommState.LOST
        live.comm_state, live.last_ok_at, live.last_error = CommState.OK, received, ""
        alarm_tag = alarm_dv = None
        out_of_range = []
        for tag, dv in per_eq.get(pk, []):
            good = dv.StatusCode is None or dv.StatusCode.is_good()
            value = _number(dv.Value)
            if tag.kind == TagKind.STATE and good and value is not None:
                state = MACHINE_STATE_CODES.get(int(value), MachineState.UNKNOWN)
                if state != live.machine_state:
                    live.machine_state, live.machine_state_at = state, to_utc(dv.SourceTimestamp) or received
            elif tag.kind == TagKind.ALARM and good:
                alarm_tag, alarm_dv = tag, dv
            elif tag.kind == TagKind.ALARM_CODE and good:
                live.alarm_code = str(int(value)) if value else ""
            elif tag.kind == TagKind.PROCESS and good and value is not None:
                if tag.high_limit is not None and value > tag.high_limit:
                    out_of_range.append(
                        _("%(tag)s %(v)s %(unit)s above %(limit)s")
                        % {"tag": tag.label or tag.key, "v": round(value, 2), "unit": tag.unit, "limit": tag.high_limit}
                    )
                elif tag.low_limit is not None and value < tag.low_limit:
                    out_of_range.append(
                        _("%(tag)s %(v)s %(unit)s below %(limit)s")
                        % {"tag": tag.label or tag.key, "v": round(value, 2), "unit": tag.unit, "limit": tag.low_limit}
                    )
        live.out_of_range = "; ".join(out_of_range)[:300]
        with transaction.atomic():
            if alarm_dv is not None:
                faults += _alarm(equipment[pk], live, alarm_tag, alarm_dv, received)
            if restored:
                logbook_write(
                    equipment=equipment[pk],
                    kind=LogbookKind.COMMUNICATION,
                    text=_("Communication with the machine restored."),
                )
            after = (live.comm_state, live.machine_state, live.alarm_active, live.alarm_code, live.out_of_range)
            # "last data" is refreshed at most every 10 s: no write per equipment per poll when nothing changed
            if after != before or previous_ok is None or received - previous_ok > LAST_OK_REFRESH:
                live.save()
    return faults


def _alarm(eq: Equipment, live: EquipmentLive, tag: EquipmentTag, dv, received) -> int:
    """Rising edge of the alarm -> one fault report (keyed by code and the time it was raised)."""
    active = bool(_number(dv.Value))
    if active and not live.alarm_active:
        live.alarm_active = True
        raised = to_utc(dv.SourceTimestamp) or received
        code = live.alarm_code or "?"
        fault_report(
            equipment=eq,
            user=None,
            source=FaultSource.ALARM,
            alarm_code=code,
            alarm_key=f"{code}@{raised.isoformat()}",
            description=_("Machine alarm %(code)s raised at %(when)s.")
            % {"code": code, "when": timezone.localtime(raised).strftime("%Y-%m-%d %H:%M:%S")},
        )
        return 1
    if not active and live.alarm_active:
        live.alarm_active = False
        logbook_write(equipment=eq, kind=LogbookKind.FAULT, text=_("Machine alarm cleared."))
    return 0


# --- for batch execution ---------------------------------------------------------------------
@dataclass(frozen=True)
class MachineValue:
    """The latest stored value of an equipment tag, as captured from the machine (not typed in)."""

    equipment_code: str
    tag_key: str
    value: float | None
    unit: str
    source_ts: dt.datetime
    server_ts: dt.datetime | None
    status_code: int
    good: bool
    stale: bool  # the link to the machine is not up: the value may be old
    reading_id: int
    machine_captured: bool = field(default=True)


def equipment_latest_reading(*, equipment: Equipment | int, tag_key: str) -> MachineValue | None:
    """The latest reading of `tag_key` on `equipment`, marked machine-captured; None if never read."""
    pk = equipment.pk if isinstance(equipment, Equipment) else equipment
    reading = (
        TagReading.objects.filter(tag__equipment_id=pk, tag__key=tag_key)
        .select_related("tag__equipment")
        .order_by("-source_ts", "-id")
        .first()
    )
    if reading is None:
        return None
    live = EquipmentLive.objects.filter(equipment_id=pk).first()
    return MachineValue(
        equipment_code=reading.tag.equipment.code,
        tag_key=tag_key,
        value=reading.value,
        unit=reading.tag.unit,
        source_ts=reading.source_ts,
        server_ts=reading.server_ts,
        status_code=reading.status_code,
        good=reading.good,
        stale=live is None or live.comm_state != CommState.OK,
        reading_id=reading.pk,
    )
