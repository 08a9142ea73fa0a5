"""Plant data over OPC UA: polling, storage, live state, alarms and faults (issues 8 and 23).

`opcua_poll` is what the Celery beat task calls (and what tests call directly). Endpoints are read
concurrently, each bounded by its own time-out, and each endpoint's values are stored as soon as
they arrive (a hanging server delays nobody). A poll of an endpoint never overlaps the previous
one, in any worker (a PostgreSQL advisory lock per endpoint; a busy endpoint's tick is counted as
skipped). What is stored is decided in `equipment.services.capture` against the memory all
workers share. A failed read marks the equipment "communication lost" once and stores nothing;
the next successful read marks it restored once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
from collections import defaultdict
from concurrent.futures import as_completed
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from equipment.models import (
    CaptureAlertKind,
    CommState,
    EndpointHealth,
    Equipment,
    EquipmentLive,
    EquipmentTag,
    FaultSource,
    LogbookKind,
    MachineState,
    TagKind,
    TagReading,
)
from equipment.opcua.link import link_for, read_finish, read_submit, to_utc
from equipment.opcua.nodeids import parse_node_id
from equipment.services.capture import (
    TAG_LOOKUPS,
    Captured,
    Sample,
    TagInfo,
    alert_clear,
    alert_raise,
    capture,
)
from equipment.services.maintenance import fault_report
from equipment.services.statemap import StateMaps
from equipment.services.status import logbook_write
from mes.generated import GeneratedText

COMMUNICATION_LOST = GeneratedText(gettext_noop("Communication lost with the machine (%(error)s)."))
COMMUNICATION_RESTORED = GeneratedText(gettext_noop("Communication with the machine restored."))
STATE_UNMAPPED = GeneratedText(
    gettext_noop("The machine reports state “%(value)s”, which has no meaning in its equipment class's mapping.")
)
STATE_MAPPED = GeneratedText(gettext_noop("The machine state “%(value)s” is mapped."))
STATE_FAULT = GeneratedText(gettext_noop("Machine reported state %(value)s (fault) at %(when)s."))
CLOCK_AHEAD = GeneratedText(
    gettext_noop(
        "The machine's clock is %(s)s s ahead of the server's: its readings are stored flagged “source clock ahead”."
    )
)
CLOCK_BACK = GeneratedText(gettext_noop("The machine's clock is back in tolerance."))
ALARM_RAISED = GeneratedText(gettext_noop("Machine alarm %(code)s raised at %(when)s."))
ALARM_CLEARED = GeneratedText(gettext_noop("Machine alarm cleared."))

log = logging.getLogger(__name__)
logging.getLogger("asyncua").setLevel(logging.ERROR)


LAST_OK_REFRESH = dt.timedelta(seconds=10)


@dataclass
class PollResult:
    endpoint: str
    ok: bool = False
    skipped: bool = False  # in backoff after a failure
    busy: bool = False  # the previous poll of this endpoint (any worker) was still running
    read: int = 0
    stored: int = 0
    faults: int = 0
    tag_errors: int = 0
    error: str = ""


def forget_memory() -> None:
    """Kept for callers of the first poller: the deadband memory now lives in the database
    (TagState), shared by every worker, so there is nothing per process to forget."""


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
    for row in qs.values_list(*TAG_LOOKUPS):
        tag = TagInfo(*row)
        groups[tag.endpoint].append(tag)
    return groups


# --- one poller per endpoint ----------------------------------------------------------------------
def _lock_key(url: str) -> int:
    return int.from_bytes(hashlib.sha256(f"mes.opcua:{url}".encode()).digest()[:8], "big", signed=True)


def _try_lock(url: str) -> bool:
    """Take the endpoint's poll lock (session advisory lock: released if the worker dies)."""
    if connection.vendor != "postgresql":
        return True  # SQLite: the zero-setup single-process default
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [_lock_key(url)])
        return bool(cursor.fetchone()[0])


def _unlock(url: str) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_lock_key(url)])


def opcua_poll(*, endpoint: str | None = None) -> list[PollResult]:
    """Poll every configured endpoint (or one): reads run concurrently, each endpoint is stored as
    soon as its values arrive. Safe to call at any rate and from any number of workers."""
    groups = polled_tags(endpoint)
    results: dict[str, PollResult] = {url: PollResult(url) for url in groups}
    locked: list[str] = []
    pending = {}
    try:
        for url, tags in groups.items():
            if not _try_lock(url):
                results[url].busy = True
                EndpointHealth.objects.get_or_create(url=url)
                EndpointHealth.objects.filter(url=url).update(skipped_polls=F("skipped_polls") + 1)
                continue
            locked.append(url)
            started = _start(url, tags, results[url])
            if started is not None:
                pending[started.future] = started
        for future in as_completed(pending):
            read = pending[future]
            _finish(read, results[read.url])
            # free the endpoint at once: a hanging endpoint still in this poll must not keep
            # the healthy ones locked (the next tick, in any worker, may poll them)
            _unlock(read.url)
            locked.remove(read.url)
    finally:
        for url in locked:
            _unlock(url)
    return list(results.values())


