"""Materials: genealogy traces over a realistic plant history, and issue-to-batch throughput.

The generator bulk-loads (COPY) 100,000 lots and about 1,000,000 consumption edges across six lot
levels: raw lots (level 0) and five levels of batches, each batch consuming about 16 raw lots and
1-2 lots of the level below and making one output lot (levels 1-5; level 5 is finished goods).
A few "hot" raw lots (purified water, a common excipient) are used by hundreds of batches, so a
forward trace from them reaches thousands of lots. It is a benchmark fixture, not an app write
path: history and audit rows are not written for the generated rows.

Measured: backward trace of finished lots and forward trace of raw lots at the service layer
(p95, query count), the trace page (p95), and issue-to-batch throughput from 4 processes on a
shared pool of lots, with a deliberately scarce lot to prove stock never goes negative.
"""

from __future__ import annotations

import datetime as dt
import io
import multiprocessing as mp
import random
import statistics
import time
from decimal import Decimal

TITLE = "Materials: genealogy and issue to batch"

RAW_LOTS = 40_000
LEVEL_LOTS = [20_000, 14_000, 10_000, 8_000, 8_000]  # levels 1..5 (one batch per output lot)
RAW_PER_BATCH = 16
HOT_LOTS = 200
HOT_SHARE = 0.10
SAMPLES = 200
WORKERS = 4
ISSUES_PER_WORKER = 400
SCARCE_KG = 100


def p95(values: list[float]) -> float:
    values = sorted(values)
    return values[max(0, int(round(0.95 * len(values))) - 1)]


# --- generator ----------------------------------------------------------------------------------
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


def _check_batch_columns(cursor) -> None:
    """The generator fills the batch columns it knows; a new required column must be added here."""
    cursor.execute("""SELECT column_name FROM information_schema.columns WHERE table_name = 'batches_batch'
                      AND is_nullable = 'NO' AND column_default IS NULL AND is_identity = 'NO'""")
    unknown = {r[0] for r in cursor.fetchall()} - {
        "number",
        "product_id",
        "planned_quantity",
        "unit",
        "status",
        "created_at",
        "review_round",
    }
    if unknown:
        raise RuntimeError(f"bench generator: fill the new batches_batch columns {sorted(unknown)}")


