"""The plant the load test runs against: the demo plant plus the earlier benches' generators, and
one running batch per load operator.

- `seed_demo` (through the services: users, recipes, equipment, lots, demo batches, audit trail);
- 50,000 production orders (bench_orders), 10,000 closed batches of this month with lots and
  ledger (bench_reports), a batch history of 10,000 batches x 20 steps x 10 parameters with 45
  batches waiting for review (bench_batches);
- `OPERATORS` operator accounts `loadop01..` (role operator, trained on the recipe) and `OFFICE`
  office accounts `loadoff01..` (QA, auditor, planner, analyst in turn), password DEMO_PASSWORD;
- one in-progress batch `LOAD001..` per operator with `STEPS` pending steps of `PARAMS`
  parameters each (every 5th step, from step 20 on, needs a second-person verification), steps
  scanned by their step code (no equipment, so 50 batches can run at once on a demo plant with a
  few machines).
  The operator is assigned to their own batch and to the next operator's (to verify it).

The bulk rows are COPYed (benchmark fixtures, not an application write path: no audit events for
them); users, training records and object permissions go through the ORM and are audited. All the
work done during the load run goes through the real pages.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os

# The capacity mode of `make load` seeds more operators (MES_LOAD_OPERATORS) and raises how many run.
OPERATORS = int(os.environ.get("MES_LOAD_OPERATORS", "50"))
OFFICE = 10
STEPS = 60
PARAMS = 5
OFFICE_ROLES = ("qa", "auditor", "planner", "analyst")


def operator_name(i: int) -> str:
    return f"loadop{i + 1:02d}"


def office_name(i: int) -> str:
    return f"loadoff{i + 1:02d}"


def batch_number(i: int) -> str:
    return f"LOAD{i + 1:03d}"


def _users(password_hash: str) -> tuple[list, list]:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    User = get_user_model()
    ops, office = [], []
    for i in range(OPERATORS):
        u = User.objects.create(username=operator_name(i), first_name="Load", last_name=f"Operator {i + 1}")
        u.password = password_hash
        u.save()
        u.groups.add(Group.objects.get(name="operator"))
        ops.append(u)
    for i in range(OFFICE):
        role = OFFICE_ROLES[i % len(OFFICE_ROLES)]
        u = User.objects.create(username=office_name(i), first_name="Office", last_name=f"{role} {i + 1}")
        u.password = password_hash
        u.save()
        u.groups.add(Group.objects.get(name=role))
        office.append(u)
    return ops, office


def _training(ops, recipe) -> None:
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from orders.models import TrainingRecord

    today = timezone.localdate()
    admin = get_user_model().objects.get(username="admin")
    for u in ops:
        TrainingRecord.objects.create(
            trainee=u,
            recipe=recipe,
            trained_on=today - dt.timedelta(days=30),
            valid_until=today + dt.timedelta(days=365),
            trainer="Load test fixture",
            recorded_by=admin,
        )


def _copy(cur, sql: str, rows) -> None:
    with cur.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


def _batches(recipe, starter) -> list[int]:
    """COPY one in-progress batch per operator with pending steps and empty entries."""
    from django.db import connection
    from django.utils import timezone

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
    with connection.cursor() as cur:
        cur.execute("SET session_replication_role = replica")  # a fixture load: guards off
        cur.execute("SELECT COALESCE(MAX(id), 0) FROM batches_batch")
        base = cur.fetchone()[0] + 1
        ids = [base + i for i in range(OPERATORS)]
        _copy(
            cur,
            "COPY batches_batch (id, number, product_id, line_id, planned_quantity, unit, status, created_at,"
            " recipe_id, review_round) FROM STDIN",
            ((bid, batch_number(i), recipe.product_id, None, "200", "kg", "in_progress", now, recipe.pk, 1)
             for i, bid in enumerate(ids)),
        )  # fmt: skip
        _copy(
            cur,
            "COPY batches_batchrecord (batch_id, snapshot, snapshot_hash, started_by_id, started_at,"
            " balance_summary, pdf_sha256) FROM STDIN",
            ((bid, snapshot, "0" * 64, starter.pk, now, "{}", "") for bid in ids),
        )
        cur.execute("SELECT COALESCE(MAX(id), 0) FROM batches_stepexecution")
        sbase = cur.fetchone()[0] + 1
        steps = [(sbase + b * STEPS + n, bid, n) for b, bid in enumerate(ids) for n in range(STEPS)]
        _copy(
            cur,
            "COPY batches_stepexecution (id, batch_id, number, title, title_zh, instruction, instruction_zh,"
            " equipment_class, duration_minutes, verifier_required, allow_parallel, status, start_how,"
            " same_person_refusals, material_check, material_exception, attempt, reopen_reason) FROM STDIN",
            ((sid, bid, (n + 1) * 10, f"Load step {n + 1}", f"负载工序 {n + 1}", "Do the step as written.",
              "按规程操作。", "", 30, n % 5 == 1, False, "pending", "", 0, "[]", "", 1, "") for sid, bid, n in steps),
        )  # fmt: skip
        cur.execute("SELECT setval(pg_get_serial_sequence('batches_stepexecution', 'id'), %s)", [sbase + len(steps)])
        cur.execute("SELECT setval(pg_get_serial_sequence('batches_batch', 'id'), %s)", [base + OPERATORS])
        _copy(
            cur,
            "COPY batches_entry (batch_id, step_id, kind, position, name, name_zh, unit, target, minimum,"
            " maximum, expected_answer, critical, equipment_tag, value, comment, how, machine_value,"
            " override_reason, deviation_ref, version) FROM STDIN",
            ((bid, sid, "parameter", p + 1, f"Parameter {p + 1}", f"参数 {p + 1}", "°C", "50", "40", "60", "",
              p == 0, "", "", "", "", "", "", "", 0) for sid, bid, _n in steps for p in range(PARAMS)),
        )  # fmt: skip
        cur.execute("SET session_replication_role = DEFAULT")
    return ids


def _assign(ops, batch_ids) -> None:
    from guardian.shortcuts import assign_perm

    from batches.models import Batch

    batches = list(Batch.objects.filter(pk__in=batch_ids).order_by("number"))
    for i, u in enumerate(ops):
        assign_perm("batches.execute_batch", u, batches[i])
        assign_perm("batches.execute_batch", u, batches[(i - 1) % len(batches)])  # verifies the neighbour's


def seed(stdout=None) -> dict:
    """Build the whole load plant in the current database; returns what was made (for the report)."""
    import time

    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connection

    from audit.context import audit_context
    from bench import bench_batches, bench_orders, bench_reports
    from mes.demo_accounts import DEMO_PASSWORD
    from orders.models import Recipe

    out = stdout or io.StringIO()
    timings = {}
    t = time.perf_counter()
    call_command("seed_demo", stdout=out)
    timings["seed_demo"] = time.perf_counter() - t
    t = time.perf_counter()
    bench_orders._make_orders()
    bench_reports.generate()
    live = bench_batches._history()
    timings["generators"] = time.perf_counter() - t
    t = time.perf_counter()
    recipe = Recipe.objects.filter(status="effective", product__code="IM-GRN-500").select_related("product").first()
    with audit_context(action="bench.load.setup", reason="load test fixture"):
        ops, _office = _users(make_password(DEMO_PASSWORD))
        _training(ops, recipe)
        ids = _batches(recipe, ops[0])
        _assign(ops, ids)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    timings["load_fixture"] = time.perf_counter() - t
    return {"history_live": len(live), "load_batches": len(ids), "operators": OPERATORS, "timings": timings}
