"""Machine readings in monthly PostgreSQL partitions (issue 20): routing, pruning, guards, retirement."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from administration.services.archive import archive_export
from administration.services.readings import RetireRefused, readings_retire
from audit.context import audit_context
from audit.models import AuditEvent
from audit.verification import verify_chain, write_checkpoint
from equipment import partitions
from equipment.models import EquipmentTag, TagReading
from equipment.services.partitions import reading_partitions_ensure

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="declarative partitioning is PostgreSQL's (SQLite: one table)"
)
UTC = dt.UTC


@pytest.fixture
def tag(make_equipment):
    with audit_context(action="test.tag.create"):
        return EquipmentTag.objects.create(equipment=make_equipment("GRAN-01"), key="temp", node_id="ns=2;s=T")


def read(tag, when: dt.datetime, value=1.0) -> TagReading:
    return TagReading.objects.create(tag=tag, value=value, source_ts=when, received_at=when)


def table_of(reading: TagReading) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT tableoid::regclass::text FROM {partitions.PARENT} WHERE id = %s", [reading.id])
        return cursor.fetchone()[0]


def refused(sql: str) -> bool:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    except DatabaseError:
        return True
    return False


@pytest.mark.django_db
def test_migration_made_monthly_partitions_ahead_and_a_default():
    names = partitions.partitions(connection)
    this_month = partitions.month_start(dt.datetime.now(UTC).date())
    assert partitions.partition_name(this_month) in names
    assert names[-1] == partitions.DEFAULT
    ahead = this_month
    for _ in range(3):
        ahead = partitions.next_month(ahead)
        assert partitions.partition_name(ahead) in names


@pytest.mark.django_db
def test_reading_lands_in_its_month_and_a_range_query_reads_one_partition(tag):
    now = dt.datetime.now(UTC)
    reading = read(tag, now)
    assert table_of(reading) == partitions.partition_name(now.date())
    with connection.cursor() as cursor:
        cursor.execute(
            f"EXPLAIN SELECT * FROM {partitions.PARENT} WHERE tag_id = %s AND source_ts >= %s AND source_ts < %s",
            [tag.pk, now - dt.timedelta(hours=1), now],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    scanned = {name for name in partitions.partitions(connection) if name in plan}
    assert scanned == {partitions.partition_name(now.date())}


@pytest.mark.django_db
def test_month_without_partition_lands_in_default_and_moves_when_created(tag):
    when = dt.datetime(2019, 6, 15, 12, tzinfo=UTC)
    reading = read(tag, when)
    assert table_of(reading) == partitions.DEFAULT
    created = reading_partitions_ensure(today=when.date(), months_ahead=0)
    assert created == {"equipment_tagreading_p201906": 1}
    assert table_of(reading) == "equipment_tagreading_p201906"
    assert TagReading.objects.get(pk=reading.pk).value == 1.0
    event = AuditEvent.objects.filter(action="equipment.reading_partition_created").latest("seq")
    assert event.new["moved_from_default"] == 1
    assert reading_partitions_ensure(today=when.date(), months_ahead=0) == {}  # idempotent


@pytest.mark.django_db
def test_runtime_role_cannot_change_remove_detach_or_drop(tag):
    now = dt.datetime.now(UTC)
    read(tag, now)
    read(tag, dt.datetime(2018, 2, 1, tzinfo=UTC))  # no partition: DEFAULT
    part = partitions.partition_name(now.date())
    for table in (partitions.PARENT, part, partitions.DEFAULT):
        assert refused(f"UPDATE {table} SET value = 2"), table
        assert refused(f"DELETE FROM {table}"), table
        assert refused(f"TRUNCATE {table}"), table
        assert refused(f"DROP TABLE {table}"), table
    assert refused(f"ALTER TABLE {partitions.PARENT} DETACH PARTITION {part}")
    assert refused("SELECT mes_reading_partition_attach('equipment_tagreading_x', 'DEFAULT')")
    assert TagReading.objects.filter(tag=tag).count() == 2


@pytest.mark.django_db
def test_every_partition_has_the_guards_and_the_parents_grants():
    with connection.cursor() as cursor:
        for table in partitions.partitions(connection):
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass", [table])
            triggers = {row[0] for row in cursor.fetchall()}
            assert {f"{partitions.PARENT}_append_only", f"{table}_no_truncate"} <= triggers, table
            cursor.execute(
                "SELECT has_table_privilege(current_user, %s, 'SELECT, INSERT') "
                "AND NOT has_table_privilege(current_user, %s, 'TRUNCATE')",
                [table, table],
            )
            assert cursor.fetchone()[0], table


@pytest.mark.django_db(transaction=True)
def test_retire_refuses_recent_or_unarchived_then_drops_and_audits(tag, tmp_path, settings):
    settings.MES_READINGS_RETENTION_MONTHS = 12
    month = dt.date(2020, 1, 1)
    reading_partitions_ensure(today=month, months_ahead=0)
    for day in (3, 17):
        read(tag, dt.datetime(2020, 1, day, 8, tzinfo=UTC))
    this_month = partitions.month_start(dt.datetime.now(UTC).date())
    with pytest.raises(RetireRefused, match="retention"):
        readings_retire(month=this_month, archive=tmp_path)
    with pytest.raises(RetireRefused, match="archive"):
        readings_retire(month=month, archive=tmp_path / "nothing")
    short = archive_export(date_from=dt.date(2020, 1, 1), date_to=dt.date(2020, 1, 10), directory=tmp_path)
    with pytest.raises(RetireRefused, match="2 readings"):
        readings_retire(month=month, archive=short)
    archive = archive_export(date_from=dt.date(2019, 12, 31), date_to=dt.date(2020, 2, 1), directory=tmp_path)
    done = readings_retire(month=month, archive=archive)
    assert done["rows"] == 2
    assert "equipment_tagreading_p202001" not in partitions.partitions(connection)
    event = AuditEvent.objects.filter(action="equipment.readings_retired").latest("seq")
    assert event.new["rows"] == 2
    assert event.new["manifest_sha256"] == (archive / "manifest.sha256").read_text().split()[0]
    write_checkpoint()
    assert verify_chain().ok


@pytest.mark.django_db(transaction=True)
def test_retire_command_finds_the_covering_archive(tag, tmp_path, settings):
    settings.MES_ARCHIVE_DIR = tmp_path
    reading_partitions_ensure(today=dt.date(2020, 3, 1), months_ahead=0)
    read(tag, dt.datetime(2020, 3, 5, tzinfo=UTC))
    with pytest.raises(CommandError, match="no archive"):
        call_command("readings_retire", "--month", "2020-03")
    archive_export(date_from=dt.date(2020, 2, 29), date_to=dt.date(2020, 4, 1))
    call_command("readings_retire", "--month", "2020-03")
    assert "equipment_tagreading_p202003" not in partitions.partitions(connection)
