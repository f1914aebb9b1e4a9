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
from typing import Any

from sqlalchemy import Dialect, Insert
from sqlalchemy.ext.asyncio import AsyncConnection

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
