"""Time bounds where events are stored (issue 13, item 3), on SQLite and PostgreSQL: a record whose
time the hub does not believe is kept and flagged ``clock_suspect``, and counts for no presence
or attendance; late records from a lane that was offline are normal. Every instant is injected
(the store's fake clock, or ``received_at``): nothing here reads the wall clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from hub import derive
from hub.events.internal import InternalEventReads
from hub.events.journal import store_events
from hub.events.time_bounds import TimeBounds
from hub.ingest import Ingest
from hub.store import Store
from hub.store.schema import access_events, attendance, devices, lane_events, presence
from tests.hub.derive.lanes import Lanes
from tests.hub.factories import make_event, make_lane_event
from tests.hub.test_batches import RecordingPublisher
from tests.support.clock import FakeClock
from tests.support.placed import place_lanes
from wire.clock import SITE_ZONE
from wire.codec import encode
from wire.models import AccessEvent, Direction, LaneEventType
from wire.topics import Channel, topic_for

PROJECT, ENTRY, EXIT, WHO = "proj-tb", "lane-tb-in", "lane-tb-out", "per-tb-1"
IN, OUT = Direction.IN, Direction.OUT
ENROLLED = datetime(2026, 3, 1, 9, 0, tzinfo=SITE_ZONE)


def on(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=SITE_ZONE)


DAY = date(2026, 5, 6)


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    async with await Store.open(database_url, clock=FakeClock(on(DAY, 7))) as opened:
        async with opened.write("test") as conn:
            await conn.execute(
                devices.insert(), [{"device_id": d, "enrolled_at": ENROLLED} for d in (ENTRY, EXIT)]
            )
        yield opened


def clock_of(store: Store) -> FakeClock:
    clock = store.clock
    assert isinstance(clock, FakeClock)
    return clock


async def passage(
    store: Store, lanes: Lanes, device: str, when: datetime, direction: Direction, *, received: datetime
) -> AccessEvent:
    """One passage of WHO, stamped ``when`` by its lane, received by the hub at ``received``."""
    clock_of(store).set(received)
    event = lanes.event(device, PROJECT, when, direction, WHO)
    await store_events(store, [event])
    return event


async def suspect_flags(store: Store) -> dict[tuple[str, int], bool]:
    async with store.read("test") as conn:
        rows = await conn.execute(
            select(access_events.c.device_id, access_events.c.seq, access_events.c.clock_suspect)
        )
        return {(d, s): bool(flag) for d, s, flag in rows}


async def days_of(store: Store) -> list[tuple[Any, ...]]:
    a = attendance.c
    async with store.read("test") as conn:
        rows = await conn.execute(
            select(a.day, a.first_in, a.last_out, a.seconds_on_site, a.passages)
            .where(a.project_id == PROJECT)
            .order_by(a.day)
        )
        return [tuple(r) for r in rows]


async def presence_of(store: Store) -> tuple[Any, ...] | None:
    p = presence.c
    async with store.read("test") as conn:
        row = (await conn.execute(select(p.on_site, p.event_time).where(p.person_id == WHO))).one_or_none()
    return None if row is None else tuple(row)


async def test_a_2099_entry_is_kept_flagged_and_does_not_keep_the_person_on_site(store: Store) -> None:
    lanes = Lanes()
    came = await passage(store, lanes, ENTRY, on(DAY, 8), IN, received=on(DAY, 8, 0, 1))
    forged = await passage(
        store, lanes, ENTRY, datetime(2099, 1, 1, 8, tzinfo=SITE_ZONE), IN, received=on(DAY, 9)
    )
    assert await presence_of(store) == (True, came.wall_time)  # the 2099 entry decided nothing
    went = await passage(store, lanes, EXIT, on(DAY, 17), OUT, received=on(DAY, 17, 0, 1))
    assert await presence_of(store) == (False, went.wall_time)  # the real exit counts
    assert await suspect_flags(store) == {
        (ENTRY, came.seq): False,
        (ENTRY, forged.seq): True,
        (EXIT, went.seq): False,
    }
    assert await days_of(store) == [(DAY, came.wall_time, went.wall_time, 9 * 3600, 2)]
    [stored_forgery] = [e for e in (await InternalEventReads(store).access_events()).items if e.clock_suspect]
    assert stored_forgery.seq == forged.seq and stored_forgery.wall_time.year == 2099  # kept, with its claim


async def test_entries_stamped_1971_and_2099_make_no_attendance_rows(store: Store) -> None:
    lanes = Lanes()
    for stamped in (datetime(1971, 1, 1, 8, tzinfo=SITE_ZONE), datetime(2099, 1, 1, 8, tzinfo=SITE_ZONE)):
        await passage(store, lanes, ENTRY, stamped, IN, received=on(DAY, 8))
        await passage(store, lanes, EXIT, stamped + timedelta(hours=9), OUT, received=on(DAY, 8))
    assert await days_of(store) == []
    assert await presence_of(store) is None
    assert all((await suspect_flags(store)).values())
    async with store.write("rebuild") as conn:  # a repair from the record agrees
        rebuilt = await derive.rebuild(conn, PROJECT)
    assert (rebuilt.passages, await days_of(store)) == (0, [])


async def test_a_lane_offline_for_seven_days_delivers_normal_events(store: Store) -> None:
    lanes = Lanes()
    came = lanes.event(ENTRY, PROJECT, on(DAY, 8), IN, WHO)
    went = lanes.event(EXIT, PROJECT, on(DAY, 17), OUT, WHO)
    clock_of(store).set(on(DAY, 8) + timedelta(days=7))  # back online a week later
    result = await store_events(store, [came, went])
    assert result.suspect == frozenset()
    assert not any((await suspect_flags(store)).values())
    assert await days_of(store) == [(DAY, came.wall_time, went.wall_time, 9 * 3600, 2)]


async def test_an_event_before_the_device_was_enrolled_is_suspect(store: Store) -> None:
    lanes = Lanes()
    before = ENROLLED - timedelta(days=3)
    early = await passage(store, lanes, ENTRY, before, IN, received=on(DAY, 8))
    within_slack = await passage(
        store, lanes, EXIT, ENROLLED - timedelta(minutes=5), OUT, received=on(DAY, 8)
    )
    assert await suspect_flags(store) == {(ENTRY, early.seq): True, (EXIT, within_slack.seq): False}
    # The same instant from a device the hub has no enrolment time for: only the epoch applies.
    unknown = Lanes().event("lane-tb-old", PROJECT, before, IN, "per-tb-2")
    assert (await store_events(store, [unknown], received_at=on(DAY, 8))).suspect == frozenset()


async def test_a_shift_across_midnight_with_a_lane_a_little_ahead(store: Store) -> None:
    """A lane five minutes ahead of the hub stamps its exit 00:08 while the hub's clock reads
    00:03: within the skew, so the night counts as any other."""
    lanes = Lanes()
    night, morning = DAY, DAY + timedelta(days=1)
    came = await passage(store, lanes, ENTRY, on(night, 23, 50), IN, received=on(night, 23, 45))
    went = await passage(store, lanes, EXIT, on(morning, 0, 8), OUT, received=on(morning, 0, 3))
    assert not any((await suspect_flags(store)).values())
    assert await days_of(store) == [
        (night, came.wall_time, None, 0, 1),
        (morning, None, went.wall_time, 0, 1),
    ]
    assert await presence_of(store) == (False, went.wall_time)


async def test_29_february_is_a_day_like_any_other(store: Store) -> None:
    """A lane 15 minutes ahead on the leap day, then (two days late) its exit and an entry older
    than everything stored, which makes the hub recompute the day from the record."""
    lanes = Lanes()
    leap = date(2028, 2, 29)
    came = await passage(store, lanes, ENTRY, on(leap, 8), IN, received=on(leap, 8))
    ahead = await passage(store, lanes, ENTRY, on(leap, 18), IN, received=on(leap, 17, 45))
    late = on(leap, 17) + timedelta(days=2)
    went = await passage(store, lanes, EXIT, on(leap, 17), OUT, received=late)
    earlier = await passage(store, lanes, ENTRY, on(leap, 7, 30), IN, received=late)
    flags = await suspect_flags(store)
    assert [
        flags[(d, e.seq)] for d, e in ((ENTRY, came), (ENTRY, ahead), (EXIT, went), (ENTRY, earlier))
    ] == [
        False,
        True,
        False,
        False,
    ]
    assert await days_of(store) == [(leap, earlier.wall_time, went.wall_time, 9 * 3600, 3)]
    assert await presence_of(store) == (False, went.wall_time)


async def test_lane_events_are_judged_too(store: Store) -> None:
    alarm = make_lane_event(5, LaneEventType.FIRE_ALARM, device_id=ENTRY, project_id=PROJECT)
    alarm = alarm.model_copy(update={"wall_time": datetime(2099, 1, 1, tzinfo=SITE_ZONE)})
    result = await store_events(store, [alarm], received_at=on(DAY, 8))
    assert result.suspect == {(ENTRY, 5)} and result.new == 1
    async with store.read("test") as conn:
        assert await conn.scalar(select(lane_events.c.clock_suspect)) is True
    assert [e.clock_suspect for e in (await InternalEventReads(store).lane_events()).items] == [True]


async def test_a_resent_suspect_record_is_listed_again_and_stored_once(store: Store) -> None:
    """The site relay must not take a resent copy for a passage either."""
    forged = Lanes().event(ENTRY, PROJECT, datetime(2099, 1, 1, tzinfo=SITE_ZONE), IN, WHO)
    first = await store_events(store, [forged], received_at=on(DAY, 8))
    again = await store_events(store, [forged], received_at=on(DAY, 9))
    assert (first.new, first.suspect) == (1, {(ENTRY, forged.seq)})
    assert (again.new, again.duplicates, again.suspect) == (0, 1, {(ENTRY, forged.seq)})


async def test_the_ingest_judges_by_the_bounds_it_was_given(store: Store) -> None:
    """The hub's configured tolerance (``clock_tolerance_s``) reaches the store through the ingest."""
    await place_lanes(store, [(ENTRY, PROJECT)])
    clock_of(store).set(on(DAY, 8))
    ahead = make_event(1, device_id=ENTRY, project_id=PROJECT, wall_time=on(DAY, 8, 5))  # 5 min ahead
    topic = topic_for(ENTRY, Channel.EVENT)
    default = Ingest(store, host="127.0.0.1", port=1, client_id="t", share_group="t")
    await default.handle_batch(RecordingPublisher(), [(topic, encode(ahead))])
    strict = TimeBounds(future_skew=timedelta(minutes=1), enrolment_slack=timedelta(minutes=1))
    tight = Ingest(store, host="127.0.0.1", port=1, client_id="t2", share_group="t", time_bounds=strict)
    await tight.handle_batch(RecordingPublisher(), [(topic, encode(ahead.model_copy(update={"seq": 2})))])
    assert await suspect_flags(store) == {(ENTRY, 1): False, (ENTRY, 2): True}
