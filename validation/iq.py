"""Installation qualification: inspect the installation this process runs against, line by line.

Nothing here is taken from the configuration's say-so: versions are read from the installed
distributions, roles, triggers and grants from PostgreSQL's catalogues, migrations from the migration
table, the clock from the database server and the host. Every check is one Line (expected, found, pass).
"""

from __future__ import annotations

import importlib.metadata
import platform
import re
import shutil
import subprocess
import time
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils.translation import gettext_noop

from mes.changecontrol import masterdata_guard_tables, masterdata_trigger_name
from validation.checks import Line, line

ROOT = Path(settings.BASE_DIR)
PG_MINIMUM = 150000  # PostgreSQL 15: the version the project is built and tested on
_PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;#]+)")


def pinned_requirements(path: Path | None = None) -> list[tuple[str, str]]:
    path = path or ROOT / "requirements.txt"
    return [m.groups() for raw in path.read_text(encoding="utf-8").splitlines() if (m := _PIN.match(raw.strip()))]


def software_lines(requirements: Path | None = None) -> list[Line]:
    """Python and every pinned dependency, as installed, against requirements.txt."""
    found_py = platform.python_version()
    lines = [
        line(gettext_noop("Software"), gettext_noop("Python version"), "3.11.x", found_py, found_py.startswith("3.11."))
    ]
    for name, wanted in pinned_requirements(requirements):
        try:
            found = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found = "—"
        lines.append(
            line(gettext_noop("Software"), gettext_noop("Package %(name)s"), wanted, found, found == wanted, name=name)
        )
    return lines


def database_lines() -> list[Line]:
    """Server version, the runtime role's powers, guard triggers, grants, migrations."""
    if connection.vendor != "postgresql":
        found = connection.vendor
        return [line(gettext_noop("Database"), gettext_noop("Database server"), "PostgreSQL ≥ 15", found, False)]
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        num = int(cursor.fetchone()[0])
        cursor.execute("SHOW server_version")
        shown = cursor.fetchone()[0]
        lines = [
            line(gettext_noop("Database"), gettext_noop("Database server"), "PostgreSQL ≥ 15", shown, num >= PG_MINIMUM)
        ]
        lines += _role_lines(cursor)
        lines += _trigger_lines(cursor)
        lines += _grant_lines(cursor)
    lines.append(_migration_line())
    return lines


def _role_lines(cursor) -> list[Line]:
    cursor.execute(
        "SELECT current_user, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls FROM pg_roles "
        "WHERE rolname = current_user"
    )
    user, superuser, createrole, createdb, bypass = cursor.fetchone()
    cursor.execute(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND pg_get_userbyid(c.relowner) = current_user"
    )
    owned = cursor.fetchone()[0]
    area = gettext_noop("Database roles")
    return [
        line(
            area,
            gettext_noop("Runtime role %(role)s is not a superuser"),
            "no",
            _yes(superuser),
            not superuser,
            role=user,
        ),
        line(
            area,
            gettext_noop("Runtime role can neither create roles nor bypass row security"),
            "no",
            _yes(createrole or bypass),
            not (createrole or bypass),
        ),  # fmt: skip
        line(area, gettext_noop("Runtime role cannot create databases"), "no", _yes(createdb), not createdb),
        line(area, gettext_noop("Tables owned by the runtime role"), 0, owned, owned == 0),
        line(
            area,
            gettext_noop("A separate owner role runs migrations"),
            "yes",
            _yes(bool(settings.MES_DB_OWNER)),
            bool(settings.MES_DB_OWNER),
        ),  # fmt: skip
    ]


def _yes(value) -> str:
    return "yes" if value else "no"


def _guarded_tables() -> tuple[list[str], list[str]]:
    from audit.db import APPEND_ONLY_TABLES
    from audit.dbroles import gmp_models, history_tables

    existing = set(connection.introspection.table_names())
    gmp = sorted(m._meta.db_table for m in gmp_models() if m._meta.db_table in existing)
    append_only = sorted((set(APPEND_ONLY_TABLES) | set(history_tables())) & existing)
    return gmp, append_only


