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
from typing import NamedTuple

from django.db import connection, transaction
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


def _load_memory(tags: list[TagInfo]) -> None:
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
    endpoint: str


class _EquipmentOnDemand:
    """The equipment of one endpoint, loaded only when a logbook line or fault report needs one."""

    def __init__(self, ids: list[int]) -> None:
        self.ids, self._loaded = ids, {}

    def __iter__(self):
        return iter(self.ids)

    def __getitem__(self, pk: int) -> Equipment:
        if pk not in self._loaded:
            self._loaded[pk] = Equipment.objects.get(pk=pk)
        return self._loaded[pk]


def polled_tags(endpoint: str | None = None) -> dict[str, list[TagInfo]]:
    qs = (
        EquipmentTag.objects.filter(active=True, equipment__active=True)
        .exclude(equipment__opcua_endpoint="")
        .order_by("equipment_id", "id")
    )
    if endpoint:
        qs = qs.filter(equipment__opcua_endpoint=endpoint)
    groups: dict[str, list[TagInfo]] = defaultdict(list)
    for row in qs.values_list(*TagInfo._fields[:-1], "equipment__opcua_endpoint"):
        tag = TagInfo(*row)
        groups[tag.endpoint].append(tag)
    return groups


def opcua_poll(*, endpoint: str | None = None) -> list[PollResult]:
    """Poll every configured endpoint (or one). Safe to call at any rate: a link in backoff is skipped."""
    return [_poll_endpoint(url, tags) for url, tags in polled_tags(endpoint).items()]


def _poll_endpoint(url: str, tags: list[TagInfo]) -> PollResult:
    result = PollResult(url)
    link = link_for(url)
    equipment = _EquipmentOnDemand(list(dict.fromkeys(t.equipment_id for t in tags)))
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
        _insert_readings(rows)
    result.stored = len(rows)
    result.faults = _update_live(equipment, tags, values, received)
    return result


def _insert_readings(rows: list[Row]) -> None:
    """Append readings; a (tag, source time) already stored is skipped by the unique constraint.

    On PostgreSQL one INSERT ... SELECT FROM unnest(arrays) carries a whole poll (thousands of
    values) in a single statement, several times faster than a multi-row VALUES list. Readings
    are plain append-only machine data (not audited GMP records), so nothing is bypassed.
    """
    if connection.vendor != "postgresql":
        objs = [
            TagReading(tag_id=t, value=v, status_code=c, source_ts=s, server_ts=sv, received_at=r)
            for t, v, c, s, sv, r in rows
        ]
        TagReading.objects.bulk_create(objs, ignore_conflicts=True, batch_size=2000)
        return
    table = TagReading._meta.db_table
    columns = list(zip(*rows, strict=True))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (tag_id, value, status_code, source_ts, server_ts, received_at) "
            "SELECT * FROM unnest(%s::bigint[], %s::double precision[], %s::bigint[], %s::timestamptz[], "
            "%s::timestamptz[], %s::timestamptz[]) ON CONFLICT (tag_id, source_ts) DO NOTHING",
            [list(c) for c in columns],
        )


def _number(variant) -> float | None:
    value = getattr(variant, "Value", None)
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    return None


Row = tuple  # (tag_id, value, status_code, source_ts, server_ts, received_at)


def _new_readings(tags, values, received) -> list[Row]:
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
        rows.append((tag.pk, value, status, source_ts, server_ts, received))
    return rows


def _lives(equipment) -> dict[int, EquipmentLive]:
    lives = {lv.equipment_id: lv for lv in EquipmentLive.objects.filter(equipment_id__in=list(equipment))}
    for pk in equipment:
        if pk not in lives:
            lives[pk], _created = EquipmentLive.objects.get_or_create(equipment_id=pk)
    return lives


