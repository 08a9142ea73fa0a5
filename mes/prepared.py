"""Read queries compiled once per process: the ORM builds and compiles their SQL, later calls only run it.

The reports dashboard asks a dozen aggregate queries on every request; building their querysets
(filters, subqueries, annotations) and compiling them to SQL was most of the page's CPU, though the
SQL text never changes: only the values in it (the period's bounds, "now") do. A PreparedQuery
builds its queryset once with sentinel values, keeps the compiled SQL and the positions of the
sentinels among its parameters, and from then on runs that SQL with the real values.

It keeps nothing read from the database: each call runs the query. It compiles anew (and never
keeps the result) when the SQL would not be reusable as it stands: a sentinel the ORM changed or
did not pass as a parameter. Rows are converted as the ORM converts them (its converters, kept
with the SQL).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from django.core.exceptions import EmptyResultSet
from django.db import connections, router
from django.db.models import QuerySet
from django.db.models.query import ModelIterable, ValuesListIterable, get_related_populators
from django.db.transaction import TransactionManagementError

from audit.prepared import prepared_cursor

# Values no real query uses: microsecond-exact instants of 1901, odd strings, and integers near the top
# of a 32-bit integer column's range (inside it, so that the ORM keeps them as parameters of positive
# and plain integer fields alike: a value outside a field's range compiles to no query at all).
SENTINEL_BASE = dt.datetime(1901, 1, 1, 0, 0, 0, 4242, tzinfo=dt.UTC)
SENTINEL_ID = 2_042_424_242
SENTINEL_TEXT = "~mes-prepared-sentinel-{n}~"


def sentinel(n: int, like) -> dt.datetime | int | str:
    """The n-th sentinel of the type of `like` (a datetime, an id or a string), standing for that
    parameter while the SQL is compiled."""
    if isinstance(like, dt.datetime):
        return SENTINEL_BASE + dt.timedelta(seconds=n)
    if type(like) is int:
        return SENTINEL_ID - n
    if type(like) is str:
        return SENTINEL_TEXT.format(n=n)
    raise TypeError(f"no sentinel for {type(like).__name__}")


def _slots(params, sentinels: list) -> tuple[tuple[int, int], ...] | None:
    """(parameter position, index of the value) of each sentinel among the compiled parameters, or None
    when a value has no place of its own (the ORM changed it, or answered it without a parameter)."""
    marks = {_mark(p): n for n, p in enumerate(sentinels)}
    slots = tuple((i, marks[_mark(p)]) for i, p in enumerate(params) if _mark(p) in marks)
    if {index for _i, index in slots} != set(range(len(sentinels))):
        return None
    return slots


def _mark(param) -> tuple:
    # The ORM may pass an integer wrapped in the driver's sized type (psycopg's Int4 for a positive
    # integer field): the same number.
    if isinstance(param, int) and not isinstance(param, bool):
        return (int, int(param))
    return (type(param), param)


def _bind(params: tuple, slots: tuple[tuple[int, int], ...], values: tuple) -> list:
    bound = list(params)
    for position, index in slots:
        value, compiled = values[index], params[position]
        # An integer as the ORM passed its sentinel: wrapped in the same sized integer type, if it was.
        if isinstance(compiled, int) and type(compiled) not in (int, bool) and type(value) is int:
            value = type(compiled)(value)
        bound[position] = value
    return bound


class PreparedQuery:
    """`build(*values)` returns a values_list() queryset of `model`; `rows(key, *values)` its rows, as
    tuples in the values_list's order (what iterating the queryset gives).

    `key` names the query's shape (what changes the SQL text, such as which optional filters apply,
    how many ids a list holds); `values` are datetimes and ids that only change its parameters.
    `prepare`: the SQL is also prepared on the PostgreSQL server (audit.prepared), for a query whose
    best plan does not depend on its values (a key lookup); a report's period is planned anew."""

    def __init__(self, model, build: Callable[..., QuerySet], *, prepare: bool = False):
        self.model, self.build, self.prepare = model, build, prepare
        self._compiled: dict[tuple, _Compiled] = {}

    def rows(self, key: Hashable, *values) -> list[tuple]:
        alias = router.db_for_read(self.model)  # the replica inside replica_reads, as the queryset's
        compiled = self._compiled.get((key, alias))
        if compiled is None:
            marks = [sentinel(n, value) for n, value in enumerate(values)]
            try:
                compiled = _compile(self.build(*marks), alias, marks)
            except EmptyResultSet:  # e.g. `pk__in` of no ids: the ORM answers without a query
                compiled = None
            if compiled is None:  # not reusable as it stands: the ORM's own run, with the real values
                return list(self.build(*values))
            self._compiled[(key, alias)] = compiled
        params = _bind(compiled.params, compiled.slots, values)
        rows = _fetch(alias, compiled.sql, params, compiled.width, prepare=self.prepare)
        for row in rows:
            _convert(row, compiled.converters, connections[alias])
        return [tuple(row) for row in rows]


def _fetch(
    alias: str, sql: str, params: list, width: int, limit: int | None = None, prepare: bool = False
) -> list[list]:
    """The rows of compiled SQL, cut to its selected columns (ordering columns may follow them);
    `prepare`: a statement whose plan does not depend on its values, prepared on the server."""
    with prepared_cursor(alias) if prepare else connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchmany(limit) if limit else cursor.fetchall()
    return [list(row[:width]) for row in found]


def _convert(row: list, converters: tuple, connection) -> None:
    """SQLCompiler.apply_converters on one row, in place."""
    for position, (functions, expression) in converters:
        for convert in functions:
            row[position] = convert(row[position], expression, connection)