@dataclass
class _Read:
    """A read in flight: which tag each node is, and the tags whose node id did not even parse."""

    url: str
    tags: list[TagInfo]
    future: object
    nodes_at: list[int]
    bad: dict[int, str]
    connects: int
    began: float = field(default_factory=time.monotonic)


def _start(url: str, tags: list[TagInfo], result: PollResult) -> _Read | None:
    """Parse the node ids (a malformed one fails its own tag only) and submit the read."""
    link = link_for(url)
    if not link.due():
        result.skipped, result.error = True, link.last_error
        return None
    nodes, nodes_at, bad = [], [], {}
    for i, tag in enumerate(tags):
        try:
            nodes.append(parse_node_id(tag.node_id))
            nodes_at.append(i)
        except ValueError as exc:
            bad[i] = str(exc)
    return _Read(url, tags, read_submit(link, nodes), nodes_at, bad, link.connects)


def _finish(read: _Read, result: PollResult) -> None:
    link, tags = link_for(read.url), read.tags
    equipment = _EquipmentOnDemand(list(dict.fromkeys(t.equipment_id for t in tags)))
    try:
        values = read_finish(link, read.future)
    except BaseException as exc:  # noqa: BLE001 - any failure of the link is "communication lost"
        result.error = link.last_error or str(exc)
        _mark_lost(equipment, result.error)
        _health(read.url, result, read.began, None, reconnected=0)
        return
    received = timezone.now()
    samples: list[Sample | str] = [read.bad.get(i, "") for i in range(len(tags))]
    for i, dv in zip(read.nodes_at, values, strict=True):
        samples[i] = Sample(
            status=dv.StatusCode.value if dv.StatusCode is not None else 0,
            value=getattr(dv.Value, "Value", None),
            source_ts=to_utc(dv.SourceTimestamp),
            server_ts=to_utc(dv.ServerTimestamp),
        )
    result.ok, result.read = True, len(values)
    captured = capture(tags, samples, received)
    result.stored, result.tag_errors = captured.stored, captured.tag_errors
    result.faults = _update_live(equipment, tags, captured, received)
    _health(read.url, result, read.began, captured, reconnected=max(0, link.connects - max(read.connects, 1)))


def _health(url: str, result: PollResult, began: float, captured: Captured | None, *, reconnected: int) -> None:
    now = timezone.now()
    EndpointHealth.objects.get_or_create(url=url)
    changes = {
        "last_poll_at": now,
        "polls": F("polls") + 1,
        "connected": result.ok,
        "last_duration_ms": round((time.monotonic() - began) * 1000, 1),
        "last_error": result.error[:300],
    }
    if result.ok:
        changes["last_good_at"] = now
        if captured is not None and captured.lag_ms is not None:
            changes["lag_ms"] = round(captured.lag_ms, 1)
    else:
        changes["failures"] = F("failures") + 1
    if reconnected:
        changes["reconnects"] = F("reconnects") + reconnected
    EndpointHealth.objects.filter(url=url).update(**changes)


def _lives(equipment) -> dict[int, EquipmentLive]:
    lives = {lv.equipment_id: lv for lv in EquipmentLive.objects.filter(equipment_id__in=list(equipment))}
    for pk in equipment:
        if pk not in lives:
            lives[pk], _created = EquipmentLive.objects.get_or_create(equipment_id=pk)
    return lives


def _mark_lost(equipment, error: str) -> None:
    """Communication lost: one logbook entry per equipment per actual change (the row is locked)."""
    now = timezone.now()
    lives = _lives(equipment)
    # equipment already lost show this endpoint's error, not a stale one (e.g. of its old endpoint)
    EquipmentLive.objects.filter(pk__in=list(lives), comm_state=CommState.LOST).exclude(last_error=error[:300]).update(
        last_error=error[:300]
    )
    for pk, live in lives.items():
        if live.comm_state == CommState.LOST:
            continue
        with transaction.atomic():
            live = EquipmentLive.objects.select_for_update().get(pk=pk)
            if live.comm_state == CommState.LOST:
                continue
            live.comm_state, live.comm_changed_at, live.last_error = CommState.LOST, now, error[:300]
            live.save(update_fields=["comm_state", "comm_changed_at", "last_error"])
            logbook_write(
                equipment=equipment[pk],
                kind=LogbookKind.COMMUNICATION,
                text=COMMUNICATION_LOST % {"error": error[:200]},
            )


