"""Administration (issue 10): backup and verified restore of a plant-sized audit trail, the cost of
reading controlled configuration, and the per-query cost of the retention guard."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from bench.run import Figure

TITLE = "Administration: backup/restore, configuration reads, retention guard (issue 10)"
EVENTS = 300_000
READS = 20_000
QUERIES = 5_000


def _backup_restore(ctx) -> list[Figure]:
    from administration.services.backup import backup_create, restore_verify_in
    from bench.bench_audit import load_chain

    load_chain(EVENTS)
    started = time.perf_counter()
    backup = backup_create(directory=Path(ctx.scratch) / "backups", prune=False)
    backup_s = time.perf_counter() - started
    size_mb = sum(p.stat().st_size for p in backup.iterdir()) / 1e6

    name = ctx.database_url.rsplit("/", 1)[1] + "_restore"
    base = ctx.database_url.rsplit("/", 1)[0]
    subprocess.run(["psql", f"{base}/postgres", "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], check=True)
    subprocess.run(["psql", f"{base}/postgres", "-qc", f"CREATE DATABASE {name}"], check=True)
    import dj_database_url

    from administration.services.backup import backup_restore

    started = time.perf_counter()
    backup_restore(backup=backup, database=dj_database_url.parse(f"{base}/{name}"))
    restore_s = time.perf_counter() - started
    started = time.perf_counter()
    ok, output = restore_verify_in(f"{base}/{name}", backup)
    verify_s = time.perf_counter() - started
    subprocess.run(["psql", f"{base}/postgres", "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], check=True)
    note = f"{EVENTS:,} audit events loaded; backup {size_mb:.1f} MB compressed"
    return [
        Figure("backup (pg_dump + media + manifest)", backup_s, "s", "< 60 s", backup_s < 60, note),
        Figure("restore into an empty database", restore_s, "s", "< 120 s", restore_s < 120, note),
        Figure(
            "restore verification (checksums, row counts, audit chain)",
            verify_s,
            "s",
            "< 120 s",
            ok and verify_s < 120,
            "verified" if ok else output[-300:],
        ),
    ]


def _config_reads() -> list[Figure]:
    from mes import config as parameters

    parameters.config_cache_clear()
    parameters.config_get("auth.lockout_threshold")
    started = time.perf_counter()
    for _ in range(READS):
        parameters.config_get("auth.lockout_threshold")
    cached_us = (time.perf_counter() - started) / READS * 1e6
    started = time.perf_counter()
    for _ in range(READS // 10):
        parameters._stored_values()
    db_us = (time.perf_counter() - started) / (READS // 10) * 1e6
    return [
        Figure("config_get, cached", cached_us, "µs", "< 50 µs", cached_us < 50, "a stat() of the generation file"),
        Figure("configuration read from the database", db_us, "µs", "reference", True, "what a cache miss costs"),
    ]


def _guard_overhead() -> list[Figure]:
    from django.db import connection

    from audit.refusals import refusal_guard as retention_guard

    def timed() -> float:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            for _ in range(QUERIES):
                cursor.execute("SELECT 1")
        return (time.perf_counter() - started) / QUERIES * 1e6

    connection.ensure_connection()
    with_guard = min(timed() for _ in range(3))
    connection.execute_wrappers.remove(retention_guard)
    try:
        without = min(timed() for _ in range(3))
    finally:
        connection.execute_wrappers.insert(0, retention_guard)
    extra = max(0.0, with_guard - without)
    return [
        Figure("retention guard per query", extra, "µs", "< 5 µs", extra < 5, f"SELECT 1 round trip {without:.0f} µs")
    ]


def run(ctx) -> list[Figure]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mes.settings")
    return [*_config_reads(), *_guard_overhead(), *_backup_restore(ctx)]
