"""hub.store.bulk: rows go in as SQLAlchemy's own executemany would put them, on both stores."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Boolean, Column, Date, Insert, Integer, MetaData, String, Table, select
from sqlalchemy.dialects.postgresql import psycopg2

from hub.errors import StoreError
from hub.store import Store
from hub.store.bulk import BulkStatement, ColumnarInsert, PerDialect, among
from hub.store.dialect import insert_for
from hub.store.types import UtcDateTime

metadata = MetaData()
probes = {
    name: Table(
        name,
        metadata,
        Column("key", String(16), primary_key=True),
        Column("count", Integer, nullable=False),
        Column("flag", Boolean, nullable=False),
        Column("day", Date, nullable=True),
        Column("at", UtcDateTime(), nullable=True),
    )
    for name in ("bulk_probe", "core_probe", "columnar_probe")
}
EIGHT = timezone(timedelta(hours=8))


def upsert(table: Table) -> BulkStatement:
    def build(dialect_name: str) -> Insert:
        insert = insert_for(dialect_name)(table)
        return insert.on_conflict_do_update(
            index_elements=["key"],
            set_={name: insert.excluded[name] for name in ("count", "flag", "day", "at")},
        )

    return BulkStatement(build)


def rows(version: int) -> list[dict[str, Any]]:
    return [
        {"key": "a", "count": version, "flag": True, "day": date(2026, 5, 1), "at": datetime(2026, 5, 1, 8, tzinfo=EIGHT)},
        {"key": "b", "count": -version, "flag": False, "day": None, "at": None},
        {"key": f"new-{version}", "count": 0, "flag": True, "day": date(1999, 12, 31), "at": datetime(1999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)},
    ]  # fmt: skip


async def contents(store: Store, table: Table) -> list[tuple[Any, ...]]:
    async with store.read("test") as conn:
        return [tuple(row) for row in await conn.execute(select(table).order_by(table.c.key))]


async def test_a_bulk_upsert_stores_what_sqlalchemy_s_executemany_stores(store: Store) -> None:
    bulk, core = probes["bulk_probe"], probes["core_probe"]
    async with store.write("test") as conn:
        await conn.run_sync(metadata.create_all)
    try:
        statement = upsert(bulk)
        for version in (1, 2):  # the second run updates a and b and adds a row
            async with store.write("test") as conn:
                await statement.execute(conn, rows(version))
                build = insert_for(conn.dialect.name)(core)
                await conn.execute(
                    build.on_conflict_do_update(
                        index_elements=["key"],
                        set_={name: build.excluded[name] for name in ("count", "flag", "day", "at")},
                    ),
                    rows(version),
                )
        assert await contents(store, bulk) == await contents(store, core)
        assert [row[:2] for row in await contents(store, bulk)] == [
            ("a", 2),
            ("b", -2),
            ("new-1", 0),
            ("new-2", 0),
        ]
        assert (await contents(store, bulk))[0][4] == datetime(2026, 5, 1, 0, tzinfo=UTC)
    finally:
        async with store.write("test") as conn:
            await conn.run_sync(metadata.drop_all)


async def test_no_rows_run_nothing(store: Store) -> None:
    async with store.write("test") as conn:
        await upsert(probes["bulk_probe"]).execute(conn, [])  # the table does not even exist


def test_a_dialect_with_named_parameters_is_refused() -> None:
    with pytest.raises(ValueError, match="positional paramstyle"):
        upsert(probes["bulk_probe"]).compiled(psycopg2.dialect())  # type: ignore[no-untyped-call]


COLUMNS = ("key", "count", "flag", "day", "at")


async def test_a_columnar_insert_stores_what_sqlalchemy_s_executemany_stores(store: Store) -> None:
    columnar, core = probes["columnar_probe"], probes["core_probe"]
    async with store.write("test") as conn:
        await conn.run_sync(metadata.create_all)
    try:
        async with store.write("test") as conn:
            await ColumnarInsert(columnar, COLUMNS).execute(conn, rows(1))
            await ColumnarInsert(columnar, COLUMNS).execute(conn, [])
            await conn.execute(core.insert(), rows(1))
        assert await contents(store, columnar) == await contents(store, core)
        assert [row[:2] for row in await contents(store, columnar)] == [("a", 1), ("b", -1), ("new-1", 0)]
        assert (await contents(store, columnar))[0][4] == datetime(2026, 5, 1, 0, tzinfo=UTC)
    finally:
        async with store.write("test") as conn:
            await conn.run_sync(metadata.drop_all)


async def test_a_columnar_insert_refuses_an_over_long_string_as_an_insert_does(store: Store) -> None:
    """Cast to the column's ``VARCHAR(16)`` PostgreSQL would cut the key short without a word."""
    columnar = probes["columnar_probe"]
    async with store.write("test") as conn:
        await conn.run_sync(metadata.create_all)
    try:
        too_long = {**rows(1)[0], "key": "k" * 17}
        if store.dialect_name == "postgresql":
            with pytest.raises(StoreError):
                async with store.write("test") as conn:
                    await ColumnarInsert(columnar, COLUMNS).execute(conn, [too_long])
            assert await contents(store, columnar) == []
    finally:
        async with store.write("test") as conn:
            await conn.run_sync(metadata.drop_all)


_KEYS = PerDialect(
    lambda dialect_name: select(probes["core_probe"].c.key).where(
        among(probes["core_probe"].c.key, "keys", dialect_name)
    )
)


async def test_among_is_membership_of_a_bound_list_of_any_length(store: Store) -> None:
    core = probes["core_probe"]
    async with store.write("test") as conn:
        await conn.run_sync(metadata.create_all)
    try:
        async with store.write("test") as conn:
            await conn.execute(core.insert(), rows(1))
            statement = _KEYS(conn)
            assert _KEYS(conn) is statement  # built once
            for keys, found in ((["a"], {"a"}), (["b", "new-1", "absent"], {"b", "new-1"}), (["x"], set())):
                assert set((await conn.scalars(statement, {"keys": keys})).all()) == found
    finally:
        async with store.write("test") as conn:
            await conn.run_sync(metadata.drop_all)
