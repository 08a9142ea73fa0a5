"""Batch execution with a history of 10,000 batches x 20 steps x 10 parameters (2,000,000 entries).

Fixture: `seed_demo` (through the services), then the history rows are written with COPY in raw SQL
(a benchmark fixture, not an application write path). Measured in-process with Django's test client:
the operator's step page and a parameter entry (POST, validated, audited), the QC review-by-exception
page of a 20-step batch, and the batch record PDF of a 20-step batch (WeasyPrint, page count reported).
"""

from __future__ import annotations

import io
import json
import statistics
import time

TITLE = "Batch execution: operator step page, parameter entry, review by exception, batch record PDF"
BATCHES = 10_000
STEPS = 20
PARAMS = 10
RUNS = 25


def _history() -> list[int]:
    """COPY the history in; returns the ids of a few in-progress batches (steps active, entries empty)."""
    from django.db import connection
    from django.utils import timezone

    from orders.models import Recipe

    recipe = Recipe.objects.filter(status="effective", product__code="IM-GRN-500").select_related("product").first()
    from django.contrib.auth import get_user_model

    op = get_user_model().objects.get(username="operator")
    now = timezone.now()
    snapshot = json.dumps(
        {
            "product_code": recipe.product.code,
            "version": recipe.version,
            "title": recipe.title,
            "batch_size": str(recipe.batch_size),
            "unit": recipe.unit,
            "bom": [],
            "steps": [],
            "yield_min": "95",
            "yield_max": "100",
        }
    )
    live = 5
    with connection.cursor() as cur:
        cur.execute("SET session_replication_role = replica")  # a fixture load: guards off
        cur.execute("SELECT COALESCE(MAX(id), 0) FROM batches_batch")
        base = cur.fetchone()[0] + 1
        with cur.copy(
            "COPY batches_batch (id, number, product_id, line_id, planned_quantity, unit, status, created_at,"
            " recipe_id, review_round) FROM STDIN"
        ) as copy:
            for i in range(BATCHES):
                status = "in_progress" if i < live else ("under_review" if i < 50 else "archived")
                copy.write_row((base + i, f"H{i:06d}", recipe.product_id, None, "200", "kg", status, now, recipe.pk, 1))
        with cur.copy(
            "COPY batches_batchrecord (batch_id, snapshot, snapshot_hash, started_by_id, started_at,"
            " balance_summary, pdf_sha256) FROM STDIN"
        ) as copy:
            for i in range(BATCHES):
                copy.write_row((base + i, snapshot, "0" * 64, op.pk, now, "{}", ""))
        cur.execute("SELECT setval(pg_get_serial_sequence('batches_batch', 'id'), %s)", [base + BATCHES])
        cur.execute("SELECT COALESCE(MAX(id), 0) FROM batches_stepexecution")
        sbase = cur.fetchone()[0] + 1
        with cur.copy(
            "COPY batches_stepexecution (id, batch_id, number, title, title_zh, instruction, instruction_zh,"
            " equipment_class, duration_minutes, verifier_required, allow_parallel, status, started_by_id,"
            " started_at, start_how, performed_by_id, performed_at, same_person_refusals, material_check,"
            " material_exception, attempt, reopen_reason) FROM STDIN"
        ) as copy:
            for i in range(BATCHES):
                for n in range(STEPS):
                    done = i >= live
                    copy.write_row(
                        (
                            sbase + i * STEPS + n,
                            base + i,
                            (n + 1) * 10,
                            f"Step {n + 1}",
                            f"工序 {n + 1}",
                            "Do the step as written.",
                            "按规程操作。",
                            "",
                            30,
                            n % 5 == 0,
                            False,
                            "done" if done else "active",
                            op.pk,
                            now,
                            "scanned",
                            op.pk if done else None,
                            now if done else None,
                            0,
                            "[]",
                            "",
                            1,
                            "",
                        )
                    )
        cur.execute(
            "SELECT setval(pg_get_serial_sequence('batches_stepexecution', 'id'), %s)", [sbase + BATCHES * STEPS]
        )
        with cur.copy(
            "COPY batches_entry (batch_id, step_id, kind, position, name, name_zh, unit, target, minimum,"
            " maximum, expected_answer, critical, equipment_tag, value, numeric_value, in_range, comment,"
            " how, machine_value, override_reason, entered_by_id, entered_at, deviation_ref, version)"
            " FROM STDIN"
        ) as copy:
            for i in range(BATCHES):
                done = i >= live
                for n in range(STEPS):
                    for p in range(PARAMS):
                        out = done and (i + n + p) % 97 == 0
                        copy.write_row(
                            (
                                base + i,
                                sbase + i * STEPS + n,
                                "parameter",
                                p + 1,
                                f"Parameter {p + 1}",
                                f"参数 {p + 1}",
                                "°C",
                                "50",
                                "40",
                                "60",
                                "",
                                p == 0,
                                "",
                                ("65" if out else "50") if done else "",
                                ("65" if out else "50") if done else None,
                                (not out) if done else None,
                                "surge" if out else "",
                                "manual" if done else "",
                                "",
                                "",
                                op.pk if done else None,
                                now if done else None,
                                "",
                                1 if done else 0,
                            )
                        )
        cur.execute("SET session_replication_role = DEFAULT")
    return list(range(base, base + live))


