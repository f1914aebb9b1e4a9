"""A lane's bad day at the hub (issue 20): a full disk (heartbeat) and a stepped clock (lane event)
are alerts, through the account's scope; both stores."""

from __future__ import annotations

from datetime import datetime, timedelta

from hub.events.journal import store_events
from hub.workflows import alerts
from tests.hub.factories import make_event, make_lane_event
from tests.hub.oversight import world as w
from tests.hub.workflows.conftest import Api
from tests.hub.workflows.test_national_and_alerts import _beat
from wire.models import LaneEventType


async def test_a_full_disk_and_a_stepped_clock_are_alerts(api: Api) -> None:
    at_ten = w.at(w.DAY, 10)
    faulty = _beat("lane-a-in", at_ten).model_copy(update={"journal_fault": True})
    await api.store.record_heartbeat(faulty, received_at=at_ten - timedelta(minutes=1))
    await api.store.record_heartbeat(_beat("lane-a-out", at_ten), received_at=at_ten - timedelta(minutes=1))
    step = make_lane_event(901, LaneEventType.FIRE_ALARM, device_id="lane-b-in", project_id="proj-b")
    step = step.model_copy(update={"type": LaneEventType.CLOCK_STEP, "step_s": -3600.0, "alert": True})
    await store_events(api.store, [step], received_at=at_ten - timedelta(minutes=30))
    settings = alerts.AlertSettings()

    async def kinds(who: str) -> list[tuple[str, str]]:
        found = await alerts.Alerts(api.store, api.principals[who], settings).alerts(now=at_ten)
        return sorted((a.kind, a.subject) for a in found if a.kind in ("lane_fault", "clock_step"))

    assert await kinds("gc-a") == [("lane_fault", "lane-a-in")]
    assert await kinds("city") == [("clock_step", "lane-b-in"), ("lane_fault", "lane-a-in")]
    assert await kinds("gc-b") == [("clock_step", "lane-b-in")]
    [stepped] = [a for a in await alerts.Alerts(api.store, api.principals["gc-b"], settings).alerts(now=at_ten)
                 if a.kind == "clock_step"]  # fmt: skip
    assert "-3600 s" in stepped.message
    healthy = _beat("lane-a-in", at_ten)  # the disk took a write again: the next heartbeat clears it
    await api.store.record_heartbeat(healthy, received_at=at_ten)
    assert await kinds("gc-a") == []


async def test_a_refused_attribution_is_an_alert_for_the_owners_of_the_lane_it_came_from(api: Api) -> None:
    at_ten = w.at(w.DAY, 10)
    refused = make_lane_event(
        902, LaneEventType.ATTRIBUTION_REFUSED, device_id="lane-b-in", project_id="proj-b"
    )
    await store_events(api.store, [refused], received_at=at_ten - timedelta(minutes=30))
    settings = alerts.AlertSettings()

    async def refusals(who: str, now: datetime = at_ten) -> list[tuple[str, str]]:
        found = await alerts.Alerts(api.store, api.principals[who], settings).alerts(now=now)
        return sorted((a.kind, a.subject) for a in found if a.kind == "attribution_refused")

    assert await refusals("gc-a") == []
    assert await refusals("gc-b") == [("attribution_refused", "lane-b-in")]
    assert await refusals("city") == [("attribution_refused", "lane-b-in")]
    assert await refusals("gc-b", now=at_ten + settings.watchlist_window) == []


async def test_clock_suspect_records_are_one_alert_per_batch_for_the_owners_of_the_lane(api: Api) -> None:
    """Issue 13, item 3: a lane that sends times the hub does not believe (2099, 1971) alerts its
    owners once per batch, whatever the batch holds; a believed record alerts nobody."""
    at_ten = w.at(w.DAY, 10)
    stamped = datetime(2099, 1, 1, 8, tzinfo=w.at(w.DAY, 0).tzinfo)
    first = [
        make_event(801, device_id="lane-b-in", project_id="proj-b", wall_time=stamped),
        make_lane_event(802, LaneEventType.FIRE_ALARM, device_id="lane-b-in", project_id="proj-b").model_copy(
            update={"wall_time": stamped + timedelta(minutes=1)}
        ),
        make_event(803, device_id="lane-b-in", project_id="proj-b", wall_time=at_ten - timedelta(hours=1)),
    ]
    await store_events(api.store, first, received_at=at_ten - timedelta(hours=1))
    old = make_event(804, device_id="lane-b-in", project_id="proj-b", wall_time=stamped.replace(year=1971))
    await store_events(api.store, [old], received_at=at_ten - timedelta(minutes=10))
    believed = make_event(
        1, device_id="lane-a-in", project_id="proj-a", wall_time=at_ten - timedelta(minutes=5)
    )
    await store_events(api.store, [believed], received_at=at_ten - timedelta(minutes=5))
    settings = alerts.AlertSettings()

    async def suspect(who: str, now: datetime = at_ten) -> list[tuple[str, int, str]]:
        found = await alerts.Alerts(api.store, api.principals[who], settings).alerts(now=now)
        return [
            (a.subject or "", int(str(a.details["records"])), str(a.details["earliest"])[:4])
            for a in found
            if a.kind == "clock_suspect"
        ]

    assert await suspect("gc-a") == []
    assert await suspect("gc-b") == [("lane-b-in", 2, "2099"), ("lane-b-in", 1, "1971")]
    assert await suspect("city") == await suspect("gc-b")
    [batch] = [a for a in await alerts.Alerts(api.store, api.principals["gc-b"], settings).alerts(now=at_ten)
               if a.kind == "clock_suspect" and a.details["records"] == 2]  # fmt: skip
    assert batch.message.startswith("闸机") and "2099-01-01" in batch.message
    assert await suspect("gc-b", now=at_ten + settings.watchlist_window) == []