def generate(seed: int = 7) -> dict:
    """Load the plant history; returns ids of finished, raw and hot lots for the samples."""
    from django.db import connection

    from audit.context import audit_context
    from materials.models import Material

    rng = random.Random(seed)
    with audit_context(action="bench.setup", reason="benchmark fixture"):
        raws = [
            Material.objects.create(
                code=f"BR-{i:03d}",
                name=f"Bench raw {i}",
                name_zh=f"基准原料{i}",
                type="raw",
                unit="kg",
                shelf_life_days=1000,
            )
            for i in range(50)
        ]
        products = [
            Material.objects.create(
                code=f"BP-{lvl}",
                name=f"Bench level {lvl}",
                name_zh=f"基准{lvl}级",
                type="finished" if lvl == 5 else "intermediate",
                unit="kg",
                shelf_life_days=700,
            )
            for lvl in range(1, 6)
        ]
    connection.ensure_connection()
    raw_conn = connection.connection
    now = dt.datetime.now(dt.UTC).isoformat()
    expiry = (dt.date.today() + dt.timedelta(days=900)).isoformat()
    started = time.perf_counter()
    with raw_conn.cursor() as cur:
        _check_batch_columns(cur)
        cur.execute("SELECT COALESCE(MAX(id), 0) FROM materials_lot")
        lot_base = cur.fetchone()[0] + 1
        cur.execute("SELECT COALESCE(MAX(id), 0) FROM batches_batch")
        batch_base = cur.fetchone()[0] + 1
        lot_cols = [
            "id",
            "code",
            "material_id",
            "status",
            "supplier",
            "supplier_lot",
            "quantity_received",
            "unit",
            "containers",
            "manufacture_date",
            "expiry_date",
            "retest_date",
            "reference",
            "produced_by_id",
            "blocked_from",
            "status_reason",
            "received_at",
            "received_by_id",
        ]
        lots, batches, edges = [], [], []
        raw_ids = list(range(lot_base, lot_base + RAW_LOTS))
        for i, lot_id in enumerate(raw_ids):
            lots.append(
                (
                    lot_id,
                    f"BR{i:07d}",
                    raws[i % len(raws)].pk,
                    "released",
                    "Bench supplier",
                    f"S{i}",
                    "1000.000",
                    "kg",
                    1,
                    None,
                    expiry,
                    None,
                    "",
                    None,
                    "",
                    "",
                    now,
                    None,
                )
            )
        hot = raw_ids[:HOT_LOTS]
        next_lot, next_batch = lot_base + RAW_LOTS, batch_base
        previous: list[int] = []
        levels: dict[int, list[int]] = {0: raw_ids}
        for level, count in enumerate(LEVEL_LOTS, start=1):
            product = products[level - 1]
            made = []
            for j in range(count):
                batch_id, lot_id = next_batch, next_lot
                next_batch += 1
                next_lot += 1
                batches.append((batch_id, f"BB{level}-{j:06d}", product.pk, "100.000", "kg", "released", now, 0))
                lots.append(
                    (
                        lot_id,
                        f"BL{level}-{j:06d}",
                        product.pk,
                        "released",
                        "",
                        "",
                        "98.000",
                        "kg",
                        1,
                        None,
                        expiry,
                        None,
                        "",
                        batch_id,
                        "",
                        "",
                        now,
                        None,
                    )
                )
                consumed = set()
                if previous:
                    consumed.update(rng.sample(previous, rng.choice((1, 2))))
                for _ in range(RAW_PER_BATCH):
                    consumed.add(rng.choice(hot) if rng.random() < HOT_SHARE else rng.choice(raw_ids))
                edges.extend((c, batch_id, now) for c in consumed)
                made.append(lot_id)
            levels[level] = made
            previous = made
        _copy(
            cur,
            "batches_batch",
            ["id", "number", "product_id", "planned_quantity", "unit", "status", "created_at", "review_round"],
            batches,
        )
        _copy(cur, "materials_lot", lot_cols, lots)
        _copy(cur, "materials_genealogyedge", ["lot_id", "batch_id", "created_at"], edges)
        cur.execute("SELECT setval(pg_get_serial_sequence('materials_lot', 'id'), (SELECT MAX(id) FROM materials_lot))")
        cur.execute("SELECT setval(pg_get_serial_sequence('batches_batch', 'id'), (SELECT MAX(id) FROM batches_batch))")
    # A loaded table is vacuumed as autovacuum would: the visibility map lets the walk read the
    # edges from the covering indexes alone.
    with raw_conn.cursor() as cur:
        for table in ("materials_lot", "materials_genealogyedge", "batches_batch"):
            cur.execute(f"VACUUM ANALYZE {table}")
    return {
        "lots": len(lots),
        "edges": len(edges),
        "batches": len(batches),
        "seconds": time.perf_counter() - started,
        "finished": levels[5],
        "raw": raw_ids,
        "hot": hot,
    }


