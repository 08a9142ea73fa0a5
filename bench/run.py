"""`make bench`: run every bench/bench_*.py against PostgreSQL and write docs/benchmarks.md.

Each module defines `TITLE` and `run(ctx) -> list[Figure]`. The runner creates a fresh benchmark
database (MES_BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/mes_bench), migrates
it, and passes a context with the database URL and a scratch directory. Benchmarks are measured
here, never asserted in tests.
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
import platform
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB_URL = os.environ.get("MES_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/mes_bench")


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    target: str
    met: bool
    note: str = ""


@dataclass
class Context:
    database_url: str
    scratch: Path


def prepare_database() -> None:
    name = DB_URL.rsplit("/", 1)[1]
    base = DB_URL.rsplit("/", 1)[0] + "/postgres"
    subprocess.run(["psql", base, "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], check=True)
    subprocess.run(["psql", base, "-qc", f"CREATE DATABASE {name}"], check=True)
    env = {**os.environ, "DATABASE_URL": DB_URL, "DJANGO_SETTINGS_MODULE": "mes.settings"}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0", "--no-input"], cwd=ROOT, env=env, check=True)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    return (
        f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, {platform.system()} {platform.release()}"
        f"; load average {load} (1/5/15 min) when the section ended — the machine is shared"
    )


def main(selected: list[str]) -> int:
    os.environ["DATABASE_URL"] = DB_URL
    # A new database gets a new witness: checkpoints of an earlier bench database would not match it.
    witness = ROOT / "var" / "bench" / "audit-checkpoints.jsonl"
    witness.unlink(missing_ok=True)
    os.environ["MES_AUDIT_CHECKPOINT_FILE"] = str(witness)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mes.settings")
    prepare_database()
    import django

    django.setup()
    scratch = ROOT / "var" / "bench"
    scratch.mkdir(parents=True, exist_ok=True)
    ctx = Context(DB_URL, scratch)
    sections = []
    for path in sorted((ROOT / "bench").glob("bench_*.py")):
        if selected and path.stem not in selected:
            continue
        module = importlib.import_module(f"bench.{path.stem}")
        print(f"== {module.TITLE}", flush=True)
        figures = module.run(ctx)
        for f in figures:
            print(f"   {f.name}: {f.value:,.2f} {f.unit} (target {f.target}) {'OK' if f.met else 'MISSED'}", flush=True)
        sections.append((module.TITLE, figures))
    write_report(sections)
    return 0


RESULTS = ROOT / "docs" / "benchmarks.json"


def write_report(sections) -> None:
    """Merge this run's sections into docs/benchmarks.json (a run of some modules keeps the other
    modules' last figures, each with its own date) and render docs/benchmarks.md from it."""
    import json
    from dataclasses import asdict

    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    stored = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}
    for title, figures in sections:
        # A section's notes (a paragraph written by hand on how and where it was run) stay with it.
        notes = stored.get(title, {}).get("notes", "")
        stored[title] = {"measured": now, "machine": machine(), "figures": [asdict(f) for f in figures], "notes": notes}
    RESULTS.write_text(json.dumps(stored, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    lines = [
        "# Benchmarks",
        "",
        "Measured by `make bench` (`bench/run.py`; one module alone: `bench/run.py bench_audit`).",
        "Database: PostgreSQL on loopback. Each section says when and on what machine it was measured.",
        "",
    ]
    for title, section in sorted(stored.items()):
        lines += [f"## {title}", "", f"Measured {section['measured']} on {section['machine']}.", ""]
        lines += ["| Figure | Value | Target | Met | Notes |", "|---|---|---|---|---|"]
        for f in section["figures"]:
            met = "yes" if f["met"] else "**no**"
            lines.append(f"| {f['name']} | {f['value']:,.2f} {f['unit']} | {f['target']} | {met} | {f['note']} |")
        lines.append("")
        if section.get("notes"):
            lines += [section["notes"], ""]
    (ROOT / "docs" / "benchmarks.md").write_text("\n".join(lines), encoding="utf-8")
    print("wrote docs/benchmarks.md")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
