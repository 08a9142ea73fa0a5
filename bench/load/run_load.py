"""`make load`: the load test of issue 11 against gunicorn on PostgreSQL and Redis.

1. creates a fresh database (MES_LOAD_DATABASE_URL, default .../mes_load_run), migrates it and
   seeds the load plant (bench/load/seed_load.py);
2. starts gunicorn as in production (Dockerfile: 8 workers x 2 threads) and one Celery worker,
   with REDIS_URL (MES_LOAD_REDIS_URL, default redis://127.0.0.1:6379/4);
3. runs locust headless: 50 operators and 10 office users (bench/load/locustfile.py) for
   MES_LOAD_RUN_TIME (default 5m), sampling the load average every 10 s;
4. verifies the audit chain (`manage.py verify_audit_trail`) and counts what was written;
5. merges the per-page figures into docs/benchmarks.json and docs/benchmarks.md (bench/run.py).

Usage: .venv/bin/python bench/load/run_load.py [--run-time 5m] [--users 60] [--no-report]
       .venv/bin/python bench/load/run_load.py --capacity [...]   (bench/load/capacity.py: the knee)
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
DB_URL = os.environ.get("MES_LOAD_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/mes_load_run")
REDIS_URL = os.environ.get("MES_LOAD_REDIS_URL", "redis://127.0.0.1:6379/4")
PORT = os.environ.get("MES_LOAD_PORT", "8765")
# gunicorn's shape; the capacity run compares shapes (one process's threads share its GIL, so a long page
# stalls the requests of its sibling threads).
WORKERS = int(os.environ.get("MES_LOAD_WORKERS", "8"))
THREADS = int(os.environ.get("MES_LOAD_THREADS", "2"))
OPERATOR_TARGET_MS = 300.0
TITLE = "Load: 50 operators and 10 office users on gunicorn, PostgreSQL and Redis (issue 11)"
OUT = ROOT / "var" / "load"


def env() -> dict:
    return {
        **os.environ,
        "DATABASE_URL": DB_URL,
        "REDIS_URL": REDIS_URL,
        "DJANGO_SETTINGS_MODULE": "mes.settings",
        "MES_VAR_DIR": str(OUT / "var"),
        "DEBUG": "0",
    }


def _psql(sql: str) -> None:
    subprocess.run(["psql", DB_URL.rsplit("/", 1)[0] + "/postgres", "-qc", sql], check=True)


def prepare(reuse: bool) -> dict:
    """Fresh database, migrations, the seeded plant; returns the seed summary. The seeded database
    is kept as a template `<name>_seeded`; `reuse` starts from a copy of it (seeding takes minutes)."""
    name = DB_URL.rsplit("/", 1)[1]
    _psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    summary_file = OUT / "seeded.json"
    witness, seeded_witness = OUT / "var" / "audit-checkpoints.jsonl", OUT / "seeded-audit-checkpoints.jsonl"
    if reuse and summary_file.exists():
        _psql(f"CREATE DATABASE {name} TEMPLATE {name}_seeded")
        # The audit witness as it was when the template was seeded: checkpoints of an earlier run name
        # events that the copy does not have, and verification would (rightly) call that a removed tail.
        witness.parent.mkdir(parents=True, exist_ok=True)
        if seeded_witness.exists():
            shutil.copyfile(seeded_witness, witness)
        else:
            witness.unlink(missing_ok=True)
        return json.loads(summary_file.read_text())
    witness.unlink(missing_ok=True)  # a new database: a new witness
    _psql(f"CREATE DATABASE {name}")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0", "--no-input"], cwd=ROOT, env=env(), check=True)
    os.environ.update(env())
    import django

    django.setup()
    from django.db import connections

    from bench.load.seed_load import seed

    summary = seed()
    connections.close_all()
    # Statistics as a plant's database has them (autovacuum keeps them in use): a plan made without them
    # took the production report's deviation count from 56 ms to 925 ms on the freshly seeded plant.
    subprocess.run(["psql", DB_URL, "-qc", "ANALYZE"], check=True)
    _psql(f"DROP DATABASE IF EXISTS {name}_seeded WITH (FORCE)")
    _psql(f"CREATE DATABASE {name}_seeded TEMPLATE {name}")
    summary_file.write_text(json.dumps(summary))
    if witness.exists():
        shutil.copyfile(witness, seeded_witness)
    else:
        seeded_witness.unlink(missing_ok=True)
    return summary


def start_servers() -> list[subprocess.Popen]:
    log = open(OUT / "servers.log", "w")  # noqa: SIM115 - kept open for the servers' lifetime
    web = [str(BIN / "gunicorn"), "mes.wsgi:application", "--bind", f"127.0.0.1:{PORT}", "--no-control-socket", "--workers", str(WORKERS),
           "--threads", str(THREADS), "--graceful-timeout", "5", "--access-logfile", str(OUT / "access.log")]  # fmt: skip
    worker = [str(BIN / "celery"), "-A", "mes", "worker", "--loglevel", "warning", "--concurrency", "2",
              "--max-tasks-per-child", "50", "-n", f"load{PORT}@%h"]  # fmt: skip
    procs = [
        subprocess.Popen(cmd, cwd=ROOT, env=env(), stdout=log, stderr=log, start_new_session=True)
        for cmd in (web, worker)
    ]
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=5)  # noqa: S310 - loopback
            return procs
        except OSError:
            time.sleep(1)
    stop(procs)
    raise SystemExit("gunicorn did not answer /healthz within 60 s (see var/load/servers.log)")


def stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)


class LoadSampler(threading.Thread):
    """The 1-minute load average every 10 s (the machine is shared: the figures say how busy it was),
    and the CPU time of the PostgreSQL backends of the load database every 2 s. With `web_pgid`, also a
    timeline of (wall time, gunicorn CPU, PostgreSQL CPU) every 2 s, so CPU can be read over a window."""

    def __init__(self, web_pgid: int | None = None):
        super().__init__(daemon=True)
        self.samples: list[float] = []
        self.backends: dict[int, float] = {}
        self.baseline: dict[int, float] = {}
        self.stopping = threading.Event()
        self.web_pgid = web_pgid
        self.timeline: list[tuple[float, float, float]] = []

    def run(self) -> None:
        ticks = 0
        self.record()
        while not self.stopping.wait(2):
            self.record()
            ticks += 1
            if ticks % 5 == 0:
                self.samples.append(float(Path("/proc/loadavg").read_text().split()[0]))

    def record(self) -> None:
        """Read the backends' CPU now and, with a web process group, add a point to the timeline."""
        self.backends.update(postgres_backend_cpu())
        if self.web_pgid is not None:
            self.timeline.append((time.time(), group_cpu_seconds(self.web_pgid), self.postgres_cpu))

    def cpu_between(self, start: float, end: float) -> tuple[float, float] | None:
        """(gunicorn, PostgreSQL) CPU seconds from wall time `start` to `end`, read off the timeline
        (linear between its points), or None when the timeline does not cover the window."""
        points = self.timeline
        if len(points) < 2 or start < points[0][0] or end > points[-1][0] or end <= start:
            return None
        at_start, at_end = _at(points, start), _at(points, end)
        return at_end[0] - at_start[0], at_end[1] - at_start[1]

    @property
    def postgres_cpu(self) -> float:
        return sum(cpu - self.baseline.get(pid, 0.0) for pid, cpu in self.backends.items())


