"""Reports: the monthly production report over 10,000 batches (page and PDF) and the plant dashboard.

The generator bulk-loads (COPY) 10,000 batches of three products on three lines, all completed in
the current month (so the month-to-date dashboard reads all of them too): for each batch its
history rows (in progress -> completed -> closed; every 10th sent back for correction once), an
output lot and its "output" ledger entry. Batches have no production order (the bench does not
build orders; schedule adherence is then empty) and no eBR step executions or entries (the
generator does not build eBRs; the per-step query still runs, over 10,000 batch ids). It is a
benchmark fixture, not an app write path: no audit events are written for the generated rows.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import statistics
import time
import uuid

TITLE = "Reports: monthly production report and plant dashboard"

BATCHES = 10_000
PAGE_RUNS = 5
PDF_RUNS = 3
DASHBOARD_RUNS = 20


def _copy(cursor, table: str, columns: list[str], rows) -> None:
    buf = io.StringIO()
    for row in rows:
        buf.write("\t".join("\\N" if v is None else str(v) for v in row))
        buf.write("\n")
    # a fixture load, not an application write: triggers (the audit guards) off for this statement
    cursor.execute("SET session_replication_role = replica")
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        copy.write(buf.getvalue())
    cursor.execute("SET session_replication_role = DEFAULT")


def generate(seed: int = 9) -> None:
    from django.db import connection
    from django.utils import timezone

    from audit.context import audit_context
    from materials.models import Location, Material
    from mes.models import Line
    from mes.seed import seed_plant

    rng = random.Random(seed)
    seed_plant()
    with audit_context(action="bench.setup", reason="benchmark fixture"):
        products = [
            Material.objects.create(code=f"RP-{i}", name=f"Bench product {i}", name_zh=f"基准产品{i}",
                                    type="finished", unit="kg", shelf_life_days=700)
            for i in range(3)
        ]  # fmt: skip
        wh = Location.objects.create(code="RB-WH", name="Bench warehouse", name_zh="基准仓库", condition="ambient")
    lines = list(Line.objects.order_by("code").values_list("pk", flat=True))[:3]
    now = timezone.now()
    month_start = timezone.make_aware(dt.datetime.combine(timezone.localdate().replace(day=1), dt.time.min))
    span = max((now - month_start).total_seconds() - 7200, 3600)
    expiry = (dt.date.today() + dt.timedelta(days=700)).isoformat()
    connection.ensure_connection()
    with connection.connection.cursor() as cur:
        cur.execute("SELECT COALESCE(MAX(id), 0) FROM batches_batch")
        base = cur.fetchone()[0] + 1
        cur.execute("SELECT COALESCE(MAX(id), 0) FROM materials_lot")
        lot_base = cur.fetchone()[0] + 1
        batches, history, lots, entries = [], [], [], []
        for i in range(BATCHES):
            bid, lid = base + i, lot_base + i
            product, line = products[i % 3].pk, lines[i % len(lines)]
            planned = 100 + (i % 5) * 50
            actual = round(planned * rng.uniform(0.9, 1.0), 3)
            done = month_start + dt.timedelta(seconds=rng.uniform(3600, span))
            start = done - dt.timedelta(minutes=rng.randint(180, 600))
            created = start - dt.timedelta(hours=2)
            number = f"RB{i:06d}"
            batches.append((bid, number, product, line, planned, "kg", "closed", created.isoformat(), 0))
            states = [("planned", created), ("in_progress", start), ("completed", done)]
            if i % 10 == 0:
                states.append(("correction_requested", done + dt.timedelta(minutes=30)))
            states.append(("closed", done + dt.timedelta(hours=1)))
            for status, when in states:
                history.append((bid, number, planned, "kg", status, created.isoformat(), product, line,
                                when.isoformat(), "~" if status != "planned" else "+", 0))  # fmt: skip
            lots.append((lid, f"RBL{i:06d}", product, "quarantine", "", "", actual, "kg", 1, expiry, "", bid, "", "",
                         done.isoformat()))  # fmt: skip
            entries.append(("output", lid, wh.pk, bid, actual, actual, "kg", uuid.uuid4(), "", done.isoformat()))
        _copy(cur, "batches_batch", ["id", "number", "product_id", "line_id", "planned_quantity", "unit", "status",
                                     "created_at", "review_round"], batches)  # fmt: skip
        _copy(cur, "batches_historicalbatch", ["id", "number", "planned_quantity", "unit", "status", "created_at",
                                               "product_id", "line_id", "history_date", "history_type", "review_round"], history)  # fmt: skip
        _copy(cur, "materials_lot", ["id", "code", "material_id", "status", "supplier", "supplier_lot",
                                     "quantity_received", "unit", "containers", "expiry_date", "reference",
                                     "produced_by_id", "blocked_from", "status_reason", "received_at"], lots)  # fmt: skip
        _copy(cur, "materials_ledgerentry", ["entry_type", "lot_id", "location_id", "batch_id", "quantity", "delta",
                                             "unit", "movement", "reason", "created_at"], entries)  # fmt: skip
        for table in ("batches_batch", "materials_lot"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
        cur.execute("ANALYZE")
    connection.connection.commit() if not connection.get_autocommit() else None


def _client(role: str):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.test import Client

    user, created = get_user_model().objects.get_or_create(username=f"bench-{role}")
    if created:
        user.groups.add(Group.objects.get(name=role))
    client = Client()
    client.force_login(user)
    return client


def _time(client, url: str, runs: int, params: dict | None = None) -> tuple[list[float], object]:
    times, response = [], None
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(url, params or {})
        times.append(time.perf_counter() - start)
        assert response.status_code == 200, response.status_code
    return times, response


def run(ctx):
    from django.utils import timezone

    from bench.run import Figure

    started = time.perf_counter()
    generate()
    gen_s = time.perf_counter() - started
    today = timezone.localdate()
    period = {"start": today.replace(day=1).isoformat(), "end": today.isoformat()}
    client = _client("supervisor")
    page_t, page = _time(client, "/reports/view/production/", PAGE_RUNS, period)
    # every batch of the month is in the table (other sections of `make bench` may have added some)
    from reports.sources import Filters, batch_queryset

    in_month = batch_queryset(Filters(today.replace(day=1), today)).count()
    assert f"{in_month - 100} more rows" in page.content.decode(), "the batch table does not hold every batch"
    pdf_t, pdf = _time(client, "/reports/view/production/", PDF_RUNS, {**period, "format": "pdf"})
    assert pdf.content.startswith(b"%PDF")
    dash_t, _ = _time(client, "/reports/", DASHBOARD_RUNS)
    note = f"{BATCHES:,} batches in the month (generated in {gen_s:.0f} s); batches without orders or eBR steps"
    page_ms = statistics.median(page_t) * 1000
    pdf_s = statistics.median(pdf_t)
    dash_ms = statistics.median(dash_t) * 1000
    return [
        Figure("Monthly production report page (median)", page_ms, "ms", "< 1000 ms", page_ms < 1000, note),
        Figure("Monthly production report PDF (median)", pdf_s, "s", "< 5 s", pdf_s < 5,
               f"{len(pdf.content) // 1024} KiB; batch table cut to the first 100 rows, full list in CSV/Excel"),
        Figure("Plant dashboard (median of 20)", dash_ms, "ms", "< 200 ms", dash_ms < 200, "month to date, all 10,000 batches"),
    ]  # fmt: skip
