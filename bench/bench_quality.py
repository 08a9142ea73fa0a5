"""Quality at plant scale: 60,000 deviations with 180,000 links and 30,000 CAPAs.

What the release service and the batch review ask most often is "which open deviations are linked to
this batch / lot?" (`open_deviations_for`), and QA and QC live on the deviation list and the CAPA board.
The fixture is made fast: the demo plant through `seed_demo` (the services), then the deviations, links
and CAPAs with executemany in raw SQL (a benchmark fixture, not an application write path). Figures are
medians of in-process requests / calls.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import statistics
import time

from bench.fixture import fixture_cursor

TITLE = "Quality: open deviations of a record, deviation list and CAPA board (60,000 deviations)"
DEVIATIONS = 60_000
LINKS_PER = 3
CAPAS = 30_000
RUNS = 25
TARGET_LOOKUP_MS = 5.0
TARGET_PAGE_MS = 150.0


def _make_fixture() -> None:
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    users = list(get_user_model().objects.filter(groups__isnull=False).values_list("pk", flat=True))
    rng = random.Random(7)  # noqa: S311 - reproducible fixture data
    now = timezone.now()
    sources = ["manual", "parameter", "oos", "yield", "equipment", "scan"]
    classes = ["minor", "minor", "minor", "major", "critical"]
    devs, links, capas = [], [], []
    for i in range(DEVIATIONS):
        status = "closed" if rng.random() < 0.93 else rng.choice(["open", "investigating", "capa_pending"])
        raised = now - dt.timedelta(days=rng.randint(0, 1800), minutes=rng.randint(0, 1440))
        closed = status == "closed"
        devs.append(
            (
                f"DEV-B-{i:06d}",
                f"Bench deviation {i}",
                "Generated for the benchmark.",
                rng.choice(sources),
                rng.choice(classes),
                status,
                rng.choice(users),
                raised,
                "cause" if status in ("capa_pending", "closed") else "",
                "none" if status in ("capa_pending", "closed") else "",
                "closed" if closed else "",
                rng.choice(users) if closed else None,
                raised + dt.timedelta(days=10) if closed else None,
            )
        )
    with fixture_cursor() as cursor:
        cursor.executemany(
            "INSERT INTO quality_deviation (number, title, description, source, classification, status, raised_by_id, "
            "raised_at, root_cause, impact_assessment, closure_summary, closed_by_id, closed_at) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            devs,
        )
        cursor.execute("SELECT id FROM quality_deviation WHERE number LIKE 'DEV-B-%%' ORDER BY id")
        ids = [row[0] for row in cursor.fetchall()]
        for dev_id in ids:
            batch = rng.randint(1, 40_000)
            links.append((dev_id, "batches.batch", str(batch), f"B-{batch}"))
            lot = rng.randint(1, 120_000)
            links.append((dev_id, "materials.lot", str(lot), f"L-{lot}"))
            eq = rng.randint(1, 400)
            links.append((dev_id, "equipment.equipment", str(eq), f"EQ-{eq}"))
        cursor.executemany(
            "INSERT INTO quality_deviationlink (deviation_id, object_type, object_id, label) VALUES (%s, %s, %s, %s)",
            links,
        )
        today = timezone.localdate()
        for i in range(CAPAS):
            status = "closed" if rng.random() < 0.9 else rng.choice(["open", "in_progress", "effectiveness_check"])
            due = today + dt.timedelta(days=rng.randint(-1500, 60))
            capas.append(
                (
                    f"CAPA-B-{i:06d}",
                    rng.choice(ids),
                    rng.choice(["corrective", "preventive"]),
                    "Bench action",
                    rng.choice(users),
                    due,
                    "",
                    "",
                    status,
                    rng.choice(users),
                    now,
                    now - dt.timedelta(days=rng.randint(0, 1500)) if status == "closed" else None,
                )
            )
        cursor.executemany(
            "INSERT INTO quality_capa (number, deviation_id, kind, action, owner_id, due_date, evidence, effectiveness, "
            "status, created_by_id, created_at, closed_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            capas,
        )
        for table in ("quality_deviation", "quality_deviationlink", "quality_capa"):
            cursor.execute(f"ANALYZE {table}")


def _median_ms(call) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _page(client, url: str, params: dict | None = None) -> tuple[float, int]:
    from django.db import connection

    client.get(url, params or {})  # warm up
    executed = []

    def count(execute, sql, params, many, context):
        executed.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        response = client.get(url, params or {})
    assert response.status_code == 200, response.status_code
    return _median_ms(lambda: client.get(url, params or {})), len(executed)


def run(ctx) -> list:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    from batches.models import Batch
    from bench.run import Figure
    from quality.selectors import open_deviations_for
    from quality.services.release import batch_release_check

    call_command("seed_demo", stdout=io.StringIO())
    started = time.perf_counter()
    _make_fixture()
    load_s = time.perf_counter() - started
    figures = []
    rng = random.Random(11)  # noqa: S311
    keys = [("batches.batch", rng.randint(1, 40_000)) for _ in range(RUNS)]
    it = iter(keys * 2)
    lookup = _median_ms(lambda: list(open_deviations_for(*next(it))))
    figures.append(
        Figure(
            "open_deviations_for(batch): median",
            lookup,
            "ms",
            f"< {TARGET_LOOKUP_MS:.0f} ms",
            lookup < TARGET_LOOKUP_MS,
            f"{DEVIATIONS:,} deviations, {DEVIATIONS * LINKS_PER:,} links, index (object_type, object_id)",
        )
    )
    batch = Batch.objects.filter(number="MET500-DEMO-01").first()
    if batch is not None:
        check = _median_ms(lambda: batch_release_check(batch))
        figures.append(Figure("batch_release_check (all five conditions): median", check, "ms", "< 50 ms", check < 50))
    client = Client()
    client.force_login(get_user_model().objects.get(username="qa"))
    for name, url, params in [
        ("deviation list, open (default)", "/quality/deviations/", {}),
        ("deviation list, all, page 100", "/quality/deviations/", {"status": "all", "page": 100}),
        (
            "deviation list, major + OOS",
            "/quality/deviations/",
            {"status": "all", "classification": "major", "source": "oos"},
        ),
        ("deviation list, search by batch label", "/quality/deviations/", {"status": "all", "q": "B-12345"}),
        ("CAPA board", "/quality/capa/", {}),
    ]:
        ms, queries = _page(client, url, params)
        figures.append(
            Figure(f"{name}: median server time", ms, "ms", f"< {TARGET_PAGE_MS:.0f} ms", ms < TARGET_PAGE_MS)
        )
        figures.append(Figure(f"{name}: queries per request", queries, "queries", "≤ 15, constant", queries <= 15))
    figures.append(
        Figure("Fixture: deviations, links and CAPAs inserted", load_s, "s", "fixture only", True, "raw executemany")
    )
    return figures
