"""A grant the roster could not hold (issue 13) is an alert for the accounts that see the person:
the world's ``per-x`` was admitted an hour ago on proj-a, two days after the assignment ended."""

from __future__ import annotations

from hub.workflows import alerts
from tests.hub.workflows.conftest import Api


async def test_a_grant_after_the_assignment_ended_is_an_alert_through_the_persons_scope(api: Api) -> None:
    now = api.clock.wall()
    settings = alerts.AlertSettings()

    async def misses(who: str, at=now) -> list[tuple[str, str, str | None]]:
        found = await alerts.Alerts(api.store, api.principals[who], settings).alerts(now=at)
        return [(a.kind, a.subject, a.project_id) for a in found if a.kind == "not_in_roster"]

    assert await misses("gc-a") == [("not_in_roster", "per-x", "proj-a")]
    assert await misses("city") == [("not_in_roster", "per-x", "proj-a")]
    assert await misses("gc-b") == []  # another project's accounts
    assert await misses("gc-a", at=now + settings.watchlist_window) == []  # the window has passed
    [alert] = await alerts.Alerts(api.store, api.principals["gc-a"], settings).roster_misses(now=now)
    assert "roster could not hold" in alert.message and alert.details["device_id"] == "lane-a-in"
