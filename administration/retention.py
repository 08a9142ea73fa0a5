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
import re

from administration.models import AlertKind
from administration.services.alerts import alert_raise
from audit.db import RETENTION_MARK, install_retention, remove_retention
from audit.dbroles import gmp_models
from audit.services import audit_record

logger = logging.getLogger("mes.security")
EXTRA_TABLES = ("auth_user",)  # accounts are never deleted, so usernames are never reused


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


# --- auditing refused writes ---------------------------------------------------------------------
# The foundation (audit.refusals) recognises every write the database refuses, records it outside the
# caller's transaction and announces it; here it becomes an audit event (at once, when the caller's
# transaction can still take it) and a security alert e-mailed to the administrators.
_DELETES = re.compile(r"\b(DELETE|TRUNCATE)\b")


def on_write_refused(sender, entry: dict, **kwargs) -> None:
    statement = entry.get("statement", "")
    # refused by the retention trigger (the owner) or by the runtime role having no DELETE right at all
    retention = RETENTION_MARK in entry.get("message", "") or bool(_DELETES.search(statement.upper()))
    if sender == "statement":  # in the caller's transaction; the fold skips it if it commits
        audit_record(
            action="retention.delete_refused" if retention else "database.write_refused",
            object_type=_table_of(statement) or "database",
            object_id=entry["id"],
            new={"entry_point": "sql", "statement": statement, "message": entry.get("message", "")},
            reason="GMP records are kept for their retention period" if retention else "refused by the database",
        )
    kind = AlertKind.DELETE_REFUSED if retention else AlertKind.WRITE_REFUSED
    # At statement time the mail waits for the caller's commit: if the caller rolls back, the event and
    # the alert go with it and the fold (within a minute) records and mails the refusal, once.
    detail = f"{entry.get('message', '')[:200]} SQL: {statement[:300]}"
    alert_raise(kind=kind, detail=detail, mail_now=sender != "statement")


def _table_of(sql: str) -> str:
    words = sql.replace('"', " ").replace("`", " ").split()
    upper = [w.upper() for w in words]
    for keyword in ("FROM", "TABLE", "TRUNCATE", "UPDATE", "INTO"):
        if keyword in upper:
            index = upper.index(keyword) + 1
            while index < len(words) and upper[index] in ("TABLE", "ONLY"):
                index += 1
            if index < len(words):
                return words[index].strip(";,()")[:100]
    return ""
