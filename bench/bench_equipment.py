"""Equipment: OPC UA ingestion into PostgreSQL and the live status board at plant scale.

- 200 equipment x 25 tags served by the bundled asyncua simulator on loopback.
- Ingestion throughput: back-to-back polls by one worker (read + deadband + insert), every value
  changing between polls (deadband 0), tag values stored per second of worker time.
- End-to-end lag at 1 Hz: the simulator updates every second on its own clock, the worker polls
  every second; lag = moment the reading is committed - the machine's source timestamp.
- Status board: the htmx tile fragment and the full page for 200 equipment, server time (median)
  and number of SQL queries.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import statistics
import subprocess
import sys
import time
from decimal import Decimal

from bench.fixture import fixture_cursor
from bench.run import ROOT, Figure

TITLE = "Equipment: OPC UA ingestion and status board"
N_EQUIPMENT = 200
EXTRA_TAGS = 17  # + the 8 standard tags = 25 per equipment
THROUGHPUT_POLLS = 15
LAG_SECONDS = 30
BOARD_RUNS = 25


def _plant(endpoint: str):
    """Classes, a line, 200 equipment (ORM, audited) and 5,000 tags (executemany: a bench fixture)."""

    from audit.context import audit_context
    from equipment.models import Equipment, EquipmentClass, EquipmentTag
    from equipment.opcua.config import LABELS
    from equipment.opcua.simulator import DEFAULT_TAGS, node_id
    from mes.seed import seed_plant

    seed_plant()
    from mes.models import Line

    lines = list(Line.objects.all())
    with audit_context(action="bench.setup"):
        cls, _ = EquipmentClass.objects.get_or_create(code="TPRS", defaults={"name": "Rotary tablet press"})
        today = dt.date.today()
        equipment = [
            Equipment.objects.create(
                code=f"BX-{i:03d}",
                name=f"Bench press {i}",
                equipment_class=cls,
                line=lines[i % len(lines)],
                opcua_endpoint=endpoint,
                calibration_interval_days=365,
                calibration_due_on=today + dt.timedelta(days=90),
                cleaned_at=dt.datetime.now(dt.UTC),
                ideal_rate_per_min=Decimal("3000"),
            )
            for i in range(N_EQUIPMENT)
        ]
    specs = [(k, kind, unit, low, high) for k, kind, unit, _sp, low, high, _n in DEFAULT_TAGS]
    specs += [(f"pv{i:02d}", "process", "", 10.0, 90.0) for i in range(1, EXTRA_TAGS + 1)]
    rows = [
        (eq.pk, key, LABELS.get(key, key), node_id(eq.code, key), kind, unit, 0.0, low, high, True, False)
        for eq in equipment
        for key, kind, unit, low, high in specs
    ]
    with fixture_cursor() as cur:
        cur.executemany(
            f"INSERT INTO {EquipmentTag._meta.db_table} (equipment_id, key, label, node_id, kind, unit, deadband, "
            "low_limit, high_limit, active, critical) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            rows,
        )
    return equipment


class SimulatorProcess:
    """`manage.py opcua_simulator` in its own process, as in the plant (no GIL shared with the worker)."""

    def __init__(self, ctx, endpoint: str, interval: float) -> None:
        env = {**os.environ, "DATABASE_URL": ctx.database_url, "DJANGO_SETTINGS_MODULE": "mes.settings"}
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "opcua_simulator",
                "--url",
                endpoint,
                "--interval",
                str(interval),
                "--seed",
                "1",
                "--fault-rate",
                "0.0005",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def wait_ready(self, endpoint: str) -> None:
        from equipment.opcua.link import reset_links
        from equipment.services import opcua_poll

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            reset_links()
            if opcua_poll(endpoint=endpoint)[0].ok:
                return
            time.sleep(0.5)
        raise RuntimeError("the OPC UA simulator did not start")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)


def _throughput(endpoint) -> tuple[float, float, float]:
    """Back-to-back polls while the simulator changes every value 4 times a second."""
    from equipment.services import opcua_poll

    stored = read = 0
    busy = 0.0
    for _ in range(THROUGHPUT_POLLS):
        time.sleep(0.25)  # let the simulator move every value at least once
        start = time.perf_counter()
        (result,) = opcua_poll(endpoint=endpoint)
        busy += time.perf_counter() - start
        assert result.ok, result.error
        stored += result.stored
        read += result.read
    return stored / busy, read / busy, busy / THROUGHPUT_POLLS


def _lag(endpoint) -> tuple[float, float, int, float]:
    """The simulator updating every second on its own clock; the worker polling every second."""
    from equipment.models import TagReading
    from equipment.services import opcua_poll

    windows = []
    began = dt.datetime.now(dt.UTC)
    next_poll = time.monotonic()
    end = next_poll + LAG_SECONDS
    while next_poll < end:
        time.sleep(max(0.0, next_poll - time.monotonic()))
        next_poll += 1.0
        t0 = dt.datetime.now(dt.UTC)
        (result,) = opcua_poll(endpoint=endpoint)
        windows.append((t0, dt.datetime.now(dt.UTC)))
        assert result.ok, result.error
    lags = []
    rows = TagReading.objects.filter(received_at__gte=began).values_list("received_at", "source_ts")
    w = 0
    for received, source in sorted(rows):
        while w < len(windows) - 1 and received > windows[w][1]:
            w += 1
        lags.append((windows[w][1] - source).total_seconds())
    lags.sort()
    poll_ms = statistics.median((b - a).total_seconds() * 1000 for a, b in windows)
    return lags[int(len(lags) * 0.99) - 1], statistics.median(lags), len(lags), poll_ms


def _board(equipment) -> tuple[float, float, int, int]:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from equipment.services import fault_report

    for eq in equipment[::10]:  # some blocked equipment with a reason to show
        fault_report(equipment=eq, user=None, description="Bench alarm", source="alarm", alarm_key=f"bench-{eq.pk}")
    user = get_user_model().objects.create_user("bench-operator", password="Bench-pass-2026!")
    user.groups.add(Group.objects.get(name="operator"))
    client = Client(HTTP_X_MES_BACKGROUND="1")
    client.force_login(user)
    times = {"tiles": [], "page": []}
    queries = {}
    for name, url in (("tiles", "/equipment/board/tiles/"), ("page", "/equipment/")):
        client.get(url)
        for _ in range(BOARD_RUNS):
            with CaptureQueriesContext(connection) as ctx:
                start = time.perf_counter()
                response = client.get(url)
                times[name].append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200 and response.content.count(b'class="eq-tile') == N_EQUIPMENT
            queries[name] = len(ctx.captured_queries)
    return statistics.median(times["tiles"]), statistics.median(times["page"]), queries["tiles"], queries["page"]


def run(ctx) -> list[Figure]:
    import logging

    from django.conf import settings

    from equipment.opcua.link import reset_links
    from equipment.opcua.simulator import free_port

    logging.getLogger("asyncua").setLevel(logging.ERROR)
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    endpoint = f"opc.tcp://127.0.0.1:{free_port()}/mes/bench"
    began = time.perf_counter()

    def phase(name):
        print(f"   .. {name} at {time.perf_counter() - began:.1f} s", flush=True)

    equipment = _plant(endpoint)
    phase("plant created")
    for interval, measure in ((0.25, "throughput"), (1.0, "lag")):
        sim = SimulatorProcess(ctx, endpoint, interval)
        try:
            sim.wait_ready(endpoint)
            phase(f"simulator ready (updates every {interval} s)")
            if measure == "throughput":
                rate, read_rate, per_poll = _throughput(endpoint)
            else:
                p99, median_lag, n, poll_ms = _lag(endpoint)
            phase(f"{measure} measured")
        finally:
            reset_links()
            sim.stop()
    tiles_ms, page_ms, tiles_q, page_q = _board(equipment)
    phase("board measured")
    tags = N_EQUIPMENT * (8 + EXTRA_TAGS)
    return [
        Figure(
            "OPC UA ingestion, one worker",
            rate,
            "values/s",
            ">= 5,000 values/s",
            rate >= 5000,
            f"{N_EQUIPMENT} equipment x 25 tags = {tags} tags; {per_poll * 1000:.0f} ms per full poll "
            f"(batched reads + deadband + insert); {read_rate:,.0f} values read/s; simulator in its own process",
        ),
        Figure(
            "End-to-end lag at 1 Hz, p99",
            p99,
            "s",
            "< 2 s",
            p99 < 2.0,
            f"median {median_lag:.2f} s over {n:,} stored values in {LAG_SECONDS} s (machine source time -> "
            f"committed in PostgreSQL); median poll {poll_ms:.0f} ms",
        ),
        Figure(
            "Status board fragment (htmx refresh), 200 equipment",
            tiles_ms,
            "ms median",
            "< 100 ms",
            tiles_ms < 100,
            f"{tiles_q} SQL queries (independent of the number of equipment)",
        ),
        Figure(
            "Status board full page, 200 equipment",
            page_ms,
            "ms median",
            "< 100 ms",
            page_ms < 100,
            f"{page_q} SQL queries",
        ),
    ]
