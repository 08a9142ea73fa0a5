"""Database triggers that make tables append-only (PostgreSQL and SQLite).

Installed by migrations. Even raw SQL through the application's connection cannot change or
remove a protected row. Only the database owner can disable a trigger (ALTER TABLE ... DISABLE
TRIGGER), which is how the tamper-detection test simulates an attacker with owner rights.
"""

from __future__ import annotations

APPEND_ONLY_TABLES = ("audit_auditevent", "audit_signature")

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION mes_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'MES: % on % is refused: the table is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def _pg_create(table: str) -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};",
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION mes_refuse_change();",
        f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION mes_refuse_change();",
    ]


def _sqlite_create(table: str) -> list[str]:
    return [
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, 'MES: UPDATE on {table} is refused: the table is append-only'); END;",
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, 'MES: DELETE on {table} is refused: the table is append-only'); END;",
    ]


def install_append_only(connection, tables=APPEND_ONLY_TABLES) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_PG_FUNCTION)
            statements = [s for t in tables for s in _pg_create(t)]
        elif connection.vendor == "sqlite":
            statements = [s for t in tables for s in _sqlite_create(t)]
        else:
            raise NotImplementedError(f"append-only triggers are not written for {connection.vendor}")
        for statement in statements:
            cursor.execute(statement)


def remove_append_only(connection, tables=APPEND_ONLY_TABLES) -> None:
    """Drop the triggers (as the database owner). Used by tests that simulate tampering."""
    with connection.cursor() as cursor:
        for table in tables:
            if connection.vendor == "postgresql":
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};")
            else:
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update;")
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete;")


# --- Retention: GMP records cannot be deleted (BAT-4, QC-5, AUD-4) ---------------------------------
# Rows of GMP tables may be inserted and updated (through the audited save) but never deleted nor
# truncated, by any path: ORM, admin, raw SQL. The message names the rule so the application can
# recognise the refusal and audit the attempt.
RETENTION_MARK = "MES-RETENTION"

_PG_RETENTION_FUNCTION = f"""
CREATE OR REPLACE FUNCTION mes_refuse_delete() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{RETENTION_MARK}: % on % is refused: GMP records are kept for their retention period',
        TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def _pg_retention(table: str) -> list[str]:
    return [
        f'DROP TRIGGER IF EXISTS "{table}_retention" ON "{table}";',
        f'CREATE TRIGGER "{table}_retention" BEFORE DELETE ON "{table}" '
        f"FOR EACH ROW EXECUTE FUNCTION mes_refuse_delete();",
        f'DROP TRIGGER IF EXISTS "{table}_retention_truncate" ON "{table}";',
        f'CREATE TRIGGER "{table}_retention_truncate" BEFORE TRUNCATE ON "{table}" '
        f"FOR EACH STATEMENT EXECUTE FUNCTION mes_refuse_delete();",
    ]


def _sqlite_retention(table: str) -> list[str]:
    message = f"{RETENTION_MARK}: DELETE on {table} is refused: GMP records are kept for their retention period"
    return [
        f'CREATE TRIGGER IF NOT EXISTS "{table}_retention" BEFORE DELETE ON "{table}" '
        f"BEGIN SELECT RAISE(ABORT, '{message}'); END;"
    ]


def install_retention(connection, tables) -> None:
    """Refuse DELETE (and TRUNCATE on PostgreSQL) on `tables`. Idempotent."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_PG_RETENTION_FUNCTION)
            statements = [s for t in tables for s in _pg_retention(t)]
        elif connection.vendor == "sqlite":
            statements = [s for t in tables for s in _sqlite_retention(t)]
        else:
            raise NotImplementedError(f"retention triggers are not written for {connection.vendor}")
        for statement in statements:
            cursor.execute(statement)


def remove_retention(connection, tables) -> None:
    """Drop the retention triggers (as the database owner: test teardown, a supervised purge)."""
    with connection.cursor() as cursor:
        for table in tables:
            if connection.vendor == "postgresql":
                cursor.execute(f'DROP TRIGGER IF EXISTS "{table}_retention" ON "{table}";')
                cursor.execute(f'DROP TRIGGER IF EXISTS "{table}_retention_truncate" ON "{table}";')
            else:
                cursor.execute(f'DROP TRIGGER IF EXISTS "{table}_retention";')
