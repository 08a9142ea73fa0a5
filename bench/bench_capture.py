"""Equipment data capture at plant scale with two poller workers (issue 23).

- 6,000 tags: 240 equipment x 25 tags on two OPC UA endpoints (two simulator processes updating
  every second), polled by two worker processes ticking every second, as two Celery workers with
  the beat task would. The per-endpoint lock lets only one of them poll an endpoint at a time.
- Figures: stored values/s, lag p99 and max (receipt minus the machine's source time), polls
  skipped because the other worker held the endpoint, readings within the deadband of the
  previous one (must be 0: the deadband memory is shared), "lost"/"restored" entries (must be 0).
- Second run: the same, plus one tag with an unknown node id and a third endpoint that accepts
  connections and never answers.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from decimal import Decimal

from bench.bench_equipment import SimulatorProcess
from bench.fixture import fixture_cursor
from bench.run import ROOT, Figure

TITLE = "Equipment capture: 6,000 tags, two workers"
N_EQUIPMENT = 240
EXTRA_TAGS = 17
SECONDS = 60


def _plant(endpoints: list[str]):

    from audit.context import audit_context
    from equipment.models import Equipment, EquipmentClass, EquipmentTag
    from equipment.opcua.config import LABELS
    from equipment.opcua.simulator import DEFAULT_TAGS, node_id
    from mes.models import Line
    from mes.seed import seed_plant

    seed_plant()
    line = Line.objects.first()
    with audit_context(action="bench.setup"):
        cls, _ = EquipmentClass.objects.get_or_create(code="CAPT", defaults={"name": "Capture bench press"})
        equipment = [
            Equipment.objects.create(
                code=f"CX-{i:03d}",
                name=f"Capture press {i}",
                equipment_class=cls,
                line=line,
                opcua_endpoint=endpoints[i % len(endpoints)],
                calibration_interval_days=365,
                calibration_due_on=dt.date.today() + dt.timedelta(days=90),
                cleaned_at=dt.datetime.now(dt.UTC),
                ideal_rate_per_min=Decimal("3000"),
            )
            for i in range(N_EQUIPMENT)
        ]
    specs = [(k, kind, unit, low, high) for k, kind, unit, _sp, low, high, _n in DEFAULT_TAGS]
    specs += [(f"pv{i:02d}", "process", "", 10.0, 90.0) for i in range(1, EXTRA_TAGS + 1)]
    deadband = {"temperature": 0.2, "pressure": 0.005, "speed": 0.5}
    rows = [
        (eq.pk, key, LABELS.get(key, key), node_id(eq.code, key), kind, unit,
         deadband.get(key, 0.2 if kind == "process" else 0.0), low, high, True, False)
        for eq in equipment
        for key, kind, unit, low, high in specs
    ]  # fmt: skip
    with fixture_cursor() as cur:  # a bench fixture: 6,000 rows at once
        cur.executemany(
            f"INSERT INTO {EquipmentTag._meta.db_table} (equipment_id, key, label, node_id, kind, unit, deadband, "
            "low_limit, high_limit, active, critical) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            rows,
        )
    return equipment


def _workers(ctx, seconds: float) -> None:
    env = {**os.environ, "DATABASE_URL": ctx.database_url, "DJANGO_SETTINGS_MODULE": "mes.settings"}
    procs = [
        subprocess.Popen([sys.executable, "bench/capture_worker.py", str(seconds)], cwd=ROOT, env=env) for _ in range(2)
    ]
    for proc in procs:
        proc.wait(seconds + 120)


def _polls() -> dict[str, int]:
    from equipment.models import EndpointHealth

    return dict(EndpointHealth.objects.values_list("url", "polls"))


def _measure(since: dt.datetime, seconds: float, polls_before: dict[str, int]) -> dict:
    from django.db import connection

    from equipment.models import EndpointHealth, LogbookEntry, TagReading
    from equipment.services.monitoring import polled_tags

    with connection.cursor() as cur:
        cur.execute(
            f"SELECT percentile_cont(0.99) WITHIN GROUP (ORDER BY lag), max(lag), count(*) FROM ("
            f"SELECT extract(epoch FROM received_at - source_ts) AS lag FROM {TagReading._meta.db_table} "
            "WHERE received_at >= %s AND NOT clock_suspect AND status_code = 0) x",
            [since],
        )
        p99, worst, stored = cur.fetchone()
        cur.execute(
            f"SELECT count(*) FROM (SELECT r.value, r.status_code, t.deadband, "
            "lag(r.value) OVER w AS prev, lag(r.status_code) OVER w AS prev_status "
            f"FROM {TagReading._meta.db_table} r JOIN equipment_equipmenttag t ON t.id = r.tag_id "
            "WHERE r.received_at >= %s WINDOW w AS (PARTITION BY r.tag_id ORDER BY r.id)) x "
            "WHERE prev IS NOT NULL AND status_code = prev_status AND abs(value - prev) <= deadband",
            [since],
        )
        (within,) = cur.fetchone()
    comm = LogbookEntry.objects.filter(at__gte=since, kind="communication").exclude(text__contains="not captured")
    health = list(EndpointHealth.objects.all())
    sizes = {url: len(tags) for url, tags in polled_tags().items()}
    read = sum((h.polls - polls_before.get(h.url, 0)) * sizes.get(h.url, 0) for h in health if h.connected)
    return {
        "read": read / seconds,
        "rate": stored / seconds,
        "p99": float(p99 or 0),
        "max": float(worst or 0),
        "stored": stored,
        "within": within,
        "comm": comm.count(),
        "skipped": sum(h.skipped_polls for h in health),
        "health": health,
    }


def run(ctx) -> list[Figure]:
    import logging

    from audit.context import audit_context
    from equipment.models import CaptureAlert, EndpointHealth, EquipmentTag, TagState
    from equipment.opcua.simulator import HangingServer, free_port
    from mes.changecontrol import controlled_writes

    logging.getLogger("asyncua").setLevel(logging.CRITICAL)
    endpoints = [f"opc.tcp://127.0.0.1:{free_port()}/mes/capture{n}" for n in (1, 2)]
    equipment = _plant(endpoints)
    sims = [SimulatorProcess(ctx, url, 1.0) for url in endpoints]
    figures = []
    try:
        for url, sim in zip(endpoints, sims, strict=True):
            sim.wait_ready(url)
        since, polls = dt.datetime.now(dt.UTC), _polls()
        _workers(ctx, SECONDS)
        clean = _measure(since, SECONDS, polls)
        # second run: one bad tag, one hanging endpoint with one equipment on it
        hung = HangingServer()
        with audit_context(action="bench.setup"), controlled_writes("bench fixture: a hanging endpoint"):
            bad = EquipmentTag.objects.create(
                equipment=equipment[0], key="ghost", node_id="ns=2;s=CX-000.ghost", kind="process"
            )
            stuck = equipment[-1]
            stuck.opcua_endpoint = hung.url
            stuck.save()
        before = {h.url: h.skipped_polls for h in EndpointHealth.objects.all()}
        since, polls = dt.datetime.now(dt.UTC), _polls()
        try:
            _workers(ctx, SECONDS)
        finally:
            hung.close()
        faulty = _measure(since, SECONDS, polls)
        faulty["skipped"] -= sum(before.values())
        bad_rows = bad.readings.count()
        bad_error = TagState.objects.get(tag=bad).error
        alerts = CaptureAlert.objects.filter(tag=bad).count()
    finally:
        for sim in sims:
            sim.stop()
    tags = N_EQUIPMENT * (8 + EXTRA_TAGS)
    for name, m, extra in (
        ("clean", clean, ""),
        (
            "one bad tag + one hanging endpoint",
            faulty,
            f"; bad tag: {bad_rows} rows stored, {alerts} alert, error “{bad_error[:60]}”",
        ),
    ):
        note = (
            f"{tags:,} tags on 2 endpoints, 2 workers x {SECONDS} s at 1 Hz; {m['stored']:,} values stored "
            f"({m['rate']:,.0f}/s, the rest within their deadband); "
            f"lag max {m['max']:.2f} s; {m['skipped']} polls skipped (other worker held the endpoint); "
            f"{m['within']} rows within the deadband of the previous; {m['comm']} lost/restored entries{extra}"
        )
        figures.append(Figure(f"Values read, two workers, {name}", m["read"], "values/s", ">= 5,000 values/s",
                              m["read"] >= 5000, note))  # fmt: skip
        figures.append(Figure(f"Lag p99, {name}", m["p99"], "s", "< 2 s", m["p99"] < 2.0, "receipt - source time"))
        figures.append(Figure(f"Rows within deadband, {name}", m["within"], "rows", "0", m["within"] == 0, ""))
    return figures
