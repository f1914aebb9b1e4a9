"""Monthly partitions of the journal (issue 17): site months, migration 0012 moving existing rows,
the months ahead made idempotently, a project-day page touching one partition, and exactly once
without a unique key (a resend carrying another time is still a duplicate, on both stores)."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, date, datetime, timedelta

import asyncpg
import pytest
from alembic import command
from sqlalchemy import func, select, text, true
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from hub.derive.days import day_bounds
from hub.events.journal import store_events
from hub.events.queries import page_query
from hub.events.records import EventFilters
from hub.store import Store, journal, migrate, partitions
from hub.store.partitions import month_bounds, partition_name, site_month, wanted_months
from hub.store.schema import access_events
from sitegate.postgres import PostgresServer
from tests.hub.factories import make_event, make_lane_event
from tests.support.postgres import run_in_thread
from wire.clock import SITE_ZONE

# -- site months (pure) -----------------------------------------------------------------------------


def test_a_site_month_ends_at_midnight_beijing_not_utc() -> None:
    last_second = datetime(2027, 1, 31, 23, 59, 59, tzinfo=SITE_ZONE)
    assert last_second.astimezone(UTC) == datetime(2027, 1, 31, 15, 59, 59, tzinfo=UTC)
    assert site_month(last_second) == date(2027, 1, 1)
    assert site_month(last_second + timedelta(seconds=1)) == date(2027, 2, 1)
    # 23:59:59 UTC on the last day is already the next site month (07:59:59 Beijing on the 1st).
    assert site_month(datetime(2027, 1, 31, 23, 59, 59, tzinfo=UTC)) == date(2027, 2, 1)


def test_month_bounds_hold_29_february_and_turn_the_year() -> None:
    start, end = month_bounds(date(2028, 2, 1))
    assert (start, end) == (datetime(2028, 2, 1, tzinfo=SITE_ZONE), datetime(2028, 3, 1, tzinfo=SITE_ZONE))
    leap_day = datetime(2028, 2, 29, 12, tzinfo=SITE_ZONE)
    assert start <= leap_day < end
    assert wanted_months(datetime(2027, 11, 20, tzinfo=UTC), ahead=3) == [
        date(2027, 11, 1),
        date(2027, 12, 1),
        date(2028, 1, 1),
        date(2028, 2, 1),
    ]
    assert partition_name("access_events", date(2028, 2, 1)) == "access_events_p202802"
    assert partition_name("lane_events", None) == "lane_events_default"


# -- PostgreSQL: one database of this module's own, migrated from 0011 with rows in it -------------

NOV = datetime(2026, 11, 15, 2, 0, tzinfo=UTC)
# The first instant of January 2027 in Beijing: 16:00 UTC on 31 December.
JAN_FIRST = datetime(2026, 12, 31, 16, 0, tzinfo=UTC)
FAR_OFF = datetime(2099, 3, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def migrated(postgres_server: PostgresServer) -> str:
    """A database at 0011 with events in November, at the first second of January (Beijing) and one
    clock_suspect in 2099 (then migrated to head by the tests' Store.open)."""
    return run_in_thread(_at_0011_with_rows(postgres_server))


async def _create_database(postgres_server: PostgresServer, name: str) -> None:
    """An empty database of this module's own (not the session's template)."""
    admin = await asyncpg.connect(postgres_server.admin_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


async def _at_0011_with_rows(postgres_server: PostgresServer) -> str:
    await _create_database(postgres_server, "partitions_from_0011")
    url = postgres_server.url("partitions_from_0011")
    engine = create_async_engine(url)
    try:
        await migrate.upgrade(engine, "0011")
        records = [
            make_event(1, wall_time=NOV),
            make_event(2, wall_time=JAN_FIRST),
            make_event(3, wall_time=FAR_OFF),
            make_lane_event(4).model_copy(update={"wall_time": NOV}),
        ]
        async with engine.begin() as conn:
            await journal.store(conn, records, NOV, suspect=lambda record, _at: record.seq == 3)
    finally:
        await engine.dispose()
    return url


async def _where(conn: object, table: str) -> dict[int, str]:
    rows = await conn.execute(text(f"SELECT seq, tableoid::regclass::text FROM {table}"))  # type: ignore[attr-defined]
    return {int(seq): str(name) for seq, name in rows}


@pytest.mark.postgres
async def test_migration_moves_every_row_into_its_month(migrated: str) -> None:
    async with await Store.open(migrated) as store, store.read("test") as conn:
        made = await partitions.listing(conn)
        assert await _where(conn, "access_events") == {
            1: "access_events_p202611",
            2: "access_events_p202701",
            3: "access_events_default",
        }
        assert await _where(conn, "lane_events") == {4: "lane_events_p202611"}
        kinds = dict(
            (
                await conn.execute(
                    text(
                        "SELECT relname, relkind::text FROM pg_class WHERE relname IN ('access_events', 'lane_events')"
                    )
                )
            ).all()
        )
    assert kinds == {"access_events": "p", "lane_events": "p"}
    months = [p.month for p in made if p.table == "access_events" and p.month is not None]
    assert months[0] == date(2026, 11, 1)
    assert months == partitions.months_from(months[0], months[-1])  # contiguous, through months ahead
    assert months[-1] >= partitions.add_months(site_month(datetime.now(UTC)), partitions.MONTHS_AHEAD)


@pytest.mark.postgres
async def test_ids_go_on_and_a_far_off_month_takes_its_rows_from_default(migrated: str) -> None:
    async with await Store.open(migrated) as store:
        await store_events(store, [make_event(5, wall_time=NOV + timedelta(hours=1))])
        async with store.write("test") as conn:
            assert await partitions.ensure(conn, [date(2099, 3, 1)]) == [
                "access_events_p209903",
                "lane_events_p209903",
            ]
            assert await partitions.ensure(conn, [date(2099, 3, 1)]) == []  # idempotent
        async with store.read("test") as conn:
            ids = dict((await conn.execute(select(access_events.c.seq, access_events.c.id))).all())
            where = await _where(conn, "access_events")
    assert ids[5] > max(ids[s] for s in (1, 2, 3))
    assert where[3] == "access_events_p209903"


@pytest.mark.postgres
async def test_a_project_day_page_reads_one_partition(migrated: str) -> None:
    since, until = day_bounds(date(2027, 1, 1))
    query = page_query(
        access_events, EventFilters(project_id="proj-1", since=since, until=until), None, 100, true()
    )
    sql = str(query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    async with await Store.open(migrated) as store, store.read("test") as conn:
        plan = "\n".join(str(line) for (line,) in await conn.execute(text("EXPLAIN " + sql)))
        rows = (await conn.execute(query)).all()
    assert set(re.findall(r" on (\w+)", plan)) == {"access_events_p202701"}, plan
    assert [r.seq for r in rows] == [2]


# -- exactly once without a unique key: both stores -------------------------------------------------


async def test_a_resend_carrying_another_time_is_still_a_duplicate(store: Store) -> None:
    """A lane's journal keeps each record as made, so a resend carries the same time; were it ever
    otherwise (a journal rewritten), the key alone decides: (device, seq) is stored once."""
    first = make_event(1, wall_time=datetime(2026, 11, 30, 15, 59, 59, tzinfo=UTC))
    moved = first.model_copy(update={"wall_time": datetime(2026, 12, 31, 16, 0, tzinfo=UTC)})
    await store_events(store, [first])
    result = await store_events(store, [moved, make_event(2)])
    assert (result.new, result.duplicates) == (1, 1)
    # Also when the watermark is behind it (a gap below) and within one batch.
    gap = make_event(9, wall_time=datetime(2027, 2, 1, tzinfo=UTC))
    await store_events(store, [gap])
    again = await store_events(
        store, [gap.model_copy(update={"wall_time": datetime(2027, 5, 1, tzinfo=UTC)})]
    )
    assert (again.new, again.duplicates) == (0, 1)
    async with store.read("test") as conn:
        counts = dict(
            (
                await conn.execute(select(access_events.c.seq, func.count()).group_by(access_events.c.seq))
            ).all()
        )
    assert counts == {1: 1, 2: 1, 9: 1}


@pytest.mark.postgres
def test_the_migration_goes_back_to_plain_tables_with_every_row(postgres_server: PostgresServer) -> None:
    run_in_thread(_down_and_up(postgres_server))


def _downgrade(connection: Connection, revision: str) -> None:
    config = migrate.alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, revision)


async def _down_and_up(postgres_server: PostgresServer) -> None:
    await _create_database(postgres_server, "partitions_down_and_up")
    engine = create_async_engine(postgres_server.url("partitions_down_and_up"))
    kinds = text("SELECT relkind::text FROM pg_class WHERE relname = 'access_events'")
    try:
        await migrate.upgrade(engine)
        async with engine.begin() as conn:
            await journal.store(conn, [make_event(1, wall_time=NOV), make_event(2, wall_time=FAR_OFF)], NOV)
        async with engine.begin() as conn:
            await conn.run_sync(_downgrade, "0011")
        async with engine.connect() as conn:
            assert await conn.scalar(kinds) == "r"
            assert sorted((await conn.execute(text("SELECT seq FROM access_events"))).scalars()) == [1, 2]
            unique = "SELECT count(*) FROM pg_constraint WHERE conname = 'uq_access_events_device_id_seq'"
            assert await conn.scalar(text(unique)) == 1
        await migrate.upgrade(engine)
        async with engine.connect() as conn:
            assert await conn.scalar(kinds) == "p"
            assert await _where(conn, "access_events") == {
                1: "access_events_p202611",
                2: "access_events_default",
            }
    finally:
        await engine.dispose()


# -- a reader while a month is made out of DEFAULT -------------------------------------------------


@pytest.mark.postgres
def test_a_reader_while_rows_move_out_of_default_still_sees_them(postgres_server: PostgresServer) -> None:
    """A read planned while a month's rows move out of DEFAULT and run after the move commits: with
    only the writers held off, its plan listed DEFAULT (empty for that month now) without the new
    partition, and a query's second snapshot saw neither copy, so rows vanished for a moment (an
    alert page lost its not_in_roster row; the ingest's exactly-once lookup could miss a stored
    seq). Making a month takes the whole table, so the read waits and is planned afresh."""
    run_in_thread(_reader_during_move(postgres_server))


async def _reader_during_move(postgres_server: PostgresServer) -> None:
    await _create_database(postgres_server, "partitions_reader_during_move")
    dsn = postgres_server.dsn("partitions_reader_during_move")
    month = date(2098, 5, 1)
    async with await Store.open(postgres_server.url("partitions_reader_during_move")) as store:
        await store_events(store, [make_event(1, wall_time=month_bounds(month)[0] + timedelta(days=3))])
        reader, watcher = await asyncpg.connect(dsn), await asyncpg.connect(dsn)
        try:
            async with store.write("test") as conn:
                assert await partitions.ensure(conn, [month], ("access_events",)) == ["access_events_p209805"]
                counting = asyncio.create_task(
                    reader.fetchval("SELECT count(*) FROM access_events WHERE seq = 1")
                )
                await _until_waiting_on_a_lock(watcher, reader.get_server_pid())
            assert await counting == 1
        finally:
            await reader.close()
            await watcher.close()


async def _until_waiting_on_a_lock(watcher: asyncpg.Connection, pid: int) -> None:
    waiting = "SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1"
    for _ in range(200):
        if await watcher.fetchval(waiting, pid) == "Lock":
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the reader never waited for the month being made")
