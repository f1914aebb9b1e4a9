"""Presence and attendance kept by the ingest's own transaction, on SQLite and PostgreSQL.

Whatever order passages arrive in (late, reversed, shuffled, resent), the derived tables end up
the same, and the same as a rebuild from the stored events.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from hub import derive
from hub.derive import tables as tables_module
from hub.derive.days import Passage
from hub.derive.days import derive as derive_pure
from hub.events.journal import store_events
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


def batches(events: list[AccessEvent], sizes: list[int]) -> Iterator[list[AccessEvent]]:
    """``events`` in order, cut into batches of ``sizes`` taken in turn."""
    i, sizes_cycle = 0, itertools.cycle(sizes)
    while i < len(events):
        n = next(sizes_cycle)
        yield events[i : i + n]
        i += n


async def store_in_batches(store: Store, events: list[AccessEvent], sizes: list[int]) -> None:
    for batch in batches(events, sizes):
        await store_events(store, batch)


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


@st.composite
def traffic(draw: st.DrawFn) -> list[AccessEvent]:
    """Three people on three lanes over three days, at sub-second times near midnight and noon,
    some at the very same instant on two lanes: the cases where carrying a day on could slip."""
    tag = f"-g{next(GENERATED):04d}"
    instants = st.builds(
        lambda day, base, ms: datetime.combine(day, base, CST) + timedelta(milliseconds=ms),
        st.sampled_from([DAY1, DAY2, DAY2 + timedelta(days=1)]),
        st.sampled_from([datetime.min.time(), datetime.min.time().replace(hour=12)]),
        st.sampled_from([-1, 0, 1, 999]) | st.integers(-90_000, 90_000),
    )
    spec = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["a", "b", "c"]), instants, st.booleans(), st.sampled_from(["1", "2", "3"])
            ),
            min_size=1,
            max_size=25,
        )
    )
    lanes = Lanes()
    return [
        lanes.event(f"lane-{lane}{tag}", f"proj-d{tag}", when, IN if arrives else OUT, f"per-{who}")
        for lane, when, arrives, who in spec
    ]


GENERATED = itertools.count()


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(events=traffic(), data=st.data())
async def test_after_every_batch_the_tables_are_what_all_stored_passages_give(
    store: Store, events: list[AccessEvent], data: st.DataObject
) -> None:
    """Mostly in time order (the carried-on path), sometimes not (recomputed), in any batching."""
    in_order = sorted(events, key=lambda e: e.wall_time)
    arrival = in_order if data.draw(st.booleans(), label="in order") else data.draw(st.permutations(events))
    sizes = data.draw(st.lists(st.integers(1, 6), min_size=1, max_size=4), label="batch sizes")
    project = events[0].project_id
    stored: list[AccessEvent] = []
    for batch in batches(arrival, sizes):
        await store_events(store, batch)
        stored += batch
        assert await tables(store, project) == oracle_of(stored, project)


def oracle_of(events: list[AccessEvent], project: str) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    days, here = oracle(events)
    return [d for d in days if d[0] == project], [p for p in here if p[0] == project]


async def test_an_interval_left_open_by_one_batch_is_closed_by_the_next(store: Store) -> None:
    lanes = Lanes()
    arrive = lanes.event("lane-in", "proj-d", at(DAY1, 8), IN, "per-1")
    leave = lanes.event("lane-out", "proj-d", at(DAY1, 12, 30), OUT, "per-1")
    back = lanes.event("lane-in", "proj-d", at(DAY1, 13), IN, "per-1")
    await store_events(store, [arrive])
    await store_events(store, [leave, back])
    days, here = await tables(store)
    assert [row[2:] for row in days] == [(DAY1, at(DAY1, 8), at(DAY1, 12, 30), int(4.5 * 3600), 3)]
    assert [row[2:] for row in here] == [(True, at(DAY1, 13), "lane-in", at(DAY1, 13))]


async def test_a_day_whose_stored_attendance_is_missing_is_recomputed(store: Store) -> None:
    """Carrying on needs the stored day; without it the day comes from its passages again."""
    lanes = Lanes()
    await store_events(store, [lanes.event("lane-in", "proj-d", at(DAY1, 8), IN, "per-1")])
    async with store.write("test") as conn:
        await conn.execute(attendance.delete())
    await store_events(store, [lanes.event("lane-out", "proj-d", at(DAY1, 9), OUT, "per-1")])
    days, _ = await tables(store)
    assert [row[2:] for row in days] == [(DAY1, at(DAY1, 8), at(DAY1, 9), 3600, 2)]


async def test_day_boundary_is_local_midnight(store: Store) -> None:
    before, after = at(DAY1, 23, 59), at(DAY2, 0, 1)
    await store_events(
        store,
        [
            make_event(1, project_id="proj-d", wall_time=before, direction=IN),
            make_event(2, project_id="proj-d", wall_time=after, direction=IN),
        ],
    )
    days, _ = await tables(store)
    assert [(row[2], row[3]) for row in days] == [(DAY1, before), (DAY2, after)]


async def test_one_batch_over_two_projects_and_local_midnight_keeps_each_group_right(store: Store) -> None:
    """The stored rows of a whole batch come from one statement each (issue 16): the batch's
    projects x people x days, cut to each (project, person)'s own start day. Here one batch holds
    project a's 23:59 passage (DAY1) and project b's passages from 00:01 (DAY2) of people with
    the same ids on both projects, so the statements also return b's DAY1 rows, which must not be
    taken for b's DAY2."""
    events_a, events_b = scenario("a"), scenario("b")
    await store_events(store, events_a[:6] + events_b[:6])  # DAY1 up to 18:00 on both projects
    async with store.read("test") as conn:
        stored = await tables_module._stored_state(
            conn, {("proj-da", "per-1"): DAY1, ("proj-db", "per-1"): DAY2, ("proj-db", "per-2"): DAY1}
        )
    assert {person: (p.event_time, a and a.day) for person, (p, a) in stored.items()} == {
        ("proj-da", "per-1"): (at(DAY1, 17, 30), DAY1),
        ("proj-db", "per-1"): (at(DAY1, 17, 30), None),
        ("proj-db", "per-2"): (at(DAY1, 18), DAY1),
    }
    await store_events(store, events_a[6:7] + events_b[7:])
    await store_events(store, events_a[7:] + events_b[6:7])
    for tag, events in (("a", events_a), ("b", events_b)):
        days, here = oracle(events)
        assert await tables(store, f"proj-d{tag}") == (days, here)


