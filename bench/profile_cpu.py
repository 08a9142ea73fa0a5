"""Where bench_cpu's CPU goes: the same requests as bench/cpu_worker.py, each page under cProfile.

Wall-clock on a shared machine is noise; a profile's call counts and its share of time per function
are not. Prints, per page, the requests, queries per request, and the top functions by total and
cumulative time (summed over the page's requests).

Usage (against a bench database with bench_cpu's fixture):
    DATABASE_URL=... REDIS_URL=... python bench/profile_cpu.py [OPERATOR_INDEX] [STEPS] [TOP] [PAGE_FILTER]
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


class Sampler:
    """A statistical CPU profiler: SIGPROF every `interval` s of process CPU records the Python stack.
    Unlike cProfile it adds no cost per call, so many small calls (template nodes, lazy strings) are not
    over-weighted. `inclusive` counts every frame on the stack once per sample."""

    def __init__(self, interval: float = 0.0005):
        import collections

        self.interval, self.samples = interval, 0
        self.own, self.inclusive = collections.Counter(), collections.Counter()

    def _tick(self, _signum, frame) -> None:
        self.samples += 1
        seen = set()
        self.own[_where(frame)] += 1
        while frame is not None:
            where = _where(frame)
            if where not in seen:
                seen.add(where)
                self.inclusive[where] += 1
            frame = frame.f_back

    def __enter__(self):
        import signal

        signal.signal(signal.SIGPROF, self._tick)
        signal.setitimer(signal.ITIMER_PROF, self.interval, self.interval)
        return self

    def __exit__(self, *exc):
        import signal

        signal.setitimer(signal.ITIMER_PROF, 0, 0)


def _where(frame) -> str:
    name = frame.f_code.co_filename.replace(str(ROOT) + "/", "").split("site-packages/")[-1]
    return f"{name}:{frame.f_code.co_firstlineno}({frame.f_code.co_name})"


def main(index: int = 40, steps: int = 2, top: int = 25, only: str = "") -> None:
    os.chdir(ROOT)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mes.settings")
    import logging

    import django

    django.setup()
    logging.disable(logging.WARNING)
    from django.db import connection, reset_queries
    from django.test import Client

    from bench import cpu_worker

    profiles: dict[str, cProfile.Profile] = {}
    queries: dict[str, list[int]] = {}
    seen: set[str] = set()

    def timed(results, name, fn, net_of_password=False):  # the profile keeps the password check in
        if name not in seen:  # the first request of a client builds its handler (middleware, static files)
            seen.add(name)
            return fn()
        connection.force_debug_cursor = True
        reset_queries()
        if SAMPLE:
            sampler = profiles.setdefault(name, Sampler())
            with sampler:
                response = fn()
        else:
            prof = profiles.setdefault(name, cProfile.Profile(time.process_time))  # CPU, not waiting on the database
            prof.enable()
            response = fn()
            prof.disable()
        queries.setdefault(name, []).append(len(connection.queries))
        connection.force_debug_cursor = False
        results.setdefault(name, []).append(0.0)
        return response

    cpu_worker._timed = timed
    warm = Client()
    warm.force_login(cpu_worker._user("loadoff01"))
    warm.get("/")
    cpu_worker._operator({}, index, steps)
    cpu_worker._office({})
    for name, prof in profiles.items():
        if only and only not in name:
            continue
        n = len(queries[name])
        if SAMPLE:
            _print_samples(name, n, queries[name], prof, top)
            continue
        if os.environ.get("MES_PROFILE_DUMP"):  # for pstats' callers/callees afterwards
            prof.dump_stats(Path(os.environ["MES_PROFILE_DUMP"]) / (re.sub(r"\W+", "_", name).strip("_") + ".prof"))
        out = io.StringIO()
        stats = pstats.Stats(prof, stream=out)
        print(f"=== {name}: {n} requests, queries/request {sorted(set(queries[name]))}, "
              f"{stats.total_calls / n:.0f} calls/request, {stats.total_tt / n * 1000:.1f} ms/request profiled")  # fmt: skip
        print("   by area (own time, % of the page):", _areas(stats))
        stats.sort_stats("tottime").print_stats(top)
        stats.sort_stats("cumulative").print_stats(top)
        print(
            "\n".join(line for line in out.getvalue().splitlines() if line.strip() and "/" in line or "ncalls" in line)
        )


SAMPLE = os.environ.get("MES_PROFILE_SAMPLE") == "1"


def _print_samples(name: str, n: int, queries: list[int], sampler: Sampler, top: int) -> None:
    ms = sampler.samples * sampler.interval * 1000 / n
    print(f"=== {name}: {n} requests, queries/request {sorted(set(queries))}, ~{ms:.1f} ms CPU/request sampled")
    areas: dict[str, int] = {}
    for where, count in sampler.own.items():
        area = next((label for part, label in AREAS if part in where), "stdlib/builtins")
        areas[area] = areas.get(area, 0) + count
    whole = sum(areas.values()) or 1
    print("   by area (own):", ", ".join(f"{k} {v / whole:.0%}" for k, v in sorted(areas.items(), key=lambda x: -x[1])))
    print("   inclusive share of the page's CPU:")
    for where, count in sampler.inclusive.most_common(top):
        print(f"   {count / sampler.samples:6.1%}  {where}")


AREAS = (("django/template", "templates"), ("django/db", "ORM"), ("psycopg", "driver"), ("redis", "redis"),
         ("django/utils/translation", "i18n"), ("gettext", "i18n"), ("django/urls", "urls"),
         ("guardian", "guardian"), ("django/contrib/auth", "auth"), ("django/", "django other"),
         ("site-packages", "libraries"), ("/work/", "application"), ("audit/", "application"), ("mes/", "application"),
         ("batches/", "application"), ("orders/", "application"), ("materials/", "application"), ("reports/", "application"))  # fmt: skip


def _areas(stats: pstats.Stats) -> str:
    """Own time summed by area (templates, ORM, driver, ...), as a share of the page's profiled time."""
    totals: dict[str, float] = {}
    for (filename, _line, _name), (_cc, _nc, tt, _ct, _callers) in stats.stats.items():
        area = next((label for part, label in AREAS if part in filename), "stdlib/builtins")
        totals[area] = totals.get(area, 0.0) + tt
    whole = sum(totals.values()) or 1.0
    return ", ".join(f"{k} {v / whole:.0%}" for k, v in sorted(totals.items(), key=lambda kv: -kv[1]))


if __name__ == "__main__":
    args = sys.argv[1:]
    main(int(args[0]) if args else 40, int(args[1]) if len(args) > 1 else 2, int(args[2]) if len(args) > 2 else 25,
         args[3] if len(args) > 3 else "")  # fmt: skip
