"""Down to the lanes: publishing over the hub's one broker link (:mod:`hub.mqtt_link`).

Everything the hub sends a lane goes through here: rosters (the roster publisher, through
:class:`hub.lane_sender.LaneSender`), the site's passages (the site relay, the same way), commands
(the command desk) publish on ``sitegate/v1/down/<device>/<channel>``. Storage acks are the
ingest's, sent on the client of the batch they answer (:mod:`hub.ingest`).
"""

from __future__ import annotations

import aiomqtt

from hub.errors import BrokerUnavailable
from hub.mqtt_link import MqttLink


class Downlink:
    def __init__(self, link: MqttLink) -> None:
        self._link = link

    async def publish(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False) -> None:
        """Publish down to a device over the link. Raises :class:`BrokerUnavailable` while the
        link is down, or when the publish fails."""
        client = self._link.client
        if client is None:
            raise BrokerUnavailable("the hub is not connected to the broker")
        try:
            await client.publish(topic, payload, qos=qos, retain=retain)
        except aiomqtt.MqttError as err:
            raise BrokerUnavailable(f"publish failed: {err}") from err