def _at(points: list[tuple[float, float, float]], when: float) -> tuple[float, float]:
    """The timeline's (gunicorn, PostgreSQL) CPU at wall time `when`, interpolated between its points."""
    for (t0, web0, pg0), (t1, web1, pg1) in itertools.pairwise(points):
        if t0 <= when <= t1:
            share = (when - t0) / (t1 - t0) if t1 > t0 else 0.0
            return web0 + (web1 - web0) * share, pg0 + (pg1 - pg0) * share
    return points[-1][1], points[-1][2]


TICK = os.sysconf("SC_CLK_TCK")


def group_cpu_seconds(pgid: int) -> float:
    """CPU time (user + system) of the live processes of a process group (gunicorn master and workers)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # fields after "pid (comm)": state, ppid, pgrp, ...
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICK


def postgres_backend_cpu() -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend serving the load database (its process title is
    "postgres: <user> <database> ..."). Backends come and go (CONN_MAX_AGE), so the sampler reads
    them every few seconds and keeps the last value seen per backend."""
    name = DB_URL.rsplit("/", 1)[1]
    found = {}
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            title = cmdline.read_bytes().decode(errors="replace")
            if not title.startswith("postgres: ") or f" {name} " not in title:
                continue
            fields = (cmdline.parent / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[int(cmdline.parent.name)] = (int(fields[11]) + int(fields[12])) / TICK
    return found


def run_locust(users: int, run_time: str, *, spawn_rate: float = 2, extra_env=None, reset: bool = False):
    """Runs locust; returns its stats file and the CPU seconds locust itself used. `reset`: the
    figures count from the moment every user is running (the log-ins of the ramp are left out)."""
    prefix = OUT / "locust"
    cmd = [str(BIN / "locust"), "-f", str(ROOT / "bench" / "load" / "locustfile.py"), "--headless",
           "--host", f"http://127.0.0.1:{PORT}", "--users", str(users), "--spawn-rate", str(spawn_rate),
           "--run-time", run_time, "--csv", str(prefix), "--only-summary", "--stop-timeout", "60"]  # fmt: skip
    if reset:
        cmd.append("--reset-stats")
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**env(), **(extra_env or {})})
    _pid, _status, usage = os.wait4(proc.pid, 0)
    return Path(f"{prefix}_stats.csv"), usage.ru_utime + usage.ru_stime


