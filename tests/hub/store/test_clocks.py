"""A lane whose clock stepped back an hour (issue 20): presence and attendance follow the lane's
own order, and the step is an alert, never a person on site. Both stores."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from hub.events.journal import store_events
from hub.store import Store, clocks
from hub.store.schema import access_events, attendance, device_clocks, lane_events, presence
from tests.hub.factories import make_event
from tests.hub.store.steps import ENTRY, stepped_exit
from wire.models import AccessEvent

PROJECT = "proj-1"


async def test_an_exit_stamped_before_the_entry_by_a_stepped_clock_still_closes_the_day(store: Store) -> None:
    entry = make_event(1, device_id="lane-in", wall_time=ENTRY)
    before_step, step, exit_ = stepped_exit(device_id="lane-out")
    assert exit_.wall_time < entry.wall_time  # the fault: the exit's wall time is before the entry's
    await store_events(store, [entry])
    await store_events(store, [before_step, step, exit_])
    async with store.read("test") as conn:
        here = (await conn.execute(select(presence))).one()
        day = (await conn.execute(select(attendance))).one()
        corrected = (
            await conn.execute(select(access_events.c.corrected_time).where(access_events.c.seq == 3))
        ).scalar_one()
        alerts = (
            await conn.execute(select(lane_events.c.type, lane_events.c.alert, lane_events.c.step_s))
        ).all()
    assert here.on_site is False
    assert corrected == ENTRY + timedelta(minutes=5)
    assert (day.first_in, day.last_out, day.seconds_on_site) == (ENTRY, ENTRY + timedelta(minutes=5), 300)
    assert [tuple(a) for a in alerts] == [("clock_step", True, -3600.0)]


async def test_one_batch_over_crossing_boots_corrects_each_from_its_own_line(store: Store) -> None:
    """The stored lines of a batch are read as its devices x boots (issue 16): here lane-a's boot-2
    comes back with the batch's lane-a/boot-1 and lane-b/boot-2, and must serve neither."""
    t1, t2, t3 = ENTRY, ENTRY + timedelta(hours=1), ENTRY + timedelta(hours=2)

    def reading(device: str, boot: str, seq: int, mono_s: int, wall: datetime, synced: bool) -> AccessEvent:
        return make_event(seq, device_id=device).model_copy(
            update={"boot_id": boot, "mono_ns": mono_s * 10**9, "wall_time": wall, "clock_synced": synced}
        )

    anchors = [
        reading("lane-a", "boot-1", 1, 100, t1, True),
        reading("lane-a", "boot-2", 2, 500, t2, True),
        reading("lane-b", "boot-2", 1, 700, t3, True),
    ]
    stepped = ENTRY - timedelta(days=3)
    later = [
        reading("lane-a", "boot-1", 3, 110, stepped, False),
        reading("lane-b", "boot-2", 2, 720, stepped, False),
    ]
    async with store.write("test") as conn:
        assert await clocks.correct(conn, anchors) == {
            ("lane-a", 1): t1,
            ("lane-a", 2): t2,
            ("lane-b", 1): t3,
        }
    async with store.write("test") as conn:
        assert await clocks.correct(conn, later) == {
            ("lane-a", 3): t1 + timedelta(seconds=10),
            ("lane-b", 2): t3 + timedelta(seconds=20),
        }
    async with store.read("test") as conn:
        lines = (await conn.execute(select(device_clocks).order_by("device_id", "boot_id"))).all()
    assert [tuple(row) for row in lines] == [
        ("lane-a", "boot-1", 1, t1, 100 * 10**9),
        ("lane-a", "boot-2", 2, t2, 500 * 10**9),
        ("lane-b", "boot-2", 1, t3, 700 * 10**9),
    ]
