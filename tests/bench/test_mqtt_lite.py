"""bench/_mqtt_lite.py: the city bench's lighter aiomqtt client still puts every packet on the wire
(writes without aiomqtt's per-publish writer registration, one that blocks included), completes a window of QoS 1 publishes on their PUBACKs, and checks keep-alive often
enough for the broker's allowance."""

from __future__ import annotations

import asyncio

import aiomqtt
import pytest

from bench._mqtt_lite import LiteClient, misc_every_s
from sitegate.mosquitto import Mosquitto

pytestmark = pytest.mark.broker


def test_the_keepalive_check_pings_before_the_broker_gives_up() -> None:
    for keepalive in (4, 10, 20, 60):
        every = misc_every_s(keepalive)
        assert every >= 1.0  # never more often than aiomqtt
        assert keepalive + every < 1.5 * keepalive  # paho's PINGREQ, at the latest, vs the broker's limit


async def test_a_window_and_a_qos0_publish_arrive_in_order(shared_broker: Mosquitto) -> None:
    topic = "test/mqtt-lite/window"
    async with aiomqtt.Client(shared_broker.host, shared_broker.port, identifier="mqtt-lite-sub") as sub:
        await sub.subscribe(topic, qos=1)
        async with LiteClient(
            shared_broker.host,
            shared_broker.port,
            identifier="mqtt-lite-pub",
            protocol=aiomqtt.ProtocolVersion.V5,
            keepalive=20,
            timeout=10,
        ) as lite:
            # 16 MiB, more than loopback takes at once (tcp_wmem's 4 MiB): the write blocks and goes
            # on when the socket is writable. Its PUBACK says the broker read all of it; to a topic
            # nobody reads, so that no client of this test parses it.
            await lite.publish_window("test/mqtt-lite/unread", [bytes(16 << 20)])
            assert lite.publish_nowait(topic, b"zero", qos=0) is None
            await lite.publish_window(topic, [b"one", b"two", b"three"])
            assert not lite._acks  # every PUBACK consumed its future

        async def first(n: int) -> list[bytes]:
            got: list[bytes] = []
            async for message in sub.messages:
                assert isinstance(message.payload, bytes)
                got.append(message.payload)
                if len(got) == n:
                    break
            return got

        assert await asyncio.wait_for(first(4), 10) == [b"zero", b"one", b"two", b"three"]
