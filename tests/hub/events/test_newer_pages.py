"""hub.events.queries.newer_page_query, on both stores: from any page of the newest-first listing,
the page before it comes back exactly (ties in wall time broken by row id, as page_query breaks
them), oldest first with one row more when more lie that way; the filters and the scope hold."""

from __future__ import annotations

import itertools
from datetime import timedelta

from sqlalchemy import false, true

from hub.events.journal import store_events
from hub.events.queries import newer_page_query, page_query
from hub.events.records import EventFilters
from hub.store import Store
from hub.store.cursor import encode_cursor
from hub.store.schema import access_events
from tests.hub.factories import BASE_TIME, make_event

FILTERS = EventFilters(project_id="proj-a")


async def rows(store: Store, query: object) -> list[int]:
    async with store.read("test newer pages") as conn:
        return [row.id for row in (await conn.execute(query)).all()]  # type: ignore[call-overload]


async def test_the_page_before_comes_back_exactly(store: Store) -> None:
    same_second = BASE_TIME + timedelta(minutes=5)
    events = [
        make_event(
            seq, device_id="lane-a", project_id="proj-a", wall_time=same_second if seq % 3 == 0 else None
        )
        for seq in range(1, 12)
    ]
    other = make_event(1, device_id="lane-b", project_id="proj-b")
    await store_events(store, [*events, other])
    async with store.read("all rows") as conn:
        times = {row.id: row.wall_time for row in (await conn.execute(access_events.select())).all()}
    pages, cursor = [], None
    while True:
        found = await rows(store, page_query(access_events, FILTERS, cursor, 3, true()))
        pages.append(found[:3])
        if len(found) <= 3:
            break
        cursor = encode_cursor(times[found[2]], found[2])
    assert sum(len(p) for p in pages) == 11
    for before, after in itertools.pairwise(pages):
        first = after[0]
        back = await rows(
            store, newer_page_query(access_events, FILTERS, encode_cursor(times[first], first), 3, true())
        )
        assert back[:3][::-1] == before
        assert (len(back) > 3) == (before is not pages[0])
    oldest = pages[-1][-1]
    since_oldest = encode_cursor(times[oldest], oldest)
    others = await rows(
        store, newer_page_query(access_events, EventFilters(project_id="proj-b"), since_oldest, 3, true())
    )
    assert [times[row] for row in others] == [other.wall_time]  # the filters hold
    assert (
        await rows(store, newer_page_query(access_events, FILTERS, since_oldest, 3, false())) == []
    )  # and the scope
