"""The hub's broker link against a real mosquitto: how it stops."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence

import pytest

from hub.mqtt_link import MqttLink, Publisher
from sitegate.mosquitto import Mosquitto
from sitegate.tasks import cancel_until_done
from tests.support.failing_disconnect import make_disconnects_fail

pytestmark = pytest.mark.broker


async def test_one_cancel_stops_the_link_even_when_its_disconnect_fails(
    broker: Mosquitto, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hub stopping as its link fails: aiomqtt's disconnect raises an MqttError in place of the
    cancel, which the reconnect loop would take for a lost link and go round again (the lane's
    uplink did: tests/controller/test_uplink.py)."""

    async def receiver(client: Publisher, batch: Sequence[tuple[str, object]]) -> None:
        del client, batch

    link = MqttLink(
        host=broker.host, port=broker.port, client_id="hub-stop-test", subscriptions=["sitegate/#"],
        receiver=receiver, rng=random.Random(3),
    )  # fmt: skip
    make_disconnects_fail(monkeypatch)
    task = asyncio.create_task(link.run())
    try:
        async with asyncio.timeout(10):
            await link.wait_connected()
        task.cancel()  # once
        done, _ = await asyncio.wait([task], timeout=10)
        assert task in done and task.cancelled(), f"still running, {link.connections} connections"
    finally:
        monkeypatch.undo()  # a loop that took each cancel for a lost link stops at its next link
        await cancel_until_done([task], recancel_s=0.5)
