"""The store on SQLite and on PostgreSQL: idempotence, watermarks, pagination, filters, device status."""

from __future__ import annotations

import asyncio
import random
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from hub.devices.internal import InternalDeviceReads
from hub.errors import InvalidCursor, InvalidQuery, StoreError
from hub.events.internal import InternalEventReads
from hub.events.journal import store_events
from hub.events.records import EventFilters
from hub.store import Store
from hub.store.partitions import comparison_filter
from hub.store.schema import metadata
from hub.store.sequences import WALK_PAGE
from tests.hub.factories import BASE_TIME, make_event
from wire.models import Decision, Heartbeat, PresenceState, PresenceStatus, ReaderState, Reason


async def test_the_same_event_twice_is_stored_once(store: Store) -> None:
    first = await store_events(store, [make_event(1)])
    again = await store_events(store, [make_event(1)])
    assert (first.new, first.duplicates) == (1, 0)
    assert (again.new, again.duplicates) == (0, 1)
    assert again.watermarks == {"lane-t01": 1}  # a resent event is acknowledged again
    page = await InternalEventReads(store).access_events()
    assert [e.seq for e in page.items] == [1]


async def test_duplicates_inside_one_batch_count_once(store: Store) -> None:
    result = await store_events(store, [make_event(1), make_event(2), make_event(1)])
    assert (result.new, result.duplicates) == (2, 1)


async def test_watermark_stops_at_a_gap_and_moves_when_it_is_filled(store: Store) -> None:
    result = await store_events(store, [make_event(s) for s in (1, 2, 4, 5)])
    assert result.watermarks == {"lane-t01": 2}
    assert result.gaps == {"lane-t01"}
    [state] = await InternalEventReads(store).sequences()
    assert (state.contiguous_through, state.highest_seen, state.gap_count) == (2, 5, 1)

    filled = await store_events(store, [make_event(3)])
    assert filled.watermarks == {"lane-t01": 5}
    assert filled.gaps == frozenset()
    [state] = await InternalEventReads(store).sequences()
    assert (state.contiguous_through, state.highest_seen, state.gap_count) == (5, 5, 0)


async def test_watermark_walks_many_pages_once_the_first_seq_arrives(store: Store) -> None:
    last = 2 * WALK_PAGE + 10
    early = await store_events(store, [make_event(s) for s in range(2, last + 1)] + [make_event(last + 5)])
    assert early.watermarks == {"lane-t01": 0}
    result = await store_events(store, [make_event(1)])
    assert result.watermarks == {"lane-t01": last}
    [state] = await InternalEventReads(store).sequences()
    assert (state.highest_seen, state.gap_count) == (last + 5, 4)


async def test_watermarks_are_per_device(store: Store) -> None:
    result = await store_events(
        store,
        [
            make_event(1, device_id="lane-a"),
            make_event(2, device_id="lane-a"),
            make_event(2, device_id="lane-b"),
        ],
    )
    assert result.watermarks == {"lane-a": 2, "lane-b": 0}
    assert result.gaps == {"lane-b"}