def verify_chain() -> tuple[bool, str]:
    subprocess.run([sys.executable, "manage.py", "audit_checkpoint"], cwd=ROOT, env=env(), check=True)  # the beat's
    r = subprocess.run(
        [sys.executable, "manage.py", "verify_audit_trail"], cwd=ROOT, env=env(), capture_output=True, text=True
    )
    return r.returncode == 0, (r.stdout + r.stderr).strip().splitlines()[-1] if (r.stdout + r.stderr).strip() else ""


def written_counts() -> dict:
    sql = (
        "SELECT (SELECT count(*) FROM batches_entry e JOIN batches_batch b ON b.id = e.batch_id"
        " WHERE b.number LIKE 'LOAD%' AND e.entered_at IS NOT NULL),"
        " (SELECT count(*) FROM batches_stepexecution s JOIN batches_batch b ON b.id = s.batch_id"
        " WHERE b.number LIKE 'LOAD%' AND s.status IN ('done', 'verified')),"
        " (SELECT count(*) FROM audit_auditevent)"
    )
    out = subprocess.run(["psql", DB_URL, "-Atc", sql], capture_output=True, text=True, check=True).stdout.strip()
    entries, steps, events = (int(x) for x in out.split("|"))
    return {"entries": entries, "steps": steps, "events": events}


def is_operator_action(name: str) -> bool:
    return name.startswith("step") or name in ("home (work queue)", "batch list (in progress)", "batch detail")


