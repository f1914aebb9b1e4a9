"""Lane events in the store: stored once, one watermark across both kinds, a reused seq refused."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hub.events.internal import InternalEventReads
from hub.events.journal import store_events
from hub.events.records import LaneEventFilters
from hub.store import SeqConflict, Store
from hub.store.sequences import WALK_PAGE
from tests.hub.factories import BASE_TIME, make_event, make_lane_event
from wire.models import AccessEvent, LaneEvent, LaneEventType

FIRE = LaneEventType.FIRE_ALARM


def interleaved(seqs: range | list[int]) -> list[AccessEvent | LaneEvent]:
    """Odd seqs are access events, even ones the passage each confirms."""
    return [make_event(s) if s % 2 else make_lane_event(s) for s in seqs]


async def test_a_lane_event_is_stored_once_and_read_back_whole(store: Store) -> None:
    event = make_lane_event(2, ref_seq=1)
    first = await store_events(store, [event, event])
    again = await store_events(store, [event])
    assert (first.new, first.duplicates, first.new_lane_events) == (1, 1, 1)
    assert (again.new, again.duplicates, again.new_lane_events) == (0, 1, 0)
    [stored] = (await InternalEventReads(store).lane_events()).items
    assert (stored.device_id, stored.seq, stored.type, stored.ref_seq, stored.alert) == (
        "lane-t01",
        2,
        "passage_confirmed",
        1,
        False,
    )
    assert stored.wall_time == event.wall_time
    assert (await InternalEventReads(store).access_events()).items == []


async def test_the_watermark_counts_both_kinds_and_a_lane_event_fills_the_gap(store: Store) -> None:
    result = await store_events(store, interleaved([1, 2, 3, 4, 5, 7, 8]))
    assert result.watermarks == {"lane-t01": 5}
    assert result.gaps == {"lane-t01"}
    [state] = await InternalEventReads(store).sequences()
    assert (state.contiguous_through, state.highest_seen, state.gap_count) == (5, 8, 1)

    filled = await store_events(store, [make_lane_event(6, FIRE)])
    assert filled.watermarks == {"lane-t01": 8}
    assert filled.gaps == frozenset()
    [state] = await InternalEventReads(store).sequences()
    assert (state.contiguous_through, state.highest_seen, state.gap_count) == (8, 8, 0)


async def test_the_walk_merges_both_tables_over_many_pages(store: Store) -> None:
    last = 2 * WALK_PAGE + 11
    early = await store_events(store, [*interleaved(range(2, last + 1)), make_event(last + 4)])
    assert early.watermarks == {"lane-t01": 0}
    result = await store_events(store, [make_event(1)])
    assert result.watermarks == {"lane-t01": last}
    [state] = await InternalEventReads(store).sequences()
    assert (state.highest_seen, state.gap_count) == (last + 4, 3)


async def test_a_seq_reused_by_the_other_kind_is_a_conflict_not_a_duplicate(store: Store) -> None:
    await store_events(store, [make_event(1), make_event(2)])
    result = await store_events(store, [make_lane_event(2, FIRE), make_lane_event(3, FIRE)])
    assert result.conflicts == (SeqConflict("lane-t01", 2, "lane_event", "access_event"),)
    assert (result.new, result.duplicates, result.new_lane_events) == (1, 0, 1)
    assert result.watermarks == {"lane-t01": 3}
    assert [e.seq for e in (await InternalEventReads(store).lane_events()).items] == [3]
    assert [a.seq for a in result.alerts] == [3]


async def test_inside_one_batch_the_first_kind_keeps_the_seq(store: Store) -> None:
    result = await store_events(store, [make_lane_event(1, FIRE), make_event(1), make_lane_event(1, FIRE)])
    assert result.conflicts == (SeqConflict("lane-t01", 1, "access_event", "lane_event"),)
    assert (result.new, result.duplicates) == (1, 1)
    assert (await InternalEventReads(store).access_events()).items == []
    [state] = await InternalEventReads(store).sequences()
    assert (state.contiguous_through, state.gap_count) == (1, 0)


async def test_what_is_stored_owns_the_seq_whatever_the_batch_order(store: Store) -> None:
    await store_events(store, [make_lane_event(1, FIRE)])
    result = await store_events(store, [make_event(1), make_lane_event(1, FIRE)])
    assert result.conflicts == (SeqConflict("lane-t01", 1, "access_event", "lane_event"),)
    assert (result.new, result.duplicates) == (0, 1)


async def test_alerts_are_reported_once_when_first_stored(store: Store) -> None:
    batch = [make_lane_event(1, LaneEventType.TAMPER), make_lane_event(2, LaneEventType.LANE_DISABLED)]
    first = await store_events(store, batch)
    assert [(a.seq, a.type) for a in first.alerts] == [(1, LaneEventType.TAMPER)]
    assert (await store_events(store, batch)).alerts == ()


async def test_lane_event_filters(store: Store) -> None:
    await store_events(
        store,
        [
            make_lane_event(1, FIRE),
            make_lane_event(2, LaneEventType.FIRE_ALARM_CLEARED),
            make_lane_event(3, LaneEventType.LANE_DISABLED, project_id="proj-2"),
            make_lane_event(4, LaneEventType.TAMPER, device_id="lane-x"),
        ],
    )

    async def seqs(**filters: object) -> list[int]:
        page = await InternalEventReads(store).lane_events(LaneEventFilters(**filters))  # type: ignore[arg-type]
        return sorted(e.seq for e in page.items)

    assert await seqs() == [1, 2, 3, 4]
    assert await seqs(type=FIRE) == [1]
    assert await seqs(alert=True) == [1, 4]
    assert await seqs(alert=False) == [2, 3]
    assert await seqs(project_id="proj-2") == [3]
    assert await seqs(device_id="lane-x", alert=True) == [4]
    assert await seqs(since=BASE_TIME + timedelta(seconds=2), until=BASE_TIME + timedelta(seconds=4)) == [
        2,
        3,
    ]


@pytest.mark.parametrize("limit", [1, 4, 30])
async def test_lane_pages_walk_every_row_once_with_equal_wall_times(store: Store, limit: int) -> None:
    events = [make_lane_event(s, FIRE, wall_time=BASE_TIME + timedelta(minutes=s % 3)) for s in range(1, 13)]
    await store_events(store, events)
    seen: list[int] = []
    cursor: str | None = None
    while True:
        page = await InternalEventReads(store).lane_events(cursor=cursor, limit=limit)
        seen += [e.seq for e in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(seen) == list(range(1, 13))
    assert len(seen) == len(set(seen))
