"""Presence and attendance kept by the ingest's own transaction, on SQLite and PostgreSQL.

Whatever order passages arrive in (late, reversed, shuffled, resent), the derived tables end up
the same, and the same as a rebuild from the stored events.
"""

from __future__ import annotations

import itertools
import random
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from hub import derive
from hub.derive.days import Passage
from hub.derive.days import derive as derive_pure
from hub.store import Store
from hub.store.schema import access_events, attendance, presence
from tests.hub.derive.lanes import Lanes
from tests.hub.factories import make_event
from wire.models import AccessEvent, Direction

CST = timezone(timedelta(hours=8))
DAY1, DAY2 = date(2026, 5, 1), date(2026, 5, 2)
IN, OUT = Direction.IN, Direction.OUT


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=CST)


def scenario(tag: str = "") -> list[AccessEvent]:
    """Two people over two days on one project; lane ``in`` and ``out`` number their own seqs."""
    project, lane_in, lane_out, lane_in2 = f"proj-d{tag}", f"lane-in{tag}", f"lane-out{tag}", f"lane-in2{tag}"
    spec: list[tuple[str, datetime, Direction, str | None, bool]] = [
        (lane_in, at(DAY1, 8), IN, "per-1", True),
        (lane_in, at(DAY1, 9), IN, "per-2", True),
        (lane_out, at(DAY1, 12), OUT, "per-1", True),
        (lane_in, at(DAY1, 13), IN, "per-1", True),
        (lane_out, at(DAY1, 17, 30), OUT, "per-1", True),
        (lane_out, at(DAY1, 18), OUT, "per-2", True),
        (lane_in, at(DAY1, 23, 59), IN, "per-1", True),
        (lane_out, at(DAY2, 0, 1), OUT, "per-1", True),
        (lane_in, at(DAY2, 7, 30), IN, None, False),  # denied: no passage
        (lane_in, at(DAY2, 8), IN, "per-1", True),
        (lane_in2, at(DAY2, 8, 5), IN, "per-1", True),
    ]
    lanes = Lanes()
    return [
        lanes.event(device, project, when, direction, person, granted=granted)
        for device, when, direction, person, granted in spec
    ]