class PreparedInstance:
    """`build(*values)` returns a queryset of `model` filtered by those values (ids or strings, such as
    a primary key, or a batch number and a step number; select_related and select_for_update allowed);
    `get(*values)` the instance `build(*values).get()` gives, its related records loaded alike, or
    `model.DoesNotExist`; `all(*values)` the instances `list(build(*values))` gives.

    For the records an action loads (and locks) on every request: the ORM compiles the join of
    select_related once per process; each call runs that SQL and builds the instances as the ORM
    does (its converters and related populators, kept with the SQL), prepared on the PostgreSQL server
    (audit.prepared): looked up by key, its plan is the same whatever the values. A locking query is
    refused outside a transaction, as the ORM refuses it."""

    def __init__(self, model, build: Callable[..., QuerySet]):
        self.model, self.build = model, build
        self._compiled: dict[tuple, _CompiledInstance] = {}
        self._for_write: bool | None = None

    def get(self, *values):
        rows, compiled, alias = self._rows(values, 2)
        if rows is None:  # not reusable as compiled: the ORM's own run
            return self.build(*values).get()
        if not rows:
            raise self.model.DoesNotExist(f"{self.model._meta.object_name} matching query does not exist.")
        if len(rows) > 1:
            raise self.model.MultipleObjectsReturned(f"get() returned more than one {self.model._meta.object_name}")
        return _instance(rows[0], compiled, alias)

    def all(self, *values) -> list:
        """Every instance `build(*values)` gives, in its order (`list(build(*values))`)."""
        rows, compiled, alias = self._rows(values, None)
        if rows is None:
            return list(self.build(*values))
        return [_instance(row, compiled, alias) for row in rows]

    def _rows(self, values: tuple, limit: int | None):
        marks = [sentinel(n, value) for n, value in enumerate(values)]
        if self._for_write is None:  # a locking query reads where the ORM's would: the primary
            self._for_write = bool(self.build(*marks)._for_write)
        alias = router.db_for_write(self.model) if self._for_write else router.db_for_read(self.model)
        key = (alias, *(type(v) for v in values))  # an id passed as a string would compile otherwise
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = _compile_instance(self.build(*marks), alias, marks)
            if compiled is None:
                return None, None, alias
            self._compiled[key] = compiled
        connection = connections[alias]
        if compiled.locks and connection.get_autocommit():
            raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")
        params = _bind(compiled.params, compiled.slots, values)
        # A key or a foreign key: the same plan whatever the values, prepared on the server.
        return _fetch(alias, compiled.sql, params, compiled.width, limit, prepare=True), compiled, alias


def _instance(row: list, compiled: _CompiledInstance, alias: str):
    """The instance of one row, as ModelIterable builds it."""
    _convert(row, compiled.converters, connections[alias])
    obj = compiled.model.from_db(alias, compiled.init_list, row[compiled.start : compiled.end])
    for populator in compiled.populators:  # the select_related records
        populator.populate(row, obj)
    return obj


@dataclass(frozen=True)
class _CompiledInstance:
    sql: str
    params: tuple
    slots: tuple[tuple[int, int], ...]  # (parameter position, index of the value)
    width: int
    converters: tuple
    model: type
    init_list: list
    start: int
    end: int
    populators: list
    locks: bool


def _compile_instance(qs: QuerySet, alias: str, sentinels: list) -> _CompiledInstance | None:
    query = qs.query
    if (
        qs._iterable_class is not ModelIterable
        or qs._prefetch_related_lookups
        or qs._known_related_objects
        or query.annotation_select
        or query.extra_select
        or query.deferred_loading != (frozenset(), True)
    ):
        return None
    compiler = query.get_compiler(using=alias)
    try:
        sql, params = compiler.as_sql()  # raises outside a transaction for select_for_update, as the ORM
    except EmptyResultSet:  # the ORM answers it without a query
        return None
    slots = _slots(params, sentinels)
    if slots is None:
        return None
    select, klass_info = compiler.select, compiler.klass_info
    converters = tuple(compiler.get_converters([s[0] for s in select[: compiler.col_count]]).items())
    fields = klass_info["select_fields"]
    start, end = fields[0], fields[-1] + 1
    return _CompiledInstance(
        sql=sql,
        params=tuple(params),
        slots=slots,
        width=compiler.col_count,
        converters=converters,
        model=klass_info["model"],
        init_list=[f[0].target.attname for f in select[start:end]],
        start=start,
        end=end,
        populators=get_related_populators(klass_info, select, alias),
        locks=bool(query.select_for_update),
    )


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple
    slots: tuple[tuple[int, int], ...]  # (parameter position, index of the value)
    width: int  # the selected columns (the rows may carry ordering columns after them)
    converters: tuple  # (column, (functions, expression)): the ORM's conversions after reading


def _compile(qs: QuerySet, alias: str, sentinels: list) -> _Compiled | None:
    if qs._iterable_class is not ValuesListIterable:
        return None
    compiler = qs.query.get_compiler(using=alias)
    sql, params = compiler.as_sql()
    converters = tuple(compiler.get_converters([s[0] for s in compiler.select[: compiler.col_count]]).items())
    slots = _slots(params, sentinels)
    if slots is None:  # each value must have its place(s)
        return None
    # Django 5.2 selects a values_list's columns in its order (ValuesListIterable takes rows as they come).
    return _Compiled(sql, tuple(params), slots, compiler.col_count, converters)
