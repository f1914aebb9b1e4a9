"""sitegate.mqtt_client: what aiomqtt leaves to its callers, done for the lane's and the hub's links."""

from __future__ import annotations

import gc
import logging

import aiomqtt
import pytest

from sitegate.mqtt_client import read_lost_connection


@pytest.mark.parametrize("read", [True, False])
async def test_a_lost_connections_error_is_read_not_left_for_the_collector(
    read: bool, caplog: pytest.LogCaptureFixture
) -> None:
    """aiomqtt leaves the broker's going away in the client's ``_disconnected`` future, unread by its
    ``__aexit__``: every broker restart printed "Future exception was never retrieved" per lane."""
    client = aiomqtt.Client("127.0.0.1", 1)
    client._disconnected.set_exception(aiomqtt.MqttCodeError(128, "Unexpected disconnection"))
    if read:
        read_lost_connection(client)
    with caplog.at_level(logging.ERROR, logger="asyncio"):
        del client
        gc.collect()
    unread = [r for r in caplog.records if "never retrieved" in r.getMessage()]
    assert len(unread) == (0 if read else 1)  # the False case proves the check can see it