def _update_live(equipment, tags: list[TagInfo], captured: Captured, received) -> int:
    """Machine state, alarm, clock, out-of-range summary, link restored; returns faults opened."""
    per_eq: dict[int, list[tuple[TagInfo, Sample]]] = defaultdict(list)
    for tag, sample in captured.usable:
        per_eq[tag.equipment_id].append((tag, sample))
    maps = StateMaps({t.equipment_id: t.class_id for t in tags})
    faults = 0
    stale_ok: list[int] = []
    with transaction.atomic():
        lives = _lives(equipment)
        restored = [pk for pk, live in lives.items() if live.comm_state == CommState.LOST]
        if restored:  # lock them: "restored" is written once even if two polls raced
            lives.update({lv.pk: lv for lv in EquipmentLive.objects.select_for_update().filter(pk__in=restored)})
        changed: list[EquipmentLive] = []
        for pk, live in lives.items():
            before = tuple(getattr(live, f) for f in LIVE_FIELDS)
            faults += _update_one(equipment, pk, live, per_eq.get(pk, []), received, maps, captured.clock_ahead.get(pk))
            if tuple(getattr(live, f) for f in LIVE_FIELDS) != before:
                changed.append(live)
            # "last data" is refreshed at most every 10 s, for all such equipment in one statement
            if live.last_ok_at is None or received - live.last_ok_at > LAST_OK_REFRESH:
                stale_ok.append(pk)
        _save_lives(changed)
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
    "state_raw",
    "state_unmapped",
    "clock_ahead_s",
)


def _save_lives(changed: list[EquipmentLive]) -> None:
    """One statement for the poll, not one per machine whose summary moved. On PostgreSQL an UPDATE
    ... FROM unnest(arrays) (bulk_update's CASE per row and field costs more CPU than the poll)."""
    if not changed:
        return
    fields = [*LIVE_FIELDS, "comm_changed_at"]
    if connection.vendor != "postgresql":
        EquipmentLive.objects.bulk_update(changed, fields)
        return
    meta = EquipmentLive._meta
    arrays = ", ".join(f"%s::{meta.get_field(f).db_type(connection)}[]" for f in fields)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {meta.db_table} AS l SET {', '.join(f'{f} = u.{f}' for f in fields)} "
            f"FROM unnest(%s::bigint[], {arrays}) AS u(pk, {', '.join(fields)}) WHERE l.equipment_id = u.pk",
            [[live.pk for live in changed]] + [[getattr(live, f) for live in changed] for f in fields],
        )


def _update_one(equipment, pk: int, live: EquipmentLive, readings, received, maps, clock_ahead) -> int:
    """Update `live` in memory (the caller saves the changed ones together); returns faults opened."""
    restored = live.comm_state == CommState.LOST
    live.comm_state, live.last_error = CommState.OK, ""
    alarm = state = None
    out_of_range = []
    for tag, sample in readings:
        value = sample.value
        if tag.kind == TagKind.STATE:
            state = (tag, sample)
        elif tag.kind == TagKind.ALARM:
            alarm = (tag, sample)
        elif tag.kind == TagKind.ALARM_CODE:
            live.alarm_code = str(int(value)) if value else ""
        elif tag.kind == TagKind.PROCESS:
            text = _limit_text(tag, float(value))
            if text:
                out_of_range.append(text)
    live.out_of_range = "; ".join(out_of_range)[:300]
    faults = _alarm(equipment, pk, live, alarm[1], received) if alarm is not None else 0
    if state is not None:
        faults += _state(equipment, pk, live, state, received, maps)
    _clock(pk, live, clock_ahead)
    if restored:
        live.comm_changed_at = received
        logbook_write(equipment=equipment[pk], kind=LogbookKind.COMMUNICATION, text=COMMUNICATION_RESTORED())
    return faults


