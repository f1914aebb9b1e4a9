"""The live screen's event stream (hub.api.screen_events) on the app with a real broker: a lane's
event stored by the ingest reaches an open stream as ``changed`` within seconds (waited for, not
timed), and the stream is the authorities' only."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiomqtt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from hub.api.auth_middleware import CONSOLE_COOKIE
from hub.api.keys import INGEST
from hub.app import create_app
from hub.auth.principal import Role
from hub.config import HubConfig
from hub.store import Store
from sitegate.mosquitto import Mosquitto
from tests.hub.factories import make_event
from tests.support.accounts import headers_for_new_account
from tests.support.placed import place_lanes
from wire.codec import encode
from wire.topics import Channel, topic_for

pytestmark = pytest.mark.broker

Client = TestClient[web.Request, web.Application]
EVENTS = "/console/screen/events"


def token_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


@pytest.fixture
async def hub(broker: Mosquitto, database_url: str) -> AsyncIterator[tuple[Client, dict[str, str]]]:
    city = token_of(await headers_for_new_account(database_url))
    operator = token_of(await headers_for_new_account(database_url, role=Role.OPERATOR, username="op-test"))
    async with await Store.open(database_url) as store:
        await place_lanes(store)
    config = HubConfig(
        database_url=database_url, mqtt_host=broker.host, mqtt_port=broker.port, batch_window_s=0.005
    )
    app = create_app(config)
    async with TestClient(TestServer(app)) as client:
        async with asyncio.timeout(10):
            await app[INGEST].wait_connected()
        yield client, {"city": city, "operator": operator}


async def next_event(response: object, name: str) -> None:
    """Reads the stream until an ``event: name`` line."""
    content = response.content  # type: ignore[attr-defined]
    while True:
        line = await content.readline()
        assert line, f"the stream ended before event {name!r}"
        if line.decode().strip() == f"event: {name}":
            return


async def test_a_stored_event_reaches_the_open_stream(
    hub: tuple[Client, dict[str, str]], broker: Mosquitto
) -> None:
    client, tokens = hub
    async with client.get(EVENTS, cookies={CONSOLE_COOKIE: tokens["city"]}) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        await next_event(response, "ready")
        async with aiomqtt.Client(broker.host, broker.port, protocol=aiomqtt.ProtocolVersion.V5) as lane:
            await lane.publish(topic_for("lane-t01", Channel.EVENT), encode(make_event(1)), qos=1)
        async with asyncio.timeout(30):  # a bound against a hang, not the assertion: ~1 s is usual
            await next_event(response, "changed")


async def test_the_stream_is_the_authorities_only(hub: tuple[Client, dict[str, str]]) -> None:
    client, tokens = hub
    async with client.get(EVENTS, cookies={CONSOLE_COOKIE: tokens["operator"]}) as response:
        assert response.status == 403


async def test_an_open_stream_ends_when_the_hub_stops(hub: tuple[Client, dict[str, str]]) -> None:
    """aiohttp waits for open handlers when it stops (60 s) and the stream sleeps 25 s between
    keep-alives: without the hub ending it, an open screen held every stop until SIGKILL."""
    client, tokens = hub
    async with client.get(EVENTS, cookies={CONSOLE_COOKIE: tokens["city"]}) as response:
        await next_event(response, "ready")
        stopping = asyncio.create_task(client.server.close())
        async with asyncio.timeout(20):  # a bound against a hang: under the 25 s keep-alive
            rest = await response.content.read()
            await stopping
    assert b"keepalive" not in rest and b"changed" not in rest
