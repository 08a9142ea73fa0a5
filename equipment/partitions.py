"""Machine readings in monthly partitions (PostgreSQL; issue 20).

`equipment_tagreading` is range-partitioned by `source_ts`: one partition per calendar month (UTC),
named `equipment_tagreading_pYYYYMM`, plus `equipment_tagreading_default` so that no insert can
fail for a month without its partition. The primary key is (id, source_ts) in the database (a
partitioned table's unique keys must contain the partition key); Django keeps `id` as the key, which
stays unique (one identity sequence). Nothing references a reading by foreign key.

Guards, on the parent and on every partition:
- row triggers refusing UPDATE and DELETE are declared on the parent; PostgreSQL clones them onto
  every partition, those created later included;
- TRUNCATE triggers are per table (PostgreSQL does not clone statement triggers), so the partition
  function adds them to each partition it creates.

Partitions are created by `mes_reading_partition_ensure(month)`, a SECURITY DEFINER function owned by
the owner role: the runtime role (beat) may create next month's partition but owns nothing, so it can
neither DETACH nor DROP one. The function copies the parent's grants onto the new partition. When it
creates a month that already has rows in DEFAULT it moves them (detach the default, create the month
and a new default, re-insert through the parent, drop the old default), in its one transaction.

On SQLite (embedded demo) the table stays an ordinary one: every function here is a no-op there.
"""

from __future__ import annotations

import datetime as dt

PARENT = "equipment_tagreading"
DEFAULT = f"{PARENT}_default"
COLUMNS = "id, tag_id, value, text_value, status_code, source_ts, server_ts, received_at, clock_suspect"

_PARTITION_FUNCTION = f"""
CREATE OR REPLACE FUNCTION mes_reading_partition_ensure(month date) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    first date := date_trunc('month', month)::date;
    part text := '{PARENT}_p' || to_char(first, 'YYYYMM');
    lower timestamptz := (first::timestamp AT TIME ZONE 'UTC');
    upper timestamptz := ((first + interval '1 month')::timestamp AT TIME ZONE 'UTC');
    waiting bigint;
BEGIN
    IF to_regclass(part) IS NOT NULL THEN
        RETURN -1;  -- already there
    END IF;
    LOCK TABLE {PARENT} IN ACCESS EXCLUSIVE MODE;
    SELECT count(*) INTO waiting FROM {DEFAULT} WHERE source_ts >= lower AND source_ts < upper;
    IF waiting > 0 THEN
        -- rows written earlier in this transaction still owe their tag check: settle it now, a table
        -- with pending trigger events cannot be dropped
        SET CONSTRAINTS {PARENT}_tag_id_fk IMMEDIATE;
        ALTER TABLE {PARENT} DETACH PARTITION {DEFAULT};
        ALTER TABLE {DEFAULT} RENAME TO {DEFAULT}_moving;
        PERFORM mes_reading_partition_attach('{DEFAULT}', 'DEFAULT');
    END IF;
    PERFORM mes_reading_partition_attach(part, format('FOR VALUES FROM (%L) TO (%L)', lower, upper));
    IF waiting > 0 THEN
        INSERT INTO {PARENT} ({COLUMNS}) SELECT {COLUMNS} FROM {DEFAULT}_moving;
        DROP TABLE {DEFAULT}_moving;
    END IF;
    RETURN waiting;
END;
$$;

CREATE OR REPLACE FUNCTION mes_reading_partition_attach(part text, bounds text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE grant_row record;
BEGIN
    EXECUTE format('CREATE TABLE public.%I PARTITION OF public.{PARENT} %s', part, bounds);
    EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I FOR EACH STATEMENT '
                   'EXECUTE FUNCTION public.mes_refuse_change()', part || '_no_truncate', part);
    FOR grant_row IN
        SELECT pg_get_userbyid(a.grantee) AS grantee, string_agg(a.privilege_type, ', ') AS privileges
          FROM pg_class c, aclexplode(c.relacl) a
         WHERE c.oid = '{PARENT}'::regclass AND a.grantee <> c.relowner AND a.grantee <> 0
         GROUP BY a.grantee
    LOOP
        EXECUTE format('GRANT %s ON public.%I TO %I', grant_row.privileges, part, grant_row.grantee);
    END LOOP;
END;
$$;
REVOKE ALL ON FUNCTION mes_reading_partition_attach(text, text) FROM PUBLIC;
"""


def is_partitioned(connection) -> bool:
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [PARENT])
        row = cursor.fetchone()
    return bool(row) and row[0] == "p"


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(day: dt.date) -> dt.date:
    first = month_start(day)
    return (first + dt.timedelta(days=32)).replace(day=1)


def partition_name(month: dt.date) -> str:
    return f"{PARENT}_p{month:%Y%m}"


def install_functions(connection) -> None:
    """(Re)create the partition functions and the parent's row guards (owner; idempotent)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE OR REPLACE FUNCTION mes_refuse_change() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION "
            "'MES: % on % is refused: the table is append-only', TG_OP, TG_TABLE_NAME "
            "USING ERRCODE = 'insufficient_privilege'; END; $$ LANGUAGE plpgsql;"
        )
        cursor.execute(_PARTITION_FUNCTION)
    guards_install(connection)


def partition_ensure(connection, month: dt.date) -> int:
    """Create the month's partition; returns rows moved out of DEFAULT, or -1 if it already existed."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT mes_reading_partition_ensure(%s)", [month_start(month)])
        return cursor.fetchone()[0]


def partitions(connection) -> list[str]:
    """The partitions' names, oldest first (DEFAULT last)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(%s) ORDER BY c.relname = %s, c.relname",
            [PARENT, DEFAULT],
        )
        return [row[0] for row in cursor.fetchall()]


def guards_install(connection) -> None:
    """Row guards on the parent (cloned to every partition) and a TRUNCATE guard on each table."""
    if not is_partitioned(connection):
        return
    tables = [PARENT, *partitions(connection)]
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER IF EXISTS {PARENT}_append_only ON {PARENT}")
        cursor.execute(
            f"CREATE TRIGGER {PARENT}_append_only BEFORE UPDATE OR DELETE ON {PARENT} "
            "FOR EACH ROW EXECUTE FUNCTION mes_refuse_change()"
        )
        for table in tables:
            cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
            cursor.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION mes_refuse_change()"
            )


def guards_lift(connection) -> None:
    """Drop the guards (owner only): the test suite's flush."""
    if not is_partitioned(connection):
        return
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER IF EXISTS {PARENT}_append_only ON {PARENT}")
        for table in [PARENT, *partitions(connection)]:
            cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")


def partition_rows(connection, month: dt.date) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT count(*) FROM "{partition_name(month)}"')
        return cursor.fetchone()[0]


def partition_drop(connection, month: dt.date) -> None:
    """DETACH and DROP a month (the owner role only: the runtime role owns nothing)."""
    name = partition_name(month)
    with connection.cursor() as cursor:
        cursor.execute(f'ALTER TABLE {PARENT} DETACH PARTITION "{name}"')
        cursor.execute(f'DROP TABLE "{name}"')
