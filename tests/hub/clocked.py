"""The instants the hub's tests live at, and the one thing besides the app that must agree with them.

A test builds its app with ``create_app(config, clock=FakeClock(...))`` and works out every
expectation from that same clock, never from the wall clock: the test then means the same at
noon, at 23:59:59 and across a midnight. A test whose subject is the calendar (attendance by
day, an order's deadline, a month's summary) runs at each of :data:`DAY_EDGES`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from hub.auth import tokens
from hub.auth.principal import Principal
from hub.store import Store
from tests.support.clock import FakeClock, site_time

NOON = site_time(2026, 6, 15, 12, 0, 0)
"""An ordinary instant, for tests whose subject is not the calendar."""
BEFORE_MIDNIGHT = site_time(2026, 12, 6, 23, 59, 59)
AFTER_MIDNIGHT = site_time(2026, 12, 7, 0, 30, 0)
LEAP_DAY = site_time(2028, 2, 29, 12, 0, 0)
DAY_EDGES = [
    pytest.param(BEFORE_MIDNIGHT, id="23:59:59"),
    pytest.param(AFTER_MIDNIGHT, id="00:30"),
    pytest.param(LEAP_DAY, id="29-Feb"),
]
"""For ``@pytest.mark.parametrize("clock", DAY_EDGES, indirect=True)``: one second before a site
midnight (Beijing time, 15:59:59 UTC: the UTC date is still the same), half an hour after one
(16:30 UTC the day before: the UTC date is not the site's), and a leap day."""


def midnight_after(day: date) -> datetime:
    """The first instant of the site's day after ``day`` (Beijing time), whatever the UTC date."""
    after = day + timedelta(days=1)
    return site_time(after.year, after.month, after.day)


TOKEN_LIFETIME = timedelta(days=62)
"""Long enough for a test to move its clock to the end of the month and stay logged in."""


async def token_headers_at(store: Store, principal: Principal, clock: FakeClock) -> dict[str, str]:
    """Headers carrying a token issued in the store at the clock's instant: a token issued by the
    wall clock would look expired (or not yet issued) to an app whose clock is elsewhere."""
    async with store.write("test token") as conn:
        issued = await tokens.issue(
            conn, principal.account_id, now=clock.wall(), lifetime_s=TOKEN_LIFETIME.total_seconds()
        )
    return {"Authorization": f"Bearer {issued.token}"}
