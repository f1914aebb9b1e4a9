"""The lane sender shared by the roster publisher and the site relay: QoS 1 on the lane's own down
topic, a broker that does not take a publish answered False (never raised), windows kept."""

from __future__ import annotations

import asyncio

import aiomqtt
import pytest

from hub.errors import BrokerUnavailable
from hub.lane_sender import LaneSender
from wire.topics import Channel


class Broker:
    """Takes publishes after a pause, refusing those whose payload is in ``refuse``."""

    def __init__(self, refuse: set[bytes] | None = None, error: Exception | None = None) -> None:
        self.refuse = refuse or set()
        self.error = error or BrokerUnavailable("the hub is not connected to the broker")
        self.taken: list[tuple[str, bytes, int, bool]] = []
        self.in_flight = 0
        self.most_in_flight = 0

    async def publish(self, topic: str, payload: bytes, qos: int = 0, retain: bool = False) -> None:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0.001)
            if payload in self.refuse:
                raise self.error
            self.taken.append((topic, payload, qos, retain))
        finally:
            self.in_flight -= 1


async def test_a_send_goes_at_qos_1_to_the_lane_s_own_topic() -> None:
    broker = Broker()
    lanes = LaneSender(broker)
    assert await lanes.send("lane-a1", Channel.ROSTER, b"m", what="roster v1", retain=True)
    assert broker.taken == [("sitegate/v1/down/lane-a1/roster", b"m", 1, True)]


@pytest.mark.parametrize("error", [BrokerUnavailable("down"), aiomqtt.MqttError("gone")])
async def test_a_publish_the_broker_does_not_take_is_false_and_logged(
    error: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    lanes = LaneSender(Broker(refuse={b"x"}, error=error))
    assert not await lanes.send("lane-a1", Channel.SITE, b"x", what="site_sync")
    assert "site_sync to lane-a1 not sent" in caplog.text


async def test_send_all_keeps_its_window_and_says_whether_all_were_taken() -> None:
    broker = Broker()
    lanes = LaneSender(broker)
    payloads = [bytes([n]) for n in range(40)]
    assert await lanes.send_all("lane-a1", Channel.ROSTER, payloads, what="chunk", window=8)
    assert [payload for _, payload, _, _ in broker.taken] == payloads  # started in order
    assert broker.most_in_flight == 8
    broker.refuse = {payloads[17]}
    assert not await lanes.send_all("lane-a1", Channel.ROSTER, payloads, what="chunk", window=8)


async def test_in_flight_bounds_every_send_through_one_sender() -> None:
    broker = Broker()
    lanes = LaneSender(broker, in_flight=3)
    await asyncio.gather(*(lanes.send(f"lane-a{n}", Channel.SITE, b"s", what="sync") for n in range(20)))
    assert len(broker.taken) == 20 and broker.most_in_flight == 3
