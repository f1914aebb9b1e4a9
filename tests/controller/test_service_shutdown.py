"""The lane and its uplink stop when cancelled, even when one of their children swallows its cancel.

Python 3.11's ``asyncio.wait_for`` (in aiomqtt's publish, under a roster handler's reply, say)
returns a result instead of raising when a cancel lands as its inner future completes. Run in an
``asyncio.TaskGroup``, such a child was cancelled once and then waited for ever: ``LaneService.run``
and ``Uplink.run`` never ended however often they were cancelled (the site-passback test and the
propagation bench hung on it under load). The children stand in for that here by swallowing their
first cancel, every time, instead of by chance.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiomqtt
import pytest

from controller.config import MqttConfig
from controller.core.cards import IdentityCard, ReadFailure
from controller.journal import Journal
from controller.uplink import Uplink
from sitegate.mosquitto import Mosquitto
from sitegate.tasks import RECANCEL_S
from tests.controller.test_service import close_lane, make_lane
from tests.support.stubborn import Stubborn
from wire.topics import Channel, topic_for

STOPS_WITHIN_S = RECANCEL_S + 9.0
"""One more cancel after RECANCEL_S ends a child that swallowed the first; the rest is slack for a
loaded machine. Before the fix the wait never ended at all."""


class StubbornReader:
    """A card source whose read swallows its first cancel."""

    name = "stubborn"
    healthy = True

    def __init__(self) -> None:
        self.stubborn = Stubborn()

    async def cards(self) -> AsyncIterator[IdentityCard | ReadFailure]:
        await self.stubborn.run()
        yield ReadFailure(self.name, "never reached")


async def stopped_within(task: asyncio.Task[None], what: str) -> None:
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=STOPS_WITHIN_S)
    assert task in done, f"{what} still running {STOPS_WITHIN_S:.0f} s after one cancel"
    assert task.cancelled()


async def test_the_lane_stops_although_a_reader_swallows_its_cancel(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    lane = make_lane(tmp_path)
    reader = StubbornReader()
    lane.sources.append(reader)
    try:
        running = asyncio.create_task(lane.run())
        await asyncio.wait_for(reader.stubborn.started.wait(), 10)
        await stopped_within(running, "LaneService.run")
    finally:
        close_lane(lane)
    assert reader.stubborn.cancels == 2
    assert "task 'lane A1 reader 0 (stubborn)' still running" in caplog.text  # it names who resisted
    assert lane.pins.pin(17).state is False  # type: ignore[attr-defined]  # the relay left locked


@pytest.mark.broker
async def test_the_uplink_stops_although_a_downlink_handler_swallows_its_cancel(
    broker: Mosquitto, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    device = "lane-shutdown-1"
    uplink = Uplink(MqttConfig(host=broker.host, port=broker.port), device, Journal(tmp_path / "j.sqlite3"))
    subscribed = asyncio.Event()

    async def on_connect() -> None:
        subscribed.set()

    handler = Stubborn()

    async def on_roster(payload: bytes) -> None:
        await handler.run()

    uplink.on(Channel.ROSTER, on_roster)
    uplink.on_connect(on_connect)
    running = asyncio.create_task(uplink.run())
    try:
        await asyncio.wait_for(subscribed.wait(), 15)
        async with aiomqtt.Client(broker.host, broker.port, identifier="shutdown-hub") as hub:
            await hub.publish(topic_for(device, Channel.ROSTER), b"{}", qos=1)
        await asyncio.wait_for(handler.started.wait(), 15)
        await stopped_within(running, "Uplink.run")
    finally:
        running.cancel()  # a no-op once it has stopped; else what the test's own teardown needs
    assert handler.cancels == 2
    assert f"task 'uplink {device} receive' still running" in caplog.text
    assert not uplink.connected
