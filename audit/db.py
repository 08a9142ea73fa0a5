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


# --- The chain's one way in (PostgreSQL) --------------------------------------------------------------
# The runtime role may INSERT events but not UPDATE the chain head: a SECURITY DEFINER trigger (owned
# by the owner role) checks that each new event extends the chain at the head, stamps the inserting
# transaction on it and moves the head. A direct UPDATE of the head is refused, so a tail cannot be
# cut off by moving the head back, and no event can be slotted in out of order.
CHAIN_MARK = "MES-AUDIT-CHAIN"
GUARD_MARK = "MES-AUDIT-GUARD"

_PG_CHAIN_FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION mes_audit_link() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE head_seq bigint; head_hash varchar;
BEGIN
    SELECT seq, hash INTO head_seq, head_hash FROM audit_chainhead WHERE id = 1 FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO audit_chainhead (id, seq, hash) VALUES (1, 0, repeat('0', 64));
        head_seq := 0; head_hash := repeat('0', 64);
    END IF;
    IF NEW.seq IS DISTINCT FROM head_seq + 1 OR NEW.prev_hash IS DISTINCT FROM head_hash THEN
        RAISE EXCEPTION '{CHAIN_MARK}: event #% does not extend the audit chain at #%', NEW.seq, head_seq
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    NEW.txid := pg_current_xact_id()::text::bigint;
    UPDATE audit_chainhead SET seq = NEW.seq, hash = NEW.hash WHERE id = 1;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE FUNCTION mes_audit_head_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF pg_trigger_depth() < 2 THEN
        RAISE EXCEPTION '{CHAIN_MARK}: % on audit_chainhead is refused: the head moves only with an appended event',
            TG_OP USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$;
"""


def install_chain_guard(connection) -> None:
    """The link trigger on the event table and the guard on the head (PostgreSQL; idempotent)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(_PG_CHAIN_FUNCTIONS)
        cursor.execute("DROP TRIGGER IF EXISTS audit_auditevent_link ON audit_auditevent")
        cursor.execute(
            "CREATE TRIGGER audit_auditevent_link BEFORE INSERT ON audit_auditevent "
            "FOR EACH ROW EXECUTE FUNCTION mes_audit_link()"
        )
        cursor.execute("DROP TRIGGER IF EXISTS audit_chainhead_guard ON audit_chainhead")
        cursor.execute(
            "CREATE TRIGGER audit_chainhead_guard BEFORE UPDATE OR DELETE ON audit_chainhead "
            "FOR EACH ROW EXECUTE FUNCTION mes_audit_head_guard()"
        )


def remove_chain_guard(connection) -> None:
    """Drop them (the owner: test teardown's flush and the tests that play a tampering superuser)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER IF EXISTS audit_auditevent_link ON audit_auditevent")
        cursor.execute("DROP TRIGGER IF EXISTS audit_chainhead_guard ON audit_chainhead")


# --- Every write to a GMP table comes with its audit event (PostgreSQL) -------------------------------
# A deferred constraint trigger on each GMP table checks, when the transaction commits, that the newest
# audit event of the written record was appended by this same transaction. The audited save always
# appends one; raw SQL, QuerySet.update() through _base_manager, loaddata or a psql session do not, and
# their transaction is refused at COMMIT. Columns the audit leaves out (derived caches, auto_now stamps)
# do not count as a change.
_PG_GUARD_FUNCTION = f"""
CREATE OR REPLACE FUNCTION mes_require_audit() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE record_id text := to_jsonb(NEW) ->> TG_ARGV[1]; last_tx bigint;
BEGIN
    SELECT txid INTO last_tx FROM audit_auditevent
     WHERE object_type = TG_ARGV[0] AND object_id = record_id ORDER BY seq DESC LIMIT 1;
    IF last_tx IS DISTINCT FROM pg_current_xact_id()::text::bigint THEN
        RAISE EXCEPTION '{GUARD_MARK}: % of % #% without its audit event is refused', TG_OP, TG_TABLE_NAME, record_id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NULL;
END;
$$;
"""


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _guard_statements(table: str, label: str, pk_column: str, columns: list[str]) -> list[str]:
    args = f"'{label}', '{pk_column}'"
    changed = " OR ".join(f"OLD.{_quote(c)} IS DISTINCT FROM NEW.{_quote(c)}" for c in columns) or "false"
    return [
        f"DROP TRIGGER IF EXISTS {_quote(table + '_audit_ins')} ON {_quote(table)}",
        f"DROP TRIGGER IF EXISTS {_quote(table + '_audit_upd')} ON {_quote(table)}",
        f"CREATE CONSTRAINT TRIGGER {_quote(table + '_audit_ins')} AFTER INSERT ON {_quote(table)} "
        f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION mes_require_audit({args})",
        f"CREATE CONSTRAINT TRIGGER {_quote(table + '_audit_upd')} AFTER UPDATE ON {_quote(table)} "
        f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION mes_require_audit({args})",
    ]


def install_write_guard(connection, models) -> list[str]:
    """Guard every GMP model's table (PostgreSQL; idempotent). Returns the tables guarded."""
    if connection.vendor != "postgresql":
        return []
    existing = set(connection.introspection.table_names())
    guarded = []
    with connection.cursor() as cursor:
        cursor.execute(_PG_GUARD_FUNCTION)
        for model in models:
            table = model._meta.db_table
            if table not in existing:
                continue
            for statement in _guard_statements(
                table, audited_label(model), model._meta.pk.column, audited_columns(model)
            ):
                cursor.execute(statement)
            guarded.append(table)
    return guarded


def remove_write_guard(connection, models) -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in models:
            table = model._meta.db_table
            cursor.execute(f"DROP TRIGGER IF EXISTS {_quote(table + '_audit_ins')} ON {_quote(table)}")
            cursor.execute(f"DROP TRIGGER IF EXISTS {_quote(table + '_audit_upd')} ON {_quote(table)}")


def audited_label(model) -> str:
    """The object_type the audited save writes for a model (audit.services.object_label)."""
    return f"{model._meta.app_label}.{model._meta.model_name}"


def audited_columns(model) -> list[str]:
    """The columns whose change the audited save records (not excluded, not stamped by auto_now)."""
    excluded = set(getattr(model, "AUDIT_EXCLUDE", ()))
    return [
        f.column for f in model._meta.concrete_fields if f.name not in excluded and not getattr(f, "auto_now", False)
    ]
