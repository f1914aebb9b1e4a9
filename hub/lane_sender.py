"""Sending to a lane's down topics: what the roster publisher and the site relay share.

Both publish QoS 1 on ``sitegate/v1/down/<device>/<channel>`` through the hub's one broker link,
keep a bounded number of publishes in flight, and take the link being down (the hub's own link:
the lanes are still connected and will not ask) as an answer, not an error: :meth:`LaneSender.send`
says False and logs why, and the caller decides when to try again, by its own rule. The roster
publisher asks for the lane's send again, paced (:mod:`hub.rosters.publisher`); the site relay
keeps the passages for its next round of syncs (:mod:`hub.site.relay`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Protocol

import aiomqtt

from hub.errors import BrokerUnavailable
from wire.topics import Channel, topic_for

log = logging.getLogger(__name__)


class Sender(Protocol):
    """The part of an MQTT client a lane sender needs (``aiomqtt.Client`` and the hub's
    :class:`hub.downlink.Downlink` are ones)."""

    async def publish(self, topic: str, payload: bytes, qos: int = 0, retain: bool = False) -> None: ...


class LaneSender:
    def __init__(self, sender: Sender, *, in_flight: int | None = None) -> None:
        """``in_flight``: most publishes under way at once through this sender (None: no limit)."""
        self.sender = sender
        self._in_flight = asyncio.Semaphore(in_flight) if in_flight is not None else None

    async def send(
        self, device_id: str, channel: Channel, payload: bytes, *, what: str, retain: bool = False
    ) -> bool:
        """Publish ``payload`` (called ``what`` in the log) to the lane; False when the broker did
        not take it."""
        topic = topic_for(device_id, channel)
        try:
            async with self._in_flight or contextlib.nullcontext():
                await self.sender.publish(topic, payload, qos=1, retain=retain)
        except (aiomqtt.MqttError, BrokerUnavailable) as err:
            log.warning("%s to %s not sent (%s); sent again later", what, device_id, err)
            return False
        return True

    async def send_all(
        self, device_id: str, channel: Channel, payloads: Sequence[bytes], *, what: str, window: int
    ) -> bool:
        """Each of ``payloads``, started in order with at most ``window`` of them in flight (a
        sliding window: waiting for a whole batch to be acknowledged before the next stalls on
        TCP's delayed ACK); False when the broker did not take one of them."""
        limit = asyncio.Semaphore(window)

        async def one(payload: bytes) -> bool:
            async with limit:
                return await self.send(device_id, channel, payload, what=what)

        return all(await asyncio.gather(*(one(payload) for payload in payloads)))
