"""Order list page with 50,000 orders: filtered and paginated, median server time and query count.

The fixture data is made fast: the demo plant and recipes come from `seed_demo` (through the
services), then 50,000 orders are inserted with one executemany in raw SQL (a benchmark fixture,
not an application write path). The page is then requested in-process with Django's test client
as a logged-in planner; the figure is the median time from request to rendered response.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import statistics
import time

from bench.fixture import fixture_cursor

TITLE = "Production orders: planner's order list (50,000 orders)"
ORDERS = 50_000
RUNS = 25
TARGET_MS = 100.0


def _make_orders() -> None:
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from mes.models import Line
    from orders.models import Recipe

    planner = get_user_model().objects.get(username="planner")
    recipes = list(Recipe.objects.filter(status="effective").select_related("product"))
    lines = list(Line.objects.all())
    statuses = [
        "draft",
        "submitted",
        "returned",
        "approved",
        "released",
        "in_progress",
        "completed",
        "closed",
        "cancelled",
    ]
    weights = [5, 5, 1, 4, 6, 4, 10, 60, 5]
    rng = random.Random(42)  # noqa: S311 - reproducible fixture data
    now = timezone.now()
    rows = []
    for i in range(ORDERS):
        recipe = rng.choice(recipes)
        start = now - dt.timedelta(days=rng.randint(-30, 1500), hours=rng.randint(0, 23))
        rows.append(
            (
                f"PO-B{i:07d}",
                recipe.product_id,
                recipe.pk,
                recipe.batch_size * rng.randint(1, 4),
                recipe.unit,
                start,
                start + dt.timedelta(hours=20),
                rng.choice(lines).pk,
                rng.randint(1, 4),
                f"ERP-B-{i:07d}" if i % 3 == 0 else "",
                2,
                "",
                rng.choices(statuses, weights)[0],
                1,
                planner.pk,
                None,
                now,
            )
        )
    sql = (
        "INSERT INTO orders_productionorder (number, product_id, recipe_id, planned_quantity, unit, planned_start, "
        "planned_end, line_id, priority, erp_reference, operators_required, resource_notes, status, revision, "
        "created_by_id, submitted_by_id, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, "
        "%s, %s, %s, %s)"
    )
    with fixture_cursor() as cursor:
        cursor.executemany(sql, rows)
        cursor.execute("ANALYZE orders_productionorder")


def _measure(client, url: str, params: dict) -> tuple[float, int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times = []
    queries = 0
    for _ in range(RUNS):
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            response = client.get(url, params)
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
        queries = len(ctx.captured_queries)
    rows = response.content.count(b'data-order="')
    return statistics.median(times), queries, rows


def run(ctx) -> list:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client
    from django.urls import reverse

    from bench.run import Figure
    from materials.models import Material
    from mes.models import Line
    from orders.models import ProductionOrder

    call_command("seed_demo", stdout=io.StringIO())
    started = time.perf_counter()
    _make_orders()
    load_s = time.perf_counter() - started
    total = ProductionOrder.objects.count()

    client = Client()
    client.force_login(get_user_model().objects.get(username="planner"))
    url = reverse("orders:order_list")
    client.get(url)  # warm up templates and caches
    line = Line.objects.get(code="P1")
    product = Material.objects.get(code="FG-MET-500")
    today = dt.date.today()
    scenarios = [
        ("first page, no filter", {}),
        ("status = closed, page 40", {"status": "closed", "page": 40}),
        ("status + line + product", {"status": "released", "line": line.pk, "product": product.pk}),
        (
            "line + product + start dates (1 year)",
            {
                "line": line.pk,
                "product": product.pk,
                "start_from": (today - dt.timedelta(days=365)).isoformat(),
                "start_to": today.isoformat(),
            },
        ),
        ("search by ERP reference", {"q": "ERP-B-0012345"}),
        ("last page, no filter", {"page": 2000}),
    ]
    figures = []
    for name, params in scenarios:
        median_ms, queries, rows = _measure(client, url, params)
        figures.append(
            Figure(
                f"Order list, {name}: median server time",
                median_ms,
                "ms",
                f"< {TARGET_MS:.0f} ms",
                median_ms < TARGET_MS,
                f"{rows} rows on the page, {RUNS} requests, {total:,} orders",
            )
        )
        figures.append(
            Figure(f"Order list, {name}: queries per request", queries, "queries", "≤ 15, constant", queries <= 15)
        )
    figures.append(Figure("Fixture: 50,000 orders inserted", load_s, "s", "fixture only", True, "raw executemany"))
    return figures