async def tables(
    store: Store, project_id: str = "proj-d"
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    async with store.read("test") as conn:
        days = (
            await conn.execute(
                select(attendance)
                .where(attendance.c.project_id == project_id)
                .order_by(attendance.c.person_id, attendance.c.day)
            )
        ).all()
        here = (
            await conn.execute(
                select(presence).where(presence.c.project_id == project_id).order_by(presence.c.person_id)
            )
        ).all()
    return [tuple(r) for r in days], [tuple(r) for r in here]


def oracle(events: list[AccessEvent]) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The tables as the pure rules compute them from every passage at once."""
    passages = [
        Passage(e.project_id, e.person_id, e.wall_time, e.device_id, e.direction is IN)
        for e in events
        if e.person_id is not None and e.decision.value == "granted"
    ]
    days, presences = derive_pure(passages)
    return (
        [
            (d.project_id, d.person_id, d.day, d.first_in, d.last_out, d.seconds_on_site, d.passages)
            for d in days
        ],
        [(p.project_id, p.person_id, p.on_site, p.since, p.device_id, p.event_time) for p in presences],
    )


async def store_in_batches(store: Store, events: list[AccessEvent], sizes: list[int]) -> None:
    i, sizes_cycle = 0, itertools.cycle(sizes)
    while i < len(events):
        n = next(sizes_cycle)
        await store.store_events(events[i : i + n])
        i += n


async def test_the_scenario_in_exact_numbers(store: Store) -> None:
    await store_in_batches(store, scenario(), [3])
    days, here = await tables(store)
    assert [row[1:] for row in days] == [
        ("per-1", DAY1, at(DAY1, 8), at(DAY1, 17, 30), int(8.5 * 3600), 5),
        ("per-1", DAY2, at(DAY2, 8), at(DAY2, 0, 1), 0, 3),
        ("per-2", DAY1, at(DAY1, 9), at(DAY1, 18), 9 * 3600, 2),
    ]
    assert [row[1:] for row in here] == [
        ("per-1", True, at(DAY2, 8), "lane-in2", at(DAY2, 8, 5)),
        ("per-2", False, at(DAY1, 18), "lane-out", at(DAY1, 18)),
    ]
    assert (days, here) == oracle(scenario())


ORDERS = {
    "in order": lambda events: events,
    "reversed": lambda events: events[::-1],
    "shuffled": lambda events: random.Random(7).sample(events, len(events)),
    "with duplicates": lambda events: events[5:] + events + events[:7],
}


@pytest.mark.parametrize("order", list(ORDERS))
async def test_arrival_order_does_not_change_the_tables(store: Store, order: str) -> None:
    await store_in_batches(store, ORDERS[order](scenario()), [1, 4, 2])
    assert await tables(store) == oracle(scenario())


@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_any_permutation_and_batching_gives_the_same_tables(store: Store, data: st.DataObject) -> None:
    tag = f"-{data.draw(st.uuids()).hex[:8]}"
    events = scenario(tag)
    arrival = data.draw(st.permutations(events), label="arrival")
    resent = data.draw(st.lists(st.sampled_from(events), max_size=4), label="resent")
    sizes = data.draw(st.lists(st.integers(1, 6), min_size=1, max_size=4), label="batch sizes")
    await store_in_batches(store, [*arrival, *resent], sizes)
    assert await tables(store, f"proj-d{tag}") == oracle(events)


async def test_day_boundary_is_local_midnight(store: Store) -> None:
    before, after = at(DAY1, 23, 59), at(DAY2, 0, 1)
    await store.store_events(
        [
            make_event(1, project_id="proj-d", wall_time=before, direction=IN),
            make_event(2, project_id="proj-d", wall_time=after, direction=IN),
        ]
    )
    days, _ = await tables(store)
    assert [(row[2], row[3]) for row in days] == [(DAY1, before), (DAY2, after)]


async def test_a_late_older_passage_does_not_override_presence(store: Store) -> None:
    morning = make_event(1, device_id="lane-in", project_id="proj-d", wall_time=at(DAY2, 8), direction=IN)
    await store.store_events([morning])
    # Yesterday's swipe-out, from a lane that was offline until now.
    late = make_event(1, device_id="lane-out", project_id="proj-d", wall_time=at(DAY1, 17), direction=OUT)
    await store.store_events([late])
    days, here = await tables(store)
    assert [row[1:] for row in here] == [("person-1", True, at(DAY2, 8), "lane-in", at(DAY2, 8))]
    assert [(row[2], row[4]) for row in days] == [(DAY1, at(DAY1, 17)), (DAY2, None)]


async def test_rebuild_gives_what_the_ingest_kept(store: Store) -> None:
    await store_in_batches(store, scenario() + scenario("-other"), [5])
    kept = await tables(store), await tables(store, "proj-d-other")
    async with store.write("test") as conn:
        await conn.execute(attendance.delete().where(attendance.c.project_id == "proj-d"))
        await conn.execute(presence.update().values(on_site=False))
        rebuilt = await derive.rebuild(conn, "proj-d")
    assert rebuilt == derive.Rebuilt(passages=10, attendance_rows=3, presence_rows=2)
    assert await tables(store) == kept[0]
    assert (await tables(store, "proj-d-other"))[0] == kept[1][0]  # attendance of the other untouched
    async with store.write("test") as conn:
        everything = await derive.rebuild(conn)
    assert everything == derive.Rebuilt(passages=20, attendance_rows=6, presence_rows=4)
    assert (await tables(store), await tables(store, "proj-d-other")) == kept


async def test_denied_events_derive_nothing(store: Store) -> None:
    await store.store_events([make_event(s, project_id="proj-d", granted=False) for s in (1, 2)])
    assert await tables(store) == ([], [])
    async with store.read("test") as conn:
        assert len((await conn.execute(select(access_events.c.id))).all()) == 2