@pytest.mark.parametrize("limit", [1, 7, 20, 60, 500])
async def test_pages_walk_every_row_once_even_with_equal_wall_times(store: Store, limit: int) -> None:
    # 60 events over only 4 distinct instants, two devices: ties must be broken by the row id.
    events = [
        make_event(seq, device_id=device, wall_time=BASE_TIME + timedelta(minutes=seq % 4))
        for device in ("lane-a", "lane-b")
        for seq in range(1, 31)
    ]
    await store_events(store, events)
    seen: list[tuple[str, int]] = []
    times: list[datetime] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = await InternalEventReads(store).access_events(cursor=cursor, limit=limit)
        pages += 1
        assert page.items, "no page may be empty"
        seen += [(e.device_id, e.seq) for e in page.items]
        times += [e.wall_time for e in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(seen) == sorted((e.device_id, e.seq) for e in events)
    assert len(seen) == len(set(seen)) == 60
    assert times == sorted(times, reverse=True)
    assert pages == -(-60 // limit)


async def test_a_cursor_keeps_its_filters_apart(store: Store) -> None:
    await store_events(store, [make_event(s, device_id=d) for d in ("lane-a", "lane-b") for s in range(1, 6)])
    only_a = EventFilters(device_id="lane-a")
    first = await InternalEventReads(store).access_events(only_a, limit=3)
    assert first.next_cursor is not None
    rest = await InternalEventReads(store).access_events(only_a, first.next_cursor, limit=3)
    assert [e.seq for e in first.items + rest.items] == [5, 4, 3, 2, 1]
    assert {e.device_id for e in rest.items} == {"lane-a"}
    assert rest.next_cursor is None


@pytest.mark.parametrize(
    "cursor",
    ["", "not base64 !", "e30", "WyJ2MiIsIjIwMjYtMDUtMDFUMDg6MDA6MDArMDA6MDAiLDFd", "x" * 500],
    ids=["empty", "garbage", "json-object", "unknown-version", "too-long"],
)
async def test_a_bad_cursor_is_refused(store: Store, cursor: str) -> None:
    with pytest.raises(InvalidCursor) as caught:
        await InternalEventReads(store).access_events(cursor=cursor)
    assert caught.value.parameter == "cursor"


async def test_filters(store: Store) -> None:
    await store_events(
        store,
        [
            make_event(1, project_id="proj-1", person_id="person-1"),
            make_event(2, project_id="proj-1", person_id="person-2"),
            make_event(3, project_id="proj-2", granted=False, reason=Reason.WATCHLISTED),
            make_event(4, project_id="proj-2", device_id="lane-x", granted=False),
        ],
    )

    async def seqs(**filters: object) -> list[int]:
        page = await InternalEventReads(store).access_events(EventFilters(**filters))  # type: ignore[arg-type]
        return sorted(e.seq for e in page.items)

    assert await seqs(project_id="proj-1") == [1, 2]
    assert await seqs(person_id="person-2") == [2]
    assert await seqs(device_id="lane-x") == [4]
    assert await seqs(decision=Decision.DENIED) == [3, 4]
    assert await seqs(reason=Reason.WATCHLISTED) == [3]
    assert await seqs(since=BASE_TIME + timedelta(seconds=2)) == [2, 3, 4]
    assert await seqs(until=BASE_TIME + timedelta(seconds=2)) == [1]
    # The same instants written at +08:00: filters compare instants, not wall-clock digits.
    china = timezone(timedelta(hours=8))
    since = (BASE_TIME + timedelta(seconds=2)).astimezone(china)
    until = (BASE_TIME + timedelta(seconds=4)).astimezone(china)
    assert await seqs(since=since, until=until) == [2, 3]
    assert await seqs(project_id="proj-2", decision=Decision.GRANTED) == []


async def test_times_come_back_as_aware_utc(store: Store) -> None:
    local = datetime(2026, 5, 1, 16, 0, tzinfo=timezone(timedelta(hours=8)))
    received = datetime(2026, 5, 1, 8, 1, tzinfo=UTC)
    await store_events(store, [make_event(1, wall_time=local)], received_at=received)
    [event] = (await InternalEventReads(store).access_events()).items
    assert event.wall_time == local
    assert event.wall_time.tzinfo == UTC
    assert event.received_at == received


async def test_counts_group_by_device_decision_reason(store: Store) -> None:
    await store_events(
        store, [make_event(1), make_event(2), make_event(3, granted=False), make_event(1, device_id="lane-b")]
    )
    counts = await InternalEventReads(store).count_access_events()
    assert [(c.group["device_id"], c.group["decision"], c.group["reason"], c.count) for c in counts] == [
        ("lane-b", "granted", "granted", 1),
        ("lane-t01", "denied", "not_registered", 1),
        ("lane-t01", "granted", "granted", 2),
    ]
    by_project = await InternalEventReads(store).count_access_events(
        EventFilters(device_id="lane-t01"), group_by=("project_id",)
    )
    assert [(c.group, c.count) for c in by_project] == [({"project_id": "proj-1"}, 3)]
    with pytest.raises(InvalidQuery):
        await InternalEventReads(store).count_access_events(group_by=("credential_hash",))


async def test_dead_letters_keep_reason_and_size_newest_first(store: Store) -> None:
    await store.dead_letter("sitegate/v1/up/lane-a/event", "first", b"{bad")
    await store.dead_letter("sitegate/v1/up/lane-a/event", "second", b"x" * 100_000)
    letters = await InternalEventReads(store).dead_letters(limit=10)
    assert [(d.reason, d.payload_size) for d in letters] == [("second", 100_000), ("first", 4)]
    assert len(await InternalEventReads(store).dead_letters(limit=1)) == 1


def _presence(state: PresenceState, generation: int) -> PresenceStatus:
    return PresenceStatus(device_id="lane-a", state=state, generation=generation, at=BASE_TIME)


async def test_presence_ignores_what_is_older_than_stored(store: Store) -> None:
    assert await store.record_presence(_presence(PresenceState.ONLINE, 5))
    assert not await store.record_presence(_presence(PresenceState.OFFLINE, 4))  # an old will, late
    assert await store.record_presence(_presence(PresenceState.OFFLINE, 5))
    assert not await store.record_presence(_presence(PresenceState.ONLINE, 5))  # offline ends a generation
    assert await store.record_presence(_presence(PresenceState.ONLINE, 6))
    [device] = await InternalDeviceReads(store).statuses()
    assert (device.presence_state, device.presence_generation) == ("online", 6)


async def test_heartbeat_is_kept_as_the_last_one(store: Store) -> None:
    beat = Heartbeat(
        device_id="lane-a",
        sent_at=BASE_TIME,
        boot_id="boot-0001",
        uptime_s=12.5,
        free_disk_mb=900,
        journal_backlog=3,
        roster_version=7,
        reader_status={"id": ReaderState.OK},
        clock_synced=True,
        software_version="0.1.0",
    )
    received = BASE_TIME + timedelta(seconds=1)
    await store.record_heartbeat(beat, received_at=received)
    await store.record_presence(_presence(PresenceState.ONLINE, 1))
    [device] = await InternalDeviceReads(store).statuses()
    assert device.last_heartbeat is not None
    assert device.last_heartbeat["journal_backlog"] == 3
    assert device.presence_state == "online"


async def test_a_row_the_database_cannot_hold_is_a_permanent_store_error(store: Store) -> None:
    too_big = make_event(1).model_copy(update={"mono_ns": 2**64})
    with pytest.raises(StoreError) as caught:
        await store_events(store, [too_big])
    assert not caught.value.transient
    assert str(2**64) not in str(caught.value)  # no value of the row in the message (asyncpg quotes it)
    assert await InternalEventReads(store).sequences() == []  # the transaction rolled back whole


def _schema_diff(conn: Connection) -> list[Any]:
    include = comparison_filter(conn.dialect.name)
    return list(
        compare_metadata(MigrationContext.configure(conn, opts={"include_object": include}), metadata)
    )


async def test_migrations_match_the_schema(database_url: str, store: Store) -> None:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(_schema_diff)
    finally:
        await engine.dispose()
    assert diff == []


async def test_opens_a_relative_path_from_any_cwd_and_reopens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    url = "sqlite+aiosqlite:///var/nested/hub.db"
    async with await Store.open(url) as store:
        await store_events(store, [make_event(1)])
    async with await Store.open(url) as store:  # migrations already at head: a no-op
        assert [e.seq for e in (await InternalEventReads(store).access_events()).items] == [1]
        assert await store.ping()
    assert (tmp_path / "var" / "nested" / "hub.db").exists()


async def test_an_unusable_url_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError):
        await Store.open("not a url")
    with pytest.raises(StoreError):
        await Store.open("mysql+nosuchdriver://localhost/hub")


async def test_hub_instances_storing_overlapping_batches_at_once_store_each_seq_once(
    database_url: str, store: Store
) -> None:
    # Several hub instances (one engine each) behind a shared subscription get overlapping slices
    # of two devices' streams: the watermark row lock makes them take turns per device.
    rng = random.Random(7)
    last = 120
    batches = []
    for _ in range(12):
        start = rng.randint(1, last - 20)
        seqs = range(start, start + rng.randint(5, 20))
        batches.append([make_event(s, device_id=d) for d in ("lane-a", "lane-b") for s in seqs])
    batches.append([make_event(s, device_id=d) for d in ("lane-b", "lane-a") for s in range(1, last + 1)])
    instances = [await Store.open(database_url) for _ in range(3)]
    try:
        results = await asyncio.gather(
            *(store_events(instances[n % len(instances)], batch) for n, batch in enumerate(batches))
        )
    finally:
        for instance in instances:
            await instance.close()
    assert sum(r.new for r in results) == 2 * last
    assert sum(r.new + r.duplicates for r in results) == sum(len(b) for b in batches)
    states = await InternalEventReads(store).sequences()
    assert [(s.device_id, s.contiguous_through, s.highest_seen, s.gap_count) for s in states] == [
        ("lane-a", last, last, 0),
        ("lane-b", last, last, 0),
    ]
    counts = await InternalEventReads(store).count_access_events(group_by=("device_id",))
    assert [(c.group["device_id"], c.count) for c in counts] == [("lane-a", last), ("lane-b", last)]


@pytest.mark.postgres
async def test_postgresql_plans_every_statement_with_its_values(postgres_url: str) -> None:
    """No generic plans (hub.store.dialect.POSTGRESQL_SETTINGS), on every pooled connection."""
    async with await Store.open(postgres_url) as store:
        for _ in range(2):
            async with store.read("test") as conn:
                assert (await conn.exec_driver_sql("SHOW plan_cache_mode")).scalar() == "force_custom_plan"


def test_the_store_does_not_import_what_is_derived_from_it() -> None:
    """hub.events.journal composes the store's journal with hub.derive; a store importing
    hub.derive (which imports the store) was a cycle."""
    code = "import sys, hub.store; sys.exit(int('hub.derive' in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


async def test_a_huge_generation_cannot_freeze_presence(store: Store) -> None:
    """Issue 13: a lane's forged 2**63-1 is ignored once a real generation is stored, and
    replaced by the next real one when it came first; later ``offline`` notices still apply."""
    assert await store.record_presence(_presence(PresenceState.ONLINE, 5))
    assert not await store.record_presence(_presence(PresenceState.ONLINE, 2**63 - 1))
    assert await store.record_presence(_presence(PresenceState.OFFLINE, 5))
    await store.record_presence(
        _presence(PresenceState.ONLINE, 2**63 - 1).model_copy(update={"device_id": "lane-b"})
    )
    assert await store.record_presence(
        _presence(PresenceState.OFFLINE, 6).model_copy(update={"device_id": "lane-b"})
    )
    states = {
        d.device_id: (d.presence_state, d.presence_generation)
        for d in await InternalDeviceReads(store).statuses()
    }
    assert states == {"lane-a": ("offline", 5), "lane-b": ("offline", 6)}
