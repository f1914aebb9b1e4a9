"""A lane whose clock stepped back an hour (issue 20): presence and attendance follow the lane's
own order, and the step is an alert, never a person on site. Both stores."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from hub.events.journal import store_events
from hub.store import Store
from hub.store.schema import access_events, attendance, lane_events, presence
from tests.hub.factories import make_event
from tests.hub.store.steps import ENTRY, stepped_exit

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