def _state(equipment, pk: int, live: EquipmentLive, state, received, maps) -> int:
    """The machine's value through the equipment class's mapping. Fault (or Alarm) from any source
    opens a fault report (-> work order -> interlock) unless the alarm tag already did; an
    unmapped value is shown as such and alerted once."""
    tag, sample = state
    raw = sample.value
    mapped = maps.state(pk, raw)
    live.state_raw = str(raw)[:60]
    if mapped is None:
        if not live.state_unmapped:
            live.machine_state, live.machine_state_at = MachineState.UNKNOWN, sample.source_ts or received
            alert_raise(
                equipment_id=pk,
                tag_id=tag.pk,
                kind=CaptureAlertKind.UNMAPPED_STATE,
                detail=STATE_UNMAPPED % {"value": live.state_raw},
            )
        live.state_unmapped = True
        return 0
    if live.state_unmapped:
        live.state_unmapped = False
        alert_clear(
            equipment_id=pk,
            tag_id=tag.pk,
            kind=CaptureAlertKind.UNMAPPED_STATE,
            text=STATE_MAPPED % {"value": live.state_raw},
        )
    if mapped == live.machine_state:
        return 0
    live.machine_state, live.machine_state_at = mapped, sample.source_ts or received
    if mapped != MachineState.FAULT or live.alarm_active:
        return 0
    raised = sample.source_ts or received
    code = live.alarm_code or live.state_raw
    fault_report(
        equipment=equipment[pk],
        user=None,
        source=FaultSource.ALARM,
        alarm_code=code,
        alarm_key=f"state:{code}@{raised.isoformat()}",
        description=STATE_FAULT
        % {"value": live.state_raw, "when": timezone.localtime(raised).strftime("%Y-%m-%d %H:%M:%S")},
    )
    return 1


def _clock(pk: int, live: EquipmentLive, ahead: float | None) -> None:
    """One clock alert per equipment while its source times run ahead of our receipt."""
    if ahead is not None and live.clock_ahead_s is None:
        alert_raise(
            equipment_id=pk,
            kind=CaptureAlertKind.CLOCK,
            detail=CLOCK_AHEAD % {"s": round(ahead, 1)},
        )
        live.clock_ahead_s = round(ahead, 1)
    elif ahead is None and live.clock_ahead_s is not None:
        live.clock_ahead_s = None
        alert_clear(equipment_id=pk, kind=CaptureAlertKind.CLOCK, text=CLOCK_BACK())


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


def _alarm(equipment, pk: int, live: EquipmentLive, sample: Sample, received) -> int:
    """Rising edge of the alarm -> one fault report (keyed by code and the time it was raised).
    The equipment row is loaded only on an edge (`equipment[pk]`), not on every poll of every machine."""
    active = bool(sample.value)
    if active and not live.alarm_active:
        live.alarm_active = True
        raised = sample.source_ts or received
        code = live.alarm_code or "?"
        fault_report(
            equipment=equipment[pk],
            user=None,
            source=FaultSource.ALARM,
            alarm_code=code,
            alarm_key=f"{code}@{raised.isoformat()}",
            description=ALARM_RAISED % {"code": code, "when": timezone.localtime(raised).strftime("%Y-%m-%d %H:%M:%S")},
        )
        return 1
    if not active and live.alarm_active:
        live.alarm_active = False
        logbook_write(equipment=equipment[pk], kind=LogbookKind.FAULT, text=ALARM_CLEARED())
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
        .order_by("-id")  # receipt order: a machine clock that jumped cannot make an old value "latest"
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
def machine_values_record(*, equipment_code: str, by_kind: dict[str, object], source_ts: dt.datetime) -> PollResult:
    """Record values an equipment published itself (MQTT): matched to its active tags by tag kind,
    then handled exactly like an OPC UA poll (same storage rules, state mapping, clock check,
    alarms and faults -> fault reports). Values may be numbers or words (a state "Running").

    Raises LookupError when the equipment is unknown or has no active tag for any of the values
    (the caller words the refusal for its own users).
    """
    rows = list(
        EquipmentTag.objects.filter(
            equipment__code=equipment_code, equipment__active=True, active=True, kind__in=list(by_kind)
        )
        .order_by("id")
        .values_list(*TAG_LOOKUPS)
    )
    if not rows:
        raise LookupError(equipment_code)
    tags = [TagInfo(*row) for row in rows]
    received = timezone.now()
    samples: list[Sample | str] = [Sample(0, by_kind[t.kind], to_utc(source_ts), None) for t in tags]
    result = PollResult(f"push:{equipment_code}", ok=True, read=len(samples))
    captured = capture(tags, samples, received)
    result.stored, result.tag_errors = captured.stored, captured.tag_errors
    result.faults = _update_live(
        _EquipmentOnDemand(list(dict.fromkeys(t.equipment_id for t in tags))), tags, captured, received
    )
    return result