def _trigger_lines(cursor) -> list[Line]:
    """One line per audit, signature and GMP table: its guard trigger present and enabled."""
    from audit.db import APPEND_ONLY_TABLES

    cursor.execute("SELECT tgname FROM pg_trigger WHERE (NOT tgisinternal OR tgconstraint <> 0) AND tgenabled <> 'D'")
    enabled = {row[0] for row in cursor.fetchall()}
    area = gettext_noop("Audit guards")
    lines = []
    for table in sorted(APPEND_ONLY_TABLES):
        name = f"{table}_append_only"
        lines.append(line(area, gettext_noop("Append-only trigger on %(table)s"), name, _present(name, enabled),
                          name in enabled, table=table))  # fmt: skip
    for name in ("audit_auditevent_link", "audit_chainhead_guard"):
        lines.append(
            line(
                area, gettext_noop("Chain trigger %(name)s"), name, _present(name, enabled), name in enabled, name=name
            )
        )
    gmp, _append = _guarded_tables()
    for table in gmp:
        name = f"{table}_audit_upd"
        lines.append(line(area, gettext_noop("Audited-write trigger on GMP table %(table)s"), name, _present(name, enabled),
                          name in enabled, table=table))  # fmt: skip
    for table in masterdata_guard_tables(connection):
        name = masterdata_trigger_name(table)
        lines.append(line(area, gettext_noop("Change-control trigger on master data table %(table)s"), name,
                          _present(name, enabled), name in enabled, table=table))  # fmt: skip
    return lines


def _present(name: str, enabled: set[str]) -> str:
    return name if name in enabled else "missing or disabled"


def _grant_lines(cursor) -> list[Line]:
    """What the runtime role may do to GMP and append-only tables, read from has_table_privilege."""
    gmp, append_only = _guarded_tables()
    area = gettext_noop("Database grants")

    def holding(tables: list[str], privilege: str) -> list[str]:
        found = []
        for table in tables:
            cursor.execute("SELECT has_table_privilege(current_user, %s, %s)", [table, privilege])
            if cursor.fetchone()[0]:
                found.append(table)
        return found

    checks = [
        (gettext_noop("No DELETE on GMP tables"), holding(gmp, "DELETE")),
        (gettext_noop("No UPDATE or DELETE on audit, signature and history tables"),
         sorted(set(holding(append_only, "UPDATE")) | set(holding(append_only, "DELETE")))),
        (gettext_noop("No TRUNCATE on guarded tables"), holding(gmp + append_only, "TRUNCATE")),
    ]  # fmt: skip
    return [line(area, label, "none", _listed(tables), not tables) for label, tables in checks]


def _listed(tables: list[str]) -> str:
    return ", ".join(tables[:5]) + (f" … ({len(tables)})" if len(tables) > 5 else "") if tables else "none"


def _migration_line() -> Line:
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    names = [f"{m.app_label}.{m.name}" for m, _backwards in plan]
    return line(gettext_noop("Database"), gettext_noop("All migrations applied"), "0 unapplied", _listed(names) if names else "0 unapplied",
                not names)  # fmt: skip


def clock_lines() -> list[Line]:
    """Time zone settings, the database clock against the host's, the clock source and its sync."""
    area = gettext_noop("Time")
    lines = [
        line(area, gettext_noop("Time stored in UTC (USE_TZ)"), "True", settings.USE_TZ, settings.USE_TZ is True),
        line(area, gettext_noop("Plant time zone"), "—", settings.TIME_ZONE, None),
    ]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            before = time.time()
            cursor.execute("SELECT extract(epoch FROM clock_timestamp())")
            db_now = float(cursor.fetchone()[0])
            after = time.time()
        skew = abs(db_now - (before + after) / 2)
        lines.append(line(area, gettext_noop("Database clock against this host"), "< 2 s", f"{skew:.3f} s", skew < 2))
    source = _read("/sys/devices/system/clocksource/clocksource0/current_clocksource") or "unknown"
    lines.append(line(area, gettext_noop("Clock source"), "—", source, None))
    synced = _ntp_synchronized()
    lines.append(
        line(
            area,
            gettext_noop("Clock synchronised (NTP)"),
            "yes",
            synced,
            None if synced == "unknown" else synced == "yes",
        )
    )
    return lines


