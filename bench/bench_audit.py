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
SAVES = 2000
WARMUP = 100
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
    from audit.verification import write_checkpoint

    write_checkpoint()
    return PROCESSES * EVENTS_PER_PROCESS / elapsed, verify_chain().ok


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[18] * 1000


def _plain_twin(model):
    """An unaudited model of the same shape as `model` (same columns, types and indexes, on its own
    table created LIKE the GMP table), so the audited save is compared with the same row update."""
    from django.db import connection, models

    table = f"bench_plain_{model._meta.db_table}"
    with connection.cursor() as cur:
        cur.execute(f"CREATE TABLE IF NOT EXISTS {table} (LIKE {model._meta.db_table} INCLUDING ALL)")
    attrs = {f.name: f.clone() for f in model._meta.local_concrete_fields}
    attrs["__module__"] = __name__
    attrs["Meta"] = type("Meta", (), {"app_label": "bench", "db_table": table, "managed": False})
    return type(f"Plain{model.__name__}", (models.Model,), attrs)


def save_costs() -> dict[str, float]:
    """p50 / p95 (ms) of an audited GMP save against unaudited saves, each in its own transaction.

    The reference is the same row shape (a plain twin of Location: the same UPDATE of the same
    columns); the 4-column UserSecurity save measured before is kept for comparison. The saves are
    interleaved (audited, twin, small) after a warm-up, so load on the machine hits all three alike.
    """
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from audit.context import audit_context
    from materials.models import Location  # master data without change control (a Material's name is
    from mes.models import UserSecurity  # under it since issue 16: its save would be refused here)

    user = get_user_model().objects.create_user("bench-user", password="x" * 12)
    with audit_context(actor=user):
        material = Location.objects.create(code="BENCH-1", name="Bench")
    twin = _plain_twin(Location)(**{f.attname: getattr(material, f.attname) for f in Location._meta.concrete_fields})
    twin.save(force_insert=True)
    small = UserSecurity.objects.create(user=user)
    samples = {"audited": [], "twin": [], "small": []}

    def audited(i):
        with transaction.atomic(), audit_context(actor=user, reason="bench"):
            material.name = f"Bench {i}"
            material.save()

    def plain_twin(i):
        with transaction.atomic():
            twin.name = f"Bench {i}"
            twin.save()

    def plain_small(i):
        with transaction.atomic():
            small.failed_attempts = i
            small.save()

    saves = {"audited": audited, "twin": plain_twin, "small": plain_small}
    for i in range(WARMUP):
        for save in saves.values():
            save(i)
    for i in range(SAVES):
        for key, save in saves.items():
            t0 = time.perf_counter()
            save(i)
            samples[key].append(time.perf_counter() - t0)
    out = {}
    for key, values in samples.items():
        out[f"{key}_p95"] = _p95(values)
        out[f"{key}_p50"] = statistics.median(values) * 1000
    return out


def load_chain(n: int) -> None:
    """Append n chained events with COPY (a benchmark fixture; hashes computed as the service does)."""
    import datetime as dt

    from django.db import connection

    from audit.canonical import event_hash, format_timestamp
    from audit.keys import key_ring
    from audit.models import ChainHead

    ring = key_ring()
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
        digest = event_hash(
            seq=seq,
            timestamp=format_timestamp(ts),
            prev_hash=prev,
            key_id=ring.current,
            key=ring.key(ring.current),
            **fields,
        )
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
                    ring.current,
                ]
            )
            + "\n"
        )
        prev = digest
    buf.seek(0)
    with connection.cursor() as cur:
        # Loading data, not measuring: the link trigger's per-row head update would make one 300,000-row
        # transaction quadratic (every version of the head row stays until it commits). The bench runs as
        # the database owner, lifts the trigger for the load and moves the head once.
        cur.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_auditevent_link")
        cur.execute("ALTER TABLE audit_chainhead DISABLE TRIGGER audit_chainhead_guard")
        with cur.copy(
            "COPY audit_auditevent (seq, timestamp, actor_id, username, action, object_type, object_id, "
            "object_repr, old_values, new_values, reason, request_id, ip_address, prev_hash, hash, key_id) "
            "FROM STDIN"
        ) as copy:
            copy.write(buf.getvalue())
    with connection.cursor() as cur:
        cur.execute("UPDATE audit_chainhead SET seq=%s, hash=%s WHERE id=1", [seq, prev])
        cur.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_auditevent_link")
        cur.execute("ALTER TABLE audit_chainhead ENABLE TRIGGER audit_chainhead_guard")


def verify_rate() -> tuple[float, int]:
    from audit.verification import verify_chain, write_checkpoint

    load_chain(VERIFY_EVENTS)
    write_checkpoint()
    started = time.perf_counter()
    result = verify_chain()
    elapsed = time.perf_counter() - started
    assert result.ok, result.problems[:3]
    return result.events / elapsed, result.events


def run(ctx) -> list[Figure]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mes.settings")
    rate, intact = append_rate()
    c = save_costs()
    vrate, vcount = verify_rate()
    ratio95, ratio50 = c["audited_p95"] / c["twin_p95"], c["audited_p50"] / c["twin_p50"]
    return [
        Figure(
            f"audit events appended/s, {PROCESSES} processes, one transaction each",
            rate,
            "events/s",
            ">= 1,000/s",
            rate >= 1000,
            f"{PROCESSES * EVENTS_PER_PROCESS} events; chain intact after: {intact}",
        ),
        Figure(
            "audited GMP save, p95",
            c["audited_p95"],
            "ms",
            "< 5 ms",
            c["audited_p95"] < 5,
            f"median {c['audited_p50']:.2f} ms; {SAVES} saves after {WARMUP} warm-up",
        ),
        Figure(
            "unaudited save of the same row shape, p95",
            c["twin_p95"],
            "ms",
            "reference",
            True,
            f"median {c['twin_p50']:.2f} ms; a plain model on a table LIKE materials_material",
        ),
        Figure(
            "audited / unaudited save cost (p95)",
            ratio95,
            "x",
            "<= 2x",
            ratio95 <= 2,
            f"median ratio {ratio50:.2f}x. Audited = BEGIN, row UPDATE + chain-head lock (one statement), "
            "history INSERT + event INSERT + head move (one statement), COMMIT, both statements prepared on the "
            "server (MES_PREPARED_STATEMENTS); unaudited = BEGIN, UPDATE, COMMIT",
        ),
        Figure(
            "audited / small unaudited save (p95), as measured before",
            c["audited_p95"] / c["small_p95"],
            "x",
            "for comparison",
            True,
            f"4-column UserSecurity save: p95 {c['small_p95']:.2f} ms, median {c['small_p50']:.2f} ms "
            f"(median ratio {c['audited_p50'] / c['small_p50']:.2f}x)",
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
