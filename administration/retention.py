"""Retention (BAT-4, QC-5, AUD-4): GMP records cannot be deleted, by any entry point.

- ORM: GMPModel instances and querysets refuse delete() (audit/gmp.py), and the refusal is audited.
- Django admin: GMPAdmin offers no deletion; a forced delete URL is refused and audited.
- Database: a trigger on every GMP table, its history table and auth_user refuses DELETE (and
  TRUNCATE on PostgreSQL). Installed after every migrate, so tables of new apps are covered too.
- Raw SQL: the trigger refuses it; an execute wrapper on every connection recognises the refusal and
  writes an audit event and a security alert (e-mailed at once), then lets the error propagate. The
  event is written in the caller's transaction: if the caller rolls back, the e-mail and the server
  log ("mes.security") keep the trace. SQL typed outside the application (psql) is refused by the
  trigger and logged by the database server only.

Relations between GMP records use PROTECT (a test walks every foreign key).
"""

from __future__ import annotations

import logging

from django.apps import apps
from django.db import DatabaseError

from audit.db import RETENTION_MARK, install_retention, remove_retention

logger = logging.getLogger("mes.security")
EXTRA_TABLES = ("auth_user",)  # accounts are never deleted, so usernames are never reused


def gmp_models() -> list:
    from audit.gmp import GMPModel

    return [m for m in apps.get_models() if issubclass(m, GMPModel) and not m._meta.abstract and m._meta.managed]


def retention_tables(connection=None) -> list[str]:
    """Every GMP table and its history table (and auth_user) that exists in the database."""
    tables: list[str] = list(EXTRA_TABLES)
    for model in gmp_models():
        tables.append(model._meta.db_table)
        history = getattr(model, "history", None)
        if history is not None and hasattr(history, "model"):
            tables.append(history.model._meta.db_table)
    tables = sorted(set(tables))
    if connection is not None:
        existing = set(connection.introspection.table_names())
        tables = [t for t in tables if t in existing]
    return tables


def retention_install(connection) -> list[str]:
    tables = retention_tables(connection)
    install_retention(connection, tables)
    return tables


def retention_lift(connection) -> list[str]:
    """Drop the triggers (database owner only): the test suite's flush, a supervised purge."""
    tables = retention_tables(connection)
    remove_retention(connection, tables)
    return tables


# --- auditing raw SQL refusals ---------------------------------------------------------------------
def _is_delete(sql: str) -> bool:
    head = sql.lstrip()[:8].upper()
    return head.startswith("DELETE") or head.startswith("TRUNCATE")


def retention_guard(execute, sql, params, many, context):
    """Execute wrapper: a DELETE refused by a retention trigger is audited before the error is raised.

    On PostgreSQL a failed statement aborts the transaction, so inside an atomic block the DELETE runs
    in a savepoint that is rolled back on refusal, which lets the audit event be written."""
    if not isinstance(sql, str) or not _is_delete(sql):
        return execute(sql, params, many, context)
    connection = context["connection"]
    savepoint = None
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        savepoint = connection.savepoint()
    try:
        result = execute(sql, params, many, context)
    except DatabaseError as exc:
        if savepoint is not None:
            connection.savepoint_rollback(savepoint)
        if RETENTION_MARK in str(exc):
            _audit_refusal(sql, exc)
        raise
    if savepoint is not None:
        connection.savepoint_commit(savepoint)
    return result


def _audit_refusal(sql: str, exc: Exception) -> None:
    from administration.models import AlertKind
    from administration.services.alerts import alert_raise
    from audit.services import audit_record

    table = _table_of(sql)
    logger.error("refused deletion of GMP records in %s: %s", table, sql[:200])
    try:
        audit_record(
            action="retention.delete_refused",
            object_type=table,
            new={"entry_point": "sql", "statement": sql[:500]},
            reason="GMP records are kept for their retention period",
        )
        alert_raise(kind=AlertKind.DELETE_REFUSED, detail=f"SQL: {sql[:300]}", mail_now=True)
    except DatabaseError:  # never hide the original refusal behind a failure to record it
        logger.exception("could not audit the refused deletion")


def _table_of(sql: str) -> str:
    words = sql.replace('"', " ").replace("`", " ").split()
    upper = [w.upper() for w in words]
    for keyword in ("FROM", "TABLE", "TRUNCATE"):
        if keyword in upper:
            index = upper.index(keyword) + 1
            while index < len(words) and upper[index] in ("TABLE", "ONLY"):
                index += 1
            if index < len(words):
                return words[index].strip(";,")[:100]
    return ""


def install_guard(sender, connection, **kwargs) -> None:
    """connection_created receiver: add the wrapper once per connection (first in the list, because
    `connection.execute_wrapper()` context managers pop the last one)."""
    if retention_guard not in connection.execute_wrappers:
        connection.execute_wrappers.insert(0, retention_guard)