def _mark_lost(equipment, error: str) -> None:
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
    per_eq: dict[int, list[tuple[TagInfo, object]]] = defaultdict(list)
    for tag, dv in zip(tags, values, strict=True):
        per_eq[tag.equipment_id].append((tag, dv))
    faults = 0
    stale_ok: list[int] = []
    with transaction.atomic():
        for pk, live in _lives(equipment).items():
            faults += _update_one(equipment, pk, live, per_eq.get(pk, []), received)
            # "last data" is refreshed at most every 10 s, for all such equipment in one statement
            if live.last_ok_at is None or received - live.last_ok_at > LAST_OK_REFRESH:
                stale_ok.append(pk)
        if stale_ok:
            EquipmentLive.objects.filter(equipment_id__in=stale_ok).update(last_ok_at=received)
    return faults


LIVE_FIELDS = (
    "comm_state",
    "last_error",
    "machine_state",
    "machine_state_at",
    "alarm_active",
    "alarm_code",
    "out_of_range",
)


def _update_one(equipment, pk: int, live: EquipmentLive, readings, received) -> int:
    before = tuple(getattr(live, f) for f in LIVE_FIELDS)
    restored = live.comm_state == CommState.LOST
    live.comm_state, live.last_error = CommState.OK, ""
    alarm_tag = alarm_dv = None
    out_of_range = []
    for tag, dv in readings:
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
            text = _limit_text(tag, value)
            if text:
                out_of_range.append(text)
    live.out_of_range = "; ".join(out_of_range)[:300]
    faults = 0
    if alarm_dv is not None:
        faults = _alarm(equipment[pk], live, alarm_tag, alarm_dv, received)
    if restored:
        live.comm_changed_at = received
        logbook_write(
            equipment=equipment[pk], kind=LogbookKind.COMMUNICATION, text=_("Communication with the machine restored.")
        )
    if tuple(getattr(live, f) for f in LIVE_FIELDS) != before:
        live.save(update_fields=[*LIVE_FIELDS, "comm_changed_at"])
    return faults


def _limit_text(tag: TagInfo, value: float) -> str:
    if tag.high_limit is not None and value > tag.high_limit:
        return _("%(tag)s %(v)s %(unit)s above %(limit)s") % {
            "tag": tag.label or tag.key,
            "v": round(value, 2),
            "unit": tag.unit,
            "limit": tag.high_limit,
        }
    if tag.low_limit is not None and value < tag.low_limit:
        return _("%(tag)s %(v)s %(unit)s below %(limit)s") % {
            "tag": tag.label or tag.key,
            "v": round(value, 2),
            "unit": tag.unit,
            "limit": tag.low_limit,
        }
    return ""


def _alarm(eq: Equipment, live: EquipmentLive, tag: TagInfo, dv, received) -> int:
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


# --- integrations (issue 8): readings that arrive by other means than an OPC UA poll ------------
class _PushedValue:
    """A value shaped like an OPC UA DataValue (what the poll path reads), for pushed readings."""

    def __init__(self, value: float | None, source_ts: dt.datetime):
        self.Value = type("Variant", (), {"Value": value})()
        self.StatusCode = None  # good
        self.SourceTimestamp = source_ts
        self.ServerTimestamp = None


def machine_values_record(
    *, equipment_code: str, by_kind: dict[str, float | None], source_ts: dt.datetime
) -> PollResult:
    """Record values an equipment published itself (MQTT): matched to its active tags by tag kind,
    then handled exactly like an OPC UA poll (deadband storage, live state, alarms -> fault reports).

    Raises LookupError when the equipment is unknown or has no active tag for any of the values
    (the caller words the refusal for its own users).
    """
    rows = list(
        EquipmentTag.objects.filter(
            equipment__code=equipment_code, equipment__active=True, active=True, kind__in=list(by_kind)
        )
        .order_by("id")
        .values_list(*TagInfo._fields[:-1])
    )
    if not rows:
        raise LookupError(equipment_code)
    tags = [TagInfo(*row, "") for row in rows]
    values = [_PushedValue(by_kind[tag.kind], source_ts) for tag in tags]
    received = timezone.now()
    result = PollResult(f"push:{equipment_code}", ok=True, read=len(values))
    new_rows = _new_readings(tags, values, received)
    if new_rows:
        _insert_readings(new_rows)
    result.stored = len(new_rows)
    result.faults = _update_live(
        _EquipmentOnDemand(list(dict.fromkeys(t.equipment_id for t in tags))), tags, values, received
    )
    return result
