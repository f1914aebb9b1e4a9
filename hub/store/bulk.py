"""One statement for many rows, handed to the driver's executemany with parameters made here.

SQLAlchemy's executemany builds every row's parameters generically: a dict per row, each bind
looked up and processed through several layers. For the upserts the ingest runs for about every
event (hub.derive's attendance and presence) that was about as much CPU as the database's own
work. A :class:`BulkStatement` compiles its statement once per dialect, keeps the positional
order of its parameters and each one's processor (the column types' own, so values are stored
exactly as SQLAlchemy would store them: ``tests/hub/test_bulk.py`` compares the two), and turns
rows into tuples in one tight loop.

Only for statements whose parameters are exactly the given columns (an INSERT of every column,
with or without ON CONFLICT) and that return nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    ColumnElement,
    Dialect,
    Insert,
    Select,
    String,
    Table,
    any_,
    bindparam,
    func,
    literal_column,
    select,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import TypeEngine

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]
    processors: tuple[Processor, ...]


class BulkStatement:
    """``build(dialect_name)`` makes the statement (dialects spell upserts differently)."""

    def __init__(self, build: Callable[[str], Insert]) -> None:
        self._build = build
        self._compiled: dict[str, _Compiled] = {}

    def compiled(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            compiled = self._build(dialect.name).compile(dialect=dialect)
            if not compiled.positiontup:
                raise ValueError(f"{dialect.name}: a bulk statement needs a positional paramstyle")
            names = tuple(compiled.positiontup)
            processors = tuple(
                compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
            )
            found = self._compiled[dialect.name] = _Compiled(compiled.string, names, processors)
        return found

    def parameters(self, dialect: Dialect, rows: Iterable[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
        compiled = self.compiled(dialect)
        pairs = list(zip(compiled.names, compiled.processors, strict=True))
        return [tuple([row[n] if p is None else p(row[n]) for n, p in pairs]) for row in rows]

    async def execute(self, conn: AsyncConnection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run for every row (nothing when there are none), in the caller's transaction."""
        if rows:
            await conn.exec_driver_sql(self.compiled(conn.dialect).sql, self.parameters(conn.dialect, rows))


S = TypeVar("S")


class PerDialect(Generic[S]):
    """A statement built once per dialect, on first use, and reused: built per call, a select was
    made, hashed for SQLAlchemy's compiled cache and (with an IN list) rendered again every time,
    which for the ingest's few lookups per batch cost as much as the round trips (issue 16).
    ``build(dialect_name)`` makes it; its values go in as bound parameters at each execution."""

    def __init__(self, build: Callable[[str], S]) -> None:
        self._build = build
        self._built: dict[str, S] = {}

    def __call__(self, conn: AsyncConnection) -> S:
        name = conn.dialect.name
        found = self._built.get(name)
        if found is None:
            found = self._built[name] = self._build(name)
        return found


def among(column: ColumnElement[Any], name: str, dialect_name: str) -> ColumnElement[bool]:
    """``column`` is one of the list bound as ``name``. On PostgreSQL ``= ANY(:name)`` with the
    list as one array parameter: the statement's text is the same whatever the list's length, so
    it is compiled once and asyncpg prepares it once (an IN list is rendered again for every
    length, and each new text is prepared again). Elsewhere an expanding IN."""
    if dialect_name == "postgresql":
        return column == any_(bindparam(name, type_=postgresql.ARRAY(column.type)))
    return column.in_(bindparam(name, expanding=True))


class ColumnarInsert:
    """An INSERT of many rows into ``table``'s ``columns`` as one statement whose text never
    changes: on PostgreSQL ``INSERT ... SELECT * FROM unnest($1::type[], ...)``, each column's
    values one array parameter (prepared once, executed once, whatever the number of rows;
    an executemany is one execution a row, which at a few hundred rows a batch cost the database
    more than the rows' multi-row VALUES did); elsewhere a :class:`BulkStatement` (SQLite runs
    an executemany in process). Values go through the column types' own bind processors, as in
    :class:`BulkStatement`. Returns nothing, takes no ON CONFLICT."""

    def __init__(self, table: Table, columns: Sequence[str]) -> None:
        self._table = table
        self._columns = tuple(columns)
        self._rows = BulkStatement(lambda _dialect: table.insert().values({n: bindparam(n) for n in columns}))
        self._postgresql: tuple[str, tuple[Processor, ...]] | None = None

    def _arrays(self, dialect: Dialect) -> tuple[str, tuple[Processor, ...]]:
        if self._postgresql is None:
            types = [self._table.c[name].type for name in self._columns]
            arrays = [  # asyncpg's dialect casts each to its type: $1::VARCHAR[], ...
                bindparam(name, type_=postgresql.ARRAY(_element(t)))
                for name, t in zip(self._columns, types, strict=True)
            ]
            rows: Select[Any] = select(literal_column("*")).select_from(func.unnest(*arrays))
            compiled = self._table.insert().from_select(self._columns, rows).compile(dialect=dialect)
            if tuple(compiled.positiontup or ()) != self._columns:
                raise ValueError(f"{dialect.name}: columnar inserts need positional parameters")
            processors = tuple(t.dialect_impl(dialect).bind_processor(dialect) for t in types)
            self._postgresql = (compiled.string, processors)
        return self._postgresql

    async def execute(self, conn: AsyncConnection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert every row (nothing when there are none), in the caller's transaction."""
        if not rows:
            return
        dialect = conn.dialect
        if dialect.name != "postgresql":
            await self._rows.execute(conn, rows)
            return
        sql, processors = self._arrays(dialect)
        arrays = tuple(
            [row[name] for row in rows] if p is None else [p(row[name]) for row in rows]
            for name, p in zip(self._columns, processors, strict=True)
        )
        await conn.exec_driver_sql(sql, arrays)


def _element(column_type: TypeEngine[Any]) -> TypeEngine[Any]:
    """The array element type an unnest column is cast to. A string column's is unbounded: cast
    to ``VARCHAR(n)`` PostgreSQL would cut an over-long value short without a word, where the
    insert itself refuses it, as a row inserted as VALUES is refused."""
    return String() if isinstance(column_type, String) else column_type
