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
