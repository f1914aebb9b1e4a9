"""hub.store.types.UtcDateTime: SQLite's text is exactly what SQLAlchemy's DATETIME wrote before,
every instant comes back aware and in UTC, and naive ones are refused, on both stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Column, Integer, MetaData, Table, insert, select, text
from sqlalchemy.dialects import postgresql, sqlite

from hub.store import Store
from hub.store.types import UtcDateTime

SQLITE: Any = sqlite.dialect()
POSTGRESQL: Any = postgresql.dialect()  # type: ignore[no-untyped-call]
aware = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.sampled_from([UTC])
) | st.datetimes(
    min_value=datetime(1, 1, 2),
    max_value=datetime(9999, 12, 30),
    timezones=st.builds(timezone, st.integers(-14 * 60, 14 * 60).map(lambda m: timedelta(minutes=m))),
)


def sqlalchemy_datetime_text(value: datetime) -> str:
    """What the store wrote before: SQLAlchemy's own SQLite DATETIME, given the naive UTC instant."""
    process = sqlite.DATETIME().bind_processor(SQLITE)  # type: ignore[no-untyped-call]
    assert process is not None
    return str(process(value.astimezone(UTC).replace(tzinfo=None)))


@given(aware)
def test_sqlite_text_is_sqlalchemy_s_datetime_text_and_reads_back_the_same_instant(value: datetime) -> None:
    column = UtcDateTime()
    stored = column.process_bind_param(value, SQLITE)
    assert stored == sqlalchemy_datetime_text(value)
    back = column.process_result_value(stored, SQLITE)
    assert back == value
    assert back is not None and back.tzinfo is UTC


@given(aware)
def test_postgresql_gets_the_aware_utc_instant(value: datetime) -> None:
    stored = UtcDateTime().process_bind_param(value, POSTGRESQL)
    assert stored == value
    assert isinstance(stored, datetime) and stored.utcoffset() == timedelta(0)


@pytest.mark.parametrize("dialect", [SQLITE, POSTGRESQL], ids=["sqlite", "postgresql"])
def test_a_naive_datetime_is_refused(dialect: Any) -> None:
    with pytest.raises(ValueError, match="naive"):
        UtcDateTime().process_bind_param(datetime(2026, 5, 1, 8), dialect)


async def test_instants_round_trip_and_sort_as_time_on_the_store(store: Store) -> None:
    table = Table(
        "utc_probe", MetaData(), Column("id", Integer, primary_key=True), Column("at", UtcDateTime())
    )
    shanghai = timezone(timedelta(hours=8))
    values = [
        datetime(2026, 5, 1, 7, 59, 59, 999_999, tzinfo=shanghai),  # 2026-04-30 23:59:59.999999Z
        datetime(2026, 4, 30, 23, 59, 59, 999_998, tzinfo=UTC),
        datetime(2026, 5, 1, 0, 0, tzinfo=UTC),
        datetime(999, 1, 1, tzinfo=UTC),
    ]
    async with store.write("probe") as conn:
        await conn.run_sync(table.metadata.create_all)
        await conn.execute(insert(table), [{"id": n, "at": v} for n, v in enumerate(values)])
    async with store.read("probe") as conn:
        ordered = (await conn.execute(select(table.c.at).order_by(table.c.at))).scalars().all()
        later = (
            await conn.execute(select(table.c.id).where(table.c.at >= datetime(2026, 5, 1, tzinfo=UTC)))
        ).scalars()
        if store.dialect_name == "sqlite":
            raw = (await conn.execute(text("SELECT at FROM utc_probe WHERE id = 0"))).scalar_one()
            assert raw == "2026-04-30 23:59:59.999999"
    async with store.write("probe") as conn:
        await conn.run_sync(table.metadata.drop_all)
    assert ordered == sorted(values)
    assert all(v.tzinfo is UTC for v in ordered)
    assert set(later) == {2}
