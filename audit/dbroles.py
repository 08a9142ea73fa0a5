"""Least-privilege database roles (PostgreSQL).

Two roles share one database:
- the owner (DATABASE_OWNER_URL) runs migrations, owns every table, trigger and function;
- the runtime role (DATABASE_URL) is what the web, workers and beat use: not superuser, owning nothing,
  so it cannot ALTER or DISABLE a trigger, set session_replication_role, TRUNCATE, or create objects.

After every migrate the owner grants the runtime role exactly what the application needs:
- GMP tables: SELECT, INSERT, UPDATE (never DELETE; each write must come with its audit event);
- their history tables, the audit events and the signatures: SELECT, INSERT (append only);
- the chain head: SELECT and the row lock the append takes (UPDATE of its id column only; a trigger
  refuses any update that is not the link trigger moving it);
- every other table: SELECT, INSERT, UPDATE, DELETE; migrations' record: SELECT;
- a partition (machine readings' months): the same as its partitioned parent.

`runtime_role_problems` is the system check shown by `check --deploy` and the System status page.
"""

from __future__ import annotations

from contextlib import contextmanager

from django.apps import apps
from django.conf import settings
from django.utils.translation import gettext as _

from audit.db import APPEND_ONLY_TABLES
from audit.gmp import GMPModel
from audit.history import history_model_of

HEAD_TABLE = "audit_chainhead"
_CREDENTIALS = ("USER", "PASSWORD", "HOST", "PORT")
# what the runtime role may do on GMP tables, on append-only tables, on every other table
_PRIVILEGES = ("SELECT, INSERT, UPDATE", "SELECT, INSERT", "SELECT, INSERT, UPDATE, DELETE")


def gmp_models() -> list:
    return [
        m
        for m in apps.get_models()
        if issubclass(m, GMPModel) and not m._meta.abstract and m._meta.managed and not m._meta.proxy
    ]


def history_tables() -> list[str]:
    return [history_model_of(m)._meta.db_table for m in gmp_models()]


def owner_configured() -> bool:
    return bool(settings.MES_DB_OWNER)


@contextmanager
def as_owner(connection):
    """Run the block connected as the owner role (migrations, the test suite's flush). A no-op without
    DATABASE_OWNER_URL, or when the connection already is the owner's."""
    owner = settings.MES_DB_OWNER
    current = connection.settings_dict
    if not owner or connection.vendor != "postgresql" or current.get("USER") == owner["USER"]:
        yield
        return
    saved = {key: current.get(key) for key in _CREDENTIALS}
    connection.close()
    current.update({key: owner[key] for key in _CREDENTIALS})
    current["RUNTIME_USER"] = saved["USER"]
    try:
        yield
    finally:
        connection.close()
        current.update(saved)
        current.pop("RUNTIME_USER", None)


def runtime_role(connection) -> str | None:
    """The runtime role's name while connected as the owner (None when there is no separate owner)."""
    return connection.settings_dict.get("RUNTIME_USER")


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def runtime_grants(connection) -> str | None:
    """Grant the runtime role its privileges on every table (run as the owner after migrate)."""
    role = runtime_role(connection)
    if connection.vendor != "postgresql" or not role:
        return None
    existing = set(connection.introspection.table_names())
    gmp = {m._meta.db_table for m in gmp_models()} & existing
    append_only = (set(history_tables()) | set(APPEND_ONLY_TABLES)) & existing
    special = gmp | append_only | {HEAD_TABLE, "django_migrations"}
    other = sorted(existing - special)
    r = _quoted(role)
    statements = [
        f"GRANT USAGE ON SCHEMA public TO {r}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {r}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {r}",
        f"GRANT SELECT ON {HEAD_TABLE}, django_migrations TO {r}",
        f"GRANT UPDATE (id) ON {HEAD_TABLE} TO {r}",
    ]
    for tables, privileges in zip((gmp, append_only, other), _PRIVILEGES, strict=True):
        if tables:
            statements.append(f"GRANT {privileges} ON {', '.join(_quoted(t) for t in sorted(tables))} TO {r}")
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
        _grant_partitions(cursor, r, (gmp, append_only, other))
    return role


def _grant_partitions(cursor, role: str, groups) -> None:
    """A partition carries its parent's grants (the REVOKE above took them): the runtime role reads and
    writes through the parent, and the partition functions give every new partition the same."""
    for tables, granted in zip(groups, _PRIVILEGES, strict=True):
        if not tables:
            continue
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE c.relispartition AND p.relname = ANY(%s)",
            [sorted(tables)],
        )
        for (partition,) in cursor.fetchall():
            cursor.execute(f"GRANT {granted} ON {_quoted(partition)} TO {role}")


# --- the system check -----------------------------------------------------------------------------
def runtime_role_problems(connection) -> list[str]:
    """What makes the application's own connection more powerful than least privilege allows, or a
    guard missing. Empty when all holds. SQLite (the embedded demo) has no roles: only its triggers."""
    if connection.vendor != "postgresql":
        return _sqlite_problems(connection)
    problems = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolcreaterole, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        superuser, createrole, bypass = cursor.fetchone()
        if superuser:
            problems.append(
                _("the application connects as a PostgreSQL superuser (set DATABASE_URL to the runtime role)")
            )
        if createrole or bypass:
            problems.append(_("the application's database role can create roles or bypass row security"))
        cursor.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND pg_get_userbyid(c.relowner) = current_user"
        )
        if cursor.fetchone()[0]:
            problems.append(_("the application's database role owns tables (it could disable their triggers)"))
        problems += _missing_guards(cursor, connection)
    return problems


def _missing_guards(cursor, connection) -> list[str]:
    cursor.execute("SELECT tgname FROM pg_trigger WHERE (NOT tgisinternal OR tgconstraint <> 0) AND tgenabled <> 'D'")
    triggers = {row[0] for row in cursor.fetchall()}
    needed = {f"{t}_append_only" for t in APPEND_ONLY_TABLES} | {"audit_auditevent_link", "audit_chainhead_guard"}
    existing = set(connection.introspection.table_names())
    needed |= {f"{m._meta.db_table}_audit_upd" for m in gmp_models() if m._meta.db_table in existing}
    missing = sorted(needed - triggers)
    if not missing:
        return []
    shown = ", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")
    return [
        _("%(n)s database guard trigger(s) missing or disabled: %(names)s (run manage.py migrate as the owner)")
        % {"n": len(missing), "names": shown}
    ]


def _sqlite_problems(connection) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        triggers = {row[0] for row in cursor.fetchall()}
    missing = [t for t in APPEND_ONLY_TABLES if f"{t}_no_update" not in triggers]
    return [_("append-only triggers missing on: %(names)s") % {"names": ", ".join(missing)}] if missing else []