async def test_a_late_older_passage_does_not_override_presence(store: Store) -> None:
    morning = make_event(1, device_id="lane-in", project_id="proj-d", wall_time=at(DAY2, 8), direction=IN)
    await store_events(store, [morning])
    # Yesterday's swipe-out, from a lane that was offline until now.
    late = make_event(1, device_id="lane-out", project_id="proj-d", wall_time=at(DAY1, 17), direction=OUT)
    await store_events(store, [late])
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
    await store_events(store, [make_event(s, project_id="proj-d", granted=False) for s in (1, 2)])
    assert await tables(store) == ([], [])
    async with store.read("test") as conn:
        assert len((await conn.execute(select(access_events.c.id))).all()) == 2


async def test_hub_instances_storing_one_person_s_lanes_at_once_keep_the_tables_right(
    database_url: str,
) -> None:
    """Two lanes of one site, each drained by another hub instance at the same moment: each
    instance carries on from what it reads under the person's lock, so the second one must see
    the first one's rows (PostgreSQL: advisory lock; SQLite: one writer at a time)."""
    lanes = Lanes()
    start = at(DAY1, 7)
    events = [
        lanes.event(
            f"lane-{'in' if n % 2 == 0 else 'out'}",
            "proj-d",
            start + timedelta(minutes=n),
            IN if n % 2 == 0 else OUT,
            f"per-{n % 5}",
        )
        for n in range(200)
    ]
    ins = [e for e in events if e.device_id == "lane-in"]
    outs = [e for e in events if e.device_id == "lane-out"]
    instances = [await Store.open(database_url) for _ in range(2)]
    try:
        for chunk in range(0, 100, 10):  # both lanes' next ten at once, each through its own hub
            await asyncio.gather(
                store_events(instances[0], ins[chunk : chunk + 10]),
                store_events(instances[1], outs[chunk : chunk + 10]),
            )
        assert await tables(instances[0]) == oracle(events)
    finally:
        for instance in instances:
            await instance.close()
