"""Database triggers that make the inventory ledger and the genealogy edges append-only.

UPDATE is refused on both PostgreSQL and SQLite; DELETE is refused on PostgreSQL. (SQLite test
teardown empties tables with DELETE, while PostgreSQL uses TRUNCATE, which row triggers do not
see; the ORM refuses deletion of ledger rows on every database anyway.)
"""

from __future__ import annotations

APPEND_ONLY_TABLES = ("materials_ledgerentry", "materials_genealogyedge")

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION mes_materials_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'MES: % on % is refused: the table is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def install(connection, tables=APPEND_ONLY_TABLES) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_PG_FUNCTION)
            for table in tables:
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")
                cursor.execute(
                    f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                    f"FOR EACH ROW EXECUTE FUNCTION mes_materials_refuse_change();"
                )
        elif connection.vendor == "sqlite":
            for table in tables:
                cursor.execute(
                    f"CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, 'MES: UPDATE on {table} is refused: the table is "
                    f"append-only'); END;"
                )


def remove(connection, tables=APPEND_ONLY_TABLES) -> None:
    with connection.cursor() as cursor:
        for table in tables:
            if connection.vendor == "postgresql":
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")
            else:
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update;")