def _median_ms(fn, runs=RUNS) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def run(ctx):
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from guardian.shortcuts import assign_perm

    from batches.models import Batch, Entry
    from batches.pdf import render_pdf
    from bench.run import Figure

    call_command("seed_demo", stdout=io.StringIO())
    t0 = time.perf_counter()
    live_ids = _history()
    gen_s = time.perf_counter() - t0
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    users = get_user_model().objects
    op = users.get(username="operator")
    batch = Batch.objects.get(pk=live_ids[0])
    assign_perm("batches.execute_batch", op, batch)
    client = Client()
    client.force_login(op)
    url = f"/batches/{batch.number}/step/10/"
    assert client.get(url).status_code == 200
    page_ms = _median_ms(lambda: client.get(url))
    with CaptureQueriesContext(connection) as q:
        client.get(url)
    page_queries = len(q)
    entries = iter(
        Entry.objects.filter(batch=batch).order_by("step__number", "position").values_list("pk", "step__number")
    )

    def post():
        pk, number = next(entries)
        r = client.post(
            f"/batches/{batch.number}/step/{number}/", {"op": "record", "entry": pk, "version": 0, "value": "51"}
        )
        assert r.status_code == 302

    entry_ms = _median_ms(post)
    assert Entry.objects.filter(batch=batch, value="51").count() == RUNS
    with CaptureQueriesContext(connection) as q:
        post()
    entry_queries = len(q)
    reset_queries()
    qc = Client()
    qc.force_login(users.get(username="qc"))
    reviewed = Batch.objects.filter(status="under_review", number__startswith="H").first()
    review_url = f"/batches/{reviewed.number}/review/"
    assert qc.get(review_url).status_code == 200
    review_ms = _median_ms(lambda: qc.get(review_url), runs=15)
    t = time.perf_counter()
    pdf, pages = render_pdf(reviewed)
    pdf_s = time.perf_counter() - t
    rows = BATCHES * STEPS * PARAMS
    note = (
        f"history {BATCHES:,} batches x {STEPS} steps x {PARAMS} parameters ({rows:,} entries), COPY in {gen_s:.0f} s"
    )
    return [
        Figure(
            "Operator step page (median)", page_ms, "ms", "< 100 ms", page_ms < 100, f"{page_queries} queries; {note}"
        ),
        Figure(
            "Parameter entry POST (median)",
            entry_ms,
            "ms",
            "< 100 ms",
            entry_ms < 100,
            f"{entry_queries} queries incl. redirect-free POST, audit event and history row",
        ),
        Figure("Review-by-exception page, 20-step batch (median)", review_ms, "ms", "< 200 ms", review_ms < 200, ""),
        Figure(
            "Batch record PDF, 20 steps x 10 parameters",
            pdf_s,
            "s",
            "< 5 s",
            pdf_s < 5,
            f"{pages} pages, {len(pdf) // 1024} KiB",
        ),
    ]
