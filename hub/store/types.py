"""Column types that behave the same on SQLite and PostgreSQL.

SQLite has no timezone-aware timestamp: SQLAlchemy writes the wall-clock digits and drops the
offset, so ``10:00+08:00`` and ``10:00+00:00`` would compare equal. Storing every instant as UTC
and handing back aware UTC datetimes keeps ordering, filters and cursors correct on both.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Dialect, Integer
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import JSON, TypeDecorator, TypeEngine


class SqliteUtcText(sqlite.DATETIME):
    """What :class:`UtcDateTime` is on SQLite: declared ``DATETIME`` as before, but holding the
    text UtcDateTime makes and reads itself, so no second conversion runs per value."""

    def bind_processor(self, dialect: Dialect) -> None:
        return None

    def result_processor(self, dialect: Dialect, coltype: object) -> None:
        return None


class UtcDateTime(TypeDecorator[datetime]):
    """An aware datetime in, an aware UTC datetime out; a naive one is refused on the way in.

    On SQLite the value is stored as SQLAlchemy's DATETIME text of the UTC instant
    (``2026-05-01 00:00:00.000000``, which sorts as time does), written in one step: the ingest
    binds several instants per event, and the general path (convert, strip the zone, then
    SQLAlchemy's own formatting) was 7 % of the hub's CPU. ``tests/hub/test_types.py`` holds the
    text equal to what that path wrote.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(SqliteUtcText())  # type: ignore[no-untyped-call]
        return dialect.type_descriptor(self.impl)

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | str | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetimes are ambiguous here; give a timezone")
        utc = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return utc.isoformat(" ", "microseconds")[:_SQLITE_TEXT_LENGTH]  # without "+00:00"
        return utc

    def process_result_value(self, value: datetime | str | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


_SQLITE_TEXT_LENGTH = len("2026-05-01 00:00:00.000000")


# SQLite only makes INTEGER PRIMARY KEY an auto-incrementing rowid alias; PostgreSQL wants BIGINT.
IdType = BigInteger().with_variant(Integer(), "sqlite")

# JSONB on PostgreSQL (indexable, compact); plain JSON text elsewhere.
JsonType = JSON().with_variant(JSONB(), "postgresql")
