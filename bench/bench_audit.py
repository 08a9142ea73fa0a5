"""Audit trail: append rate under concurrency, cost of an audited save, verification rate."""

from __future__ import annotations

import io
import multiprocessing as mp
import os
import statistics
import time

from bench.run import Figure

TITLE = "Audit trail (issue 2)"
PROCESSES, EVENTS_PER_PROCESS = 4, 1500
SAVES = 600
VERIFY_EVENTS = 300_000


def _writer(n: int, barrier) -> None:
    import django

    django.setup()
    from django.db import transaction

    from audit.services import audit_record

    barrier.wait()
    for i in range(EVENTS_PER_PROCESS):
        with transaction.atomic():
            audit_record(action="bench.event", object_type="bench.thing", object_id=f"{n}-{i}", new={"i": i})


def append_rate() -> tuple[float, bool]:
    from audit.verification import verify_chain

    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(PROCESSES + 1)
    procs = [ctx.Process(target=_writer, args=(n, barrier)) for n in range(PROCESSES)]
    for p in procs:
        p.start()
    barrier.wait()
    started = time.perf_counter()
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - started
    return PROCESSES * EVENTS_PER_PROCESS / elapsed, verify_chain().ok


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[18] * 1000


def save_costs() -> tuple[float, float, float, float]:
    """p95 and median (ms) of an audited GMP save vs an unaudited single-row save, each in a transaction."""
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from audit.context import audit_context
    from materials.models import Material
    from mes.models import UserSecurity

    user = get_user_model().objects.create_user("bench-user", password="x" * 12)
    with audit_context(actor=user):
        material = Material.objects.create(code="BENCH-1", name="Bench", type="raw", unit="kg")
    plain = UserSecurity.objects.create(user=user)
    audited, unaudited = [], []
    for i in range(SAVES):
        t0 = time.perf_counter()
        with transaction.atomic(), audit_context(actor=user, reason="bench"):
            material.name = f"Bench {i}"
            material.save()
        audited.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        with transaction.atomic():
            plain.failed_attempts = i
            plain.save()
        unaudited.append(time.perf_counter() - t0)
    return _p95(audited), _p95(unaudited), statistics.median(audited) * 1000, statistics.median(unaudited) * 1000


def load_chain(n: int) -> None:
    """Append n chained events with COPY (a benchmark fixture; hashes computed as the service does)."""
    import datetime as dt

    from django.db import connection

    from audit.canonical import event_hash, format_timestamp
    from audit.models import ChainHead

    head = ChainHead.objects.get(pk=1)
    seq, prev = head.seq, head.hash
    now = dt.datetime.now(dt.UTC)
    buf = io.StringIO()
    for i in range(n):
        seq += 1
        ts = now + dt.timedelta(microseconds=i)
        fields = dict(
            actor_id=None,
            username="system",
            action="bench.bulk",
            object_type="bench.thing",
            object_id=str(i),
            object_repr=f"thing {i}",
            old_values="",
            new_values=f'{{"i":{i}}}',
            reason="",
            request_id="",
            ip_address="",
        )
        digest = event_hash(seq=seq, timestamp=format_timestamp(ts), prev_hash=prev, **fields)
        buf.write(
            "\t".join(
                [
                    str(seq),
                    ts.isoformat(),
                    "\\N",
                    "system",
                    "bench.bulk",
                    "bench.thing",
                    str(i),
                    f"thing {i}",
                    "",
                    f'{{"i":{i}}}',
                    "",
                    "",
                    "",
                    prev,
                    digest,
                ]
            )
            + "\n"
        )
        prev = digest
    buf.seek(0)
    with connection.cursor() as cur:
        with cur.copy(
            "COPY audit_auditevent (seq, timestamp, actor_id, username, action, object_type, object_id, "
            "object_repr, old_values, new_values, reason, request_id, ip_address, prev_hash, hash) "
            "FROM STDIN"
        ) as copy:
            copy.write(buf.getvalue())
    with connection.cursor() as cur:  # the head is not append-only; the chain's last link moves
        cur.execute("UPDATE audit_chainhead SET seq=%s, hash=%s WHERE id=1", [seq, prev])


def verify_rate() -> tuple[float, int]:
    from audit.verification import verify_chain

    load_chain(VERIFY_EVENTS)
    started = time.perf_counter()
    result = verify_chain()
    elapsed = time.perf_counter() - started
    assert result.ok, result.problems[:3]
    return result.events / elapsed, result.events


def run(ctx) -> list[Figure]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mes.settings")
    rate, intact = append_rate()
    p95_a, p95_u, med_a, med_u = save_costs()
    vrate, vcount = verify_rate()
    return [
        Figure(
            f"audit events appended/s, {PROCESSES} processes, one transaction each",
            rate,
            "events/s",
            ">= 1,000/s",
            rate >= 1000,
            f"{PROCESSES * EVENTS_PER_PROCESS} events; chain intact after: {intact}",
        ),
        Figure("audited GMP save, p95", p95_a, "ms", "< 5 ms", p95_a < 5, f"median {med_a:.2f} ms; {SAVES} saves"),
        Figure("unaudited single-row save, p95", p95_u, "ms", "reference", True, f"median {med_u:.2f} ms"),
        Figure(
            "audited / unaudited save cost (p95)",
            p95_a / p95_u,
            "x",
            "<= 2x",
            p95_a / p95_u <= 2,
            "audited = row UPDATE + history INSERT + chain-head lock + event INSERT + head UPDATE",
        ),
        Figure(
            "audit chain verification rate",
            vrate,
            "events/s",
            ">= 100,000/s",
            vrate >= 100_000,
            f"{vcount:,} events verified",
        ),
    ]
