"""Time attacks (issue 13, item 3), through a real mosquitto and the hub's app: a placed lane with a
valid identity publishes an entry stamped 2099 (before the fix it kept its person on site for good,
the real exit afterwards ignored, newest wins) and one stamped 1971 (an attendance row for 1971).

The hub keeps both (and acknowledges them: the lane forgets them), flags them ``clock_suspect`` in
the access record an account reads, and counts neither: the real exit closes the day. The hub's
clock is injected (a fake at 17:05 site time), so no wall clock decides anything here."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, datetime
from typing import Any

import aiomqtt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from hub.api.keys import INGEST
from hub.app import create_app
from hub.config import HubConfig
from hub.events.internal import InternalEventReads
from hub.store import Store
from hub.store.schema import attendance, presence
from sitegate.mosquitto import Mosquitto
from tests.hub.factories import eventually, make_event
from tests.support.accounts import headers_for_new_account
from tests.support.clock import FakeClock
from tests.support.placed import place_lanes
from wire.clock import SITE_ZONE
from wire.codec import encode
from wire.models import AccessEvent, Direction
from wire.topics import Channel, topic_for

pytestmark = pytest.mark.broker

Client = TestClient[web.Request, web.Application]
DEVICE, PERSON = "lane-t01", "person-1"
DAY = date(2026, 5, 6)
RECEIVED = datetime(2026, 5, 6, 17, 5, tzinfo=SITE_ZONE)


def on(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SITE_ZONE)


@pytest.fixture
async def hub(broker: Mosquitto, database_url: str) -> AsyncIterator[Client]:
    headers = await headers_for_new_account(database_url)  # a city account: sees every project
    async with await Store.open(database_url) as store:
        await place_lanes(store)  # lane-t01 at a gate of proj-1 for both directions
    config = HubConfig(
        database_url=database_url, mqtt_host=broker.host, mqtt_port=broker.port, batch_window_s=0.005
    )
    app = create_app(config, clock=FakeClock(RECEIVED))
    async with TestClient(TestServer(app), headers=headers) as client:
        async with asyncio.timeout(5):
            await app[INGEST].wait_connected()
        yield client


async def publish(broker: Mosquitto, *events: AccessEvent) -> None:
    async with aiomqtt.Client(
        broker.host, broker.port, identifier=f"test-{DEVICE}", protocol=aiomqtt.ProtocolVersion.V5
    ) as lane:
        for event in events:
            await lane.publish(topic_for(DEVICE, Channel.EVENT), encode(event), qos=1)


def passage(seq: int, at: datetime, direction: Direction) -> AccessEvent:
    return make_event(seq, device_id=DEVICE, wall_time=at, direction=direction, person_id=PERSON)


async def stored(hub: Client, count: int) -> list[dict[str, Any]]:
    """The access record as an account reads it, once ``count`` rows are there."""

    async def rows() -> list[dict[str, Any]] | None:
        body = await (await hub.get("/api/v1/access-events", params={"limit": "100"})).json()
        return body["items"] if len(body["items"]) == count else None

    return sorted(await eventually(rows), key=lambda row: row["seq"])


async def derived(database_url: str) -> tuple[tuple[Any, ...] | None, list[tuple[Any, ...]]]:
    """(on_site, event_time) of the person's presence, and their attendance days."""
    async with await Store.open(database_url) as store, store.read("test") as conn:
        p, a = presence.c, attendance.c
        here = (
            await conn.execute(select(p.on_site, p.event_time).where(p.person_id == PERSON))
        ).one_or_none()
        days = await conn.execute(
            select(a.day, a.seconds_on_site, a.passages).where(a.person_id == PERSON).order_by(a.day)
        )
        return (None if here is None else tuple(here)), [tuple(d) for d in days]


async def test_an_entry_stamped_2099_neither_keeps_its_person_on_site_nor_hides_the_exit(
    broker: Mosquitto, hub: Client, database_url: str
) -> None:
    came = passage(1, on(DAY, 8), Direction.IN)
    forged = passage(2, datetime(2099, 1, 1, 8, tzinfo=SITE_ZONE), Direction.IN)
    await publish(broker, came, forged)
    rows = await stored(hub, 2)
    assert [(row["seq"], row["clock_suspect"]) for row in rows] == [(1, False), (2, True)]
    assert rows[1]["wall_time"].startswith("2099-01-01")  # kept as the lane claimed it
    assert await derived(database_url) == ((True, came.wall_time), [(DAY, 0, 1)])

    went = passage(3, on(DAY, 17), Direction.OUT)
    await publish(broker, went)
    await stored(hub, 3)
    assert await derived(database_url) == ((False, went.wall_time), [(DAY, 9 * 3600, 2)])


async def test_an_entry_stamped_1971_makes_no_attendance_row_and_is_still_acknowledged(
    broker: Mosquitto, hub: Client, database_url: str
) -> None:
    await publish(broker, passage(1, datetime(1971, 1, 1, 8, tzinfo=SITE_ZONE), Direction.IN))
    [row] = await stored(hub, 1)
    assert row["clock_suspect"] is True
    assert await derived(database_url) == (None, [])
    async with await Store.open(database_url) as store:
        [sequence] = await InternalEventReads(store).sequences()
    assert (sequence.device_id, sequence.contiguous_through) == (DEVICE, 1)  # stored, so acknowledged