def _read(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return ""


def _ntp_synchronized() -> str:
    if not shutil.which("timedatectl"):
        return "unknown"
    try:
        out = subprocess.run(["timedatectl", "show", "--property=NTPSynchronized", "--value"],
                             capture_output=True, text=True, timeout=5)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    value = out.stdout.strip()
    return {"yes": "yes", "no": "no"}.get(value, "unknown")


def security_lines() -> list[Line]:
    """HTTPS settings and every error or warning of `manage.py check --deploy`."""
    from django.core import checks

    area = gettext_noop("Security")
    lines = [
        line(area, gettext_noop("DEBUG off"), "False", settings.DEBUG, settings.DEBUG is False),
        line(
            area,
            gettext_noop("HTTPS only (SECURE_SSL_REDIRECT or a TLS proxy header)"),
            "yes",
            _yes(settings.SECURE_SSL_REDIRECT or bool(settings.SECURE_PROXY_SSL_HEADER)),
            settings.SECURE_SSL_REDIRECT or bool(settings.SECURE_PROXY_SSL_HEADER),
        ),  # fmt: skip
        line(
            area,
            gettext_noop("Session and CSRF cookies sent over HTTPS only"),
            "yes",
            _yes(settings.SESSION_COOKIE_SECURE and settings.CSRF_COOKIE_SECURE),
            settings.SESSION_COOKIE_SECURE and settings.CSRF_COOKIE_SECURE,
        ),  # fmt: skip
        line(
            area,
            gettext_noop("HSTS (seconds)"),
            "≥ 31536000",
            settings.SECURE_HSTS_SECONDS,
            settings.SECURE_HSTS_SECONDS >= 31536000,
        ),  # fmt: skip
    ]
    # As `manage.py check --deploy` reports them: a check silenced in settings (SILENCED_SYSTEM_CHECKS, each
    # with its reason there) is a documented decision, not a finding.
    found = checks.run_checks(include_deployment_checks=True)
    messages = [m for m in found if m.level >= checks.WARNING and not m.is_silenced()]
    lines.append(line(area, gettext_noop("manage.py check --deploy"), "no errors or warnings",
                      "; ".join(f"{m.id}: {m.msg}" for m in messages)[:600] or "none", not messages))  # fmt: skip
    return lines


def platform_lines() -> list[Line]:
    """Fonts for Chinese PDFs, the message broker, the audit key ring, the checkpoint witness, the trail."""
    return [_font_line(), _broker_line(), *_audit_lines()]


def _font_line() -> Line:
    families = ""
    if shutil.which("fc-list"):
        out = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, timeout=20)
        families = ", ".join(sorted({f.split(",")[0].strip() for f in out.stdout.splitlines() if f.strip()})[:3])
    ok = "Noto" in families and "CJK" in families
    return line(gettext_noop("Platform"), gettext_noop("Chinese fonts for PDFs"), "Noto CJK", families or "none", ok)


def _broker_line() -> Line:
    url = settings.CELERY_BROKER_URL
    area, label = gettext_noop("Platform"), gettext_noop("Message broker reachable")
    if url.startswith(("redis://", "rediss://")):
        import redis

        try:
            found = "PONG" if redis.Redis.from_url(url, socket_timeout=3).ping() else "no answer"
        except redis.RedisError as exc:
            found = f"unreachable: {exc}"[:200]
        return line(area, label, "PONG", found, found == "PONG")
    folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("data_folder_in", ""))
    return line(area, label, "Redis (production)", f"filesystem {folder}", False)


def _audit_lines() -> list[Line]:
    from django.core.exceptions import ImproperlyConfigured

    from audit.keys import key_ring
    from audit.verification import checkpoint_path, read_checkpoints, verify_chain

    area = gettext_noop("Audit trail")
    try:
        ring = key_ring()
        found, ok = f"{len(ring.keys)} key(s), current {ring.current}", True
    except ImproperlyConfigured as exc:
        found, ok = str(exc)[:200], False
    lines = [line(area, gettext_noop("Audit key ring present"), "≥ 1 key", found, ok)]
    path = checkpoint_path()
    count = len(read_checkpoints()) if path.exists() else 0
    lines.append(line(area, gettext_noop("Checkpoint witness store present"), str(path), f"{count} checkpoint(s)" if path.exists()
                      else "missing", path.exists()))  # fmt: skip
    if ok:
        result = verify_chain()
        found = (
            f"{result.events} events, {result.signatures} signatures" if result.ok else "; ".join(result.problems)[:300]
        )
        lines.append(line(area, gettext_noop("Audit trail verifies"), "intact", found, result.ok))
    return lines


def run_iq() -> list[Line]:
    """Every installation check, in the order the report lists them."""
    return [*software_lines(), *database_lines(), *clock_lines(), *security_lines(), *platform_lines()]