def figures(stats: Path, load: list[float], chain: tuple[bool, str], counts: dict, seeded: dict, run_time: str, cpu):
    from bench.run import Figure

    rows = list(csv.DictReader(stats.open(encoding="utf-8")))
    cores = os.cpu_count() or 1
    load_note = (
        f"load average (1 min) during the run: median {sorted(load)[len(load) // 2]:.1f}, max {max(load):.1f}"
        f" on {cores} cores"
        + (": other work shared the machine (disturbed)" if max(load) > cores + 0.5 else ", no other work running")
        if load
        else "load average not sampled"
    )
    result, total = [], None
    for row in rows:
        if row["Name"] == "Aggregated":
            total = row
            continue
        n, fails = int(row["Request Count"]), int(row["Failure Count"])
        p95, median, rps = float(row["95%"]), float(row["50%"]), float(row["Requests/s"])
        operator = is_operator_action(row["Name"])
        target = f"p95 < {OPERATOR_TARGET_MS:.0f} ms, no errors" if operator else "no errors (reference)"
        met = fails == 0 and (p95 < OPERATOR_TARGET_MS or not operator)
        note = f"{row['Type']}; median {median:.0f} ms; {rps:.2f} req/s; {n} requests, {fails} failed"
        result.append(Figure(f"{row['Name']}: p95", p95, "ms", target, met, note))
    if total:
        fails = int(total["Failure Count"])
        result.append(
            Figure(
                "All requests: throughput",
                float(total["Requests/s"]),
                "req/s",
                "reference",
                True,
                f"{total['Request Count']} requests, {fails} failed; median {float(total['50%']):.0f} ms,"
                f" p95 {float(total['95%']):.0f} ms; {run_time}; {load_note}",
            )  # fmt: skip
        )
        result.append(Figure("Failed requests", fails, "requests", "0", fails == 0, ""))
        requests = max(int(total["Request Count"]), 1)
        result.append(
            Figure(
                "gunicorn CPU per request (all pages, incl. log-ins and signatures)",
                cpu["web"] * 1000 / requests,
                "ms",
                "sizing figure",
                True,
                f"{cpu['web']:.0f} CPU-s in gunicorn for {requests} requests; PostgreSQL backends"
                f" {cpu['postgres']:.0f} CPU-s ({cpu['postgres'] * 1000 / requests:.1f} ms/request);"
                f" locust itself {cpu['locust']:.0f} CPU-s",
            )
        )
    result.append(
        Figure(
            "Audit chain intact after the run",
            1.0 if chain[0] else 0.0,
            "bool",
            "intact",
            chain[0],
            f"{counts['events']:,} events; {counts['entries']:,} values recorded and {counts['steps']:,} steps"
            f" signed by the load operators; {chain[1]}",
        )  # fmt: skip
    )
    t = seeded["timings"]
    result.append(
        Figure(
            "Fixture: seeded plant",
            sum(t.values()),
            "s",
            "fixture only",
            True,
            "seed_demo, 50,000 orders, 10,000 closed batches, history of 10,000 batches x 20 steps x 10"
            " parameters; 50 running batches of 60 steps x 5 parameters, one per operator",
        )  # fmt: skip
    )
    return result


def main() -> int:
    if "--capacity" in sys.argv:
        from bench.load.capacity import main as capacity_main

        return capacity_main(sys.argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run-time", default=os.environ.get("MES_LOAD_RUN_TIME", "5m"))
    parser.add_argument("--users", type=int, default=60, help="50 operators + 10 office users (weights 50:10)")
    parser.add_argument("--reuse-seed", action="store_true", help="start from the last seeded database")
    parser.add_argument("--no-report", action="store_true", help="do not write docs/benchmarks.*")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    print("== seeding the load plant", flush=True)
    seeded = prepare(args.reuse_seed)
    print(f"   {seeded}", flush=True)
    procs = start_servers()
    cpu_before = group_cpu_seconds(procs[0].pid)  # start-up (imports) is not request work
    cpu: dict[str, float] = {}
    sampler = LoadSampler()
    sampler.baseline = postgres_backend_cpu()  # what the backends had used before the run
    try:
        print(f"== locust: {args.users} users for {args.run_time}", flush=True)
        sampler.start()
        stats, cpu["locust"] = run_locust(args.users, args.run_time)
        sampler.stopping.set()
        cpu["web"] = group_cpu_seconds(procs[0].pid) - cpu_before
        sampler.backends.update(postgres_backend_cpu())
        cpu["postgres"] = sampler.postgres_cpu
    finally:
        stop(procs)
    chain = verify_chain()
    counts = written_counts()
    result = figures(stats, sampler.samples, chain, counts, seeded, args.run_time, cpu)
    for f in result:
        print(f"   {f.name}: {f.value:,.2f} {f.unit} ({f.note}) {'OK' if f.met else 'MISSED'}", flush=True)
    if not args.no_report:
        from bench.run import write_report

        write_report([(TITLE, result)])
    return 0 if all(f.met for f in result) else 1


if __name__ == "__main__":
    sys.exit(main())