# --- traces -------------------------------------------------------------------------------------
def _time_traces(ids: list[int], direction: str) -> tuple[list[float], list[int], int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from materials.genealogy import trace_lot
    from materials.models import Lot

    codes = dict(Lot.objects.filter(pk__in=ids).values_list("pk", "code"))
    times, reached = [], []
    for lot_id in ids:
        start = time.perf_counter()
        trace = trace_lot(codes[lot_id], direction)
        times.append((time.perf_counter() - start) * 1000)
        reached.append(trace.lot_count)
    with CaptureQueriesContext(connection) as ctx:
        trace_lot(codes[ids[0]], direction)
    return times, reached, len(ctx.captured_queries)


def _time_pages(codes: list[str], direction: str) -> list[float]:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.test import Client

    user, created = get_user_model().objects.get_or_create(username="bench-qc")
    if created:
        user.groups.add(Group.objects.get(name="qc"))
    client = Client()
    client.force_login(user)
    times = []
    for code in codes:
        start = time.perf_counter()
        response = client.get(f"/materials/lots/{code}/trace/?direction={direction}")
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.status_code
    return times


# --- issue throughput ----------------------------------------------------------------------------
def _prepare_issue(n_lots: int = 24) -> dict:
    """A pool of released lots with plenty of stock, one scarce lot, and 25 running batches per worker."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from audit.context import audit_context
    from batches.models import Batch
    from materials.models import Location, Material
    from materials.services import lot_receive, lot_release
    from quality.seed_evidence import inspection_pass

    users = get_user_model().objects
    password = "Bench-password-2026!"
    people = {}
    for name, role in (("bench-wh", "warehouse"), ("bench-qc2", "qc"), ("bench-qa2", "qa"), ("bench-op", "operator")):
        user = users.create_user(username=name, password=password)
        user.groups.add(Group.objects.get(name=role))
        people[role] = users.get(pk=user.pk)
    with audit_context(actor=people["warehouse"], action="bench.setup"):
        location = Location.objects.create(code="BENCH-WH", name="Bench store", condition="ambient")
        material = Material.objects.create(code="BI-API", name="Bench API", type="raw", unit="kg", shelf_life_days=900)
        product = Material.objects.create(
            code="BI-GRN", name="Bench granules", type="intermediate", unit="kg", shelf_life_days=90
        )
        batches = [
            Batch.objects.create(
                number=f"BI-{i:04d}", product=product, planned_quantity=100, unit="kg", status="in_progress"
            ).pk
            for i in range(WORKERS * 25)
        ]
    pool = []
    for i in range(n_lots + 1):
        qty = SCARCE_KG if i == n_lots else 1_000_000
        lot = lot_receive(
            user=people["warehouse"],
            material=material,
            quantity=qty,
            unit="kg",
            location=location,
            supplier="Bench",
            supplier_lot=f"B{i}",
        )
        # A lot is released only on a passed inspection against the effective specification.
        inspection_pass(lot=lot, qc=people["qc"], qa=people["qa"], password=password)
        lot_release(user=people["qc"], lot=lot, password=password)
        pool.append(lot.code)
    return {
        "user": people["operator"].pk,
        "material": material.pk,
        "batches": batches,
        "pool": pool[:-1],
        "scarce": pool[-1],
    }


def _issue_worker(args) -> dict:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.exceptions import ValidationError
    from django.db import connections

    from batches.models import Batch
    from materials.models import Material
    from materials.services import lot_issue_to_batch

    index, setup, start_at = args
    rng = random.Random(index)
    user = get_user_model().objects.get(pk=setup["user"])
    material = Material.objects.get(pk=setup["material"])
    mine = list(Batch.objects.filter(pk__in=setup["batches"][index * 25 : (index + 1) * 25]))
    done = refused = scarce_ok = 0
    while time.time() < start_at:
        time.sleep(0.001)
    started, cpu = time.perf_counter(), time.process_time()
    for i in range(ISSUES_PER_WORKER):
        scarce = i % 10 == 0
        code = setup["scarce"] if scarce else rng.choice(setup["pool"])
        try:
            lot_issue_to_batch(
                user=user,
                batch=rng.choice(mine),
                lot_code=code,
                quantity=Decimal(1),
                unit="kg",
                material=material,
                required_quantity=Decimal(1_000_000),
                tolerance_pct=100,
            )
            done += 1
            scarce_ok += scarce
        except ValidationError:
            refused += 1
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    connections.close_all()
    return {"done": done, "refused": refused, "scarce_ok": scarce_ok, "elapsed": elapsed, "cpu": cpu}


def _measure_issue() -> dict:
    from django.db import connection, connections

    from materials.services import stock_check

    setup = _prepare_issue()
    connections.close_all()
    start_at = time.time() + 3
    ctx = mp.get_context("spawn")
    wall = time.perf_counter()
    with ctx.Pool(WORKERS) as pool:
        results = pool.map(_issue_worker, [(i, setup, start_at) for i in range(WORKERS)])
    wall = time.perf_counter() - wall - max(0.0, start_at - time.time())
    issued = sum(r["done"] for r in results)
    busiest = max(r["elapsed"] for r in results)
    with connection.cursor() as cursor:
        cursor.execute("SELECT MIN(quantity) FROM materials_stockbalance")
        minimum = cursor.fetchone()[0]
        cursor.execute(
            "SELECT b.quantity FROM materials_stockbalance b JOIN materials_lot l ON l.id = b.lot_id WHERE l.code = %s",
            [setup["scarce"]],
        )
        scarce_left = cursor.fetchone()[0]
    cpu_ms = 1000 * sum(r["cpu"] for r in results) / (issued + sum(r["refused"] for r in results))
    return {
        "rate": issued / busiest,
        "cpu_ms": cpu_ms,
        "issued": issued,
        "refused": sum(r["refused"] for r in results),
        "scarce_ok": sum(r["scarce_ok"] for r in results),
        "min_balance": minimum,
        "scarce_left": scarce_left,
        "mismatches": len(stock_check()),
    }


# --- the benchmark -------------------------------------------------------------------------------
def run(ctx) -> list:
    from bench.run import Figure

    data = generate()
    rng = random.Random(11)
    finished = rng.sample(data["finished"], SAMPLES)
    raws = rng.sample(data["raw"][HOT_LOTS:], SAMPLES // 2) + rng.sample(data["hot"], SAMPLES // 2)
    _time_traces(finished[:20], "backward")  # warm the cache, as a running plant's would be
    back, back_reached, back_q = _time_traces(finished, "backward")
    fwd, fwd_reached, fwd_q = _time_traces(raws, "forward")
    from materials.models import Lot

    codes = dict(Lot.objects.filter(pk__in=finished[:50] + data["hot"][:20]).values_list("pk", "code"))
    page_back = _time_pages([codes[i] for i in finished[:50]], "backward")
    page_fwd = _time_pages([codes[i] for i in data["hot"][:20]], "forward")
    issue = _measure_issue()
    fixture = (
        f"{data['lots']:,} lots, {data['edges']:,} consumption edges, {data['batches']:,} batches, "
        f"6 lot levels; loaded with COPY in {data['seconds']:.1f} s"
    )
    return [
        Figure(
            "Backward trace of a finished lot (6 levels), p95",
            p95(back),
            "ms",
            "< 10 ms",
            p95(back) < 10,
            f"{SAMPLES} finished lots; median {statistics.median(back):.2f} ms; lots reached median "
            f"{statistics.median(back_reached):.0f}, max {max(back_reached)}; {back_q} queries. {fixture}",
        ),
        Figure(
            "Forward trace of a raw lot, p95",
            p95(fwd),
            "ms",
            "< 50 ms",
            p95(fwd) < 50 and max(fwd_reached) <= 5000,
            f"{SAMPLES} raw lots (half of them heavily used); median {statistics.median(fwd):.2f} ms; lots "
            f"reached median {statistics.median(fwd_reached):.0f}, max {max(fwd_reached)}; {fwd_q} queries",
        ),
        Figure(
            "Trace queries per trace (any tree size)",
            max(back_q, fwd_q),
            "queries",
            "<= 3",
            max(back_q, fwd_q) <= 3,
            "the lot, then one WITH RECURSIVE query (dispensed containers joined in)",
        ),
        Figure(
            "Backward trace page, p95",
            p95(page_back),
            "ms",
            "< 200 ms",
            p95(page_back) < 200,
            "50 finished lots, full request through the Django test client (session, permissions, render)",
        ),
        Figure(
            "Forward trace page of a heavily used raw lot, p95",
            p95(page_fwd),
            "ms",
            "< 200 ms",
            p95(page_fwd) < 200,
            f"20 raw lots each used by hundreds of batches (max {max(fwd_reached)} lots)",
        ),
        Figure(
            "Issue to batch from 4 processes",
            issue["rate"],
            "issues/s",
            ">= 200/s",
            issue["rate"] >= 200,
            f"{issue['issued']:,} issues, {issue['refused']} refused (scarce lot empty); each issue audited; "
            f"{issue['cpu_ms']:.1f} ms of worker CPU per issue (plus PostgreSQL's). "
            f"Scarce lot of {SCARCE_KG} kg: {issue['scarce_ok']} issues of 1 kg accepted, {issue['scarce_left']} kg "
            f"left; lowest balance {issue['min_balance']}; ledger/cache mismatches {issue['mismatches']}",
        ),
    ]
