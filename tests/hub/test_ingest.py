"""The hub against a real mosquitto: devices publish with aiomqtt, results are read over HTTP."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import aiomqtt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from hub import ingest as ingest_module
from hub.api.keys import INGEST
from hub.app import create_app
from hub.config import HubConfig
from hub.events.internal import InternalEventReads
from hub.ingest import Ingest
from hub.store import Store
from sitegate.mosquitto import Mosquitto
from sitegate.netutil import spawn, stop_group
from tests.hub.factories import BASE_TIME, eventually, make_event, make_lane_event
from tests.support.accounts import headers_for_new_account
from tests.support.placed import place_lanes
from wire.codec import decode, encode
from wire.models import Heartbeat, LaneEventType, PresenceState, PresenceStatus, ReaderState, StorageAck
from wire.topics import Channel, topic_for

pytestmark = pytest.mark.broker

Client = TestClient[web.Request, web.Application]
DEVICE = "lane-t01"
CONNECT_TIMEOUT_S = 5


@pytest.fixture
async def hub(broker: Mosquitto, database_url: str) -> AsyncIterator[Client]:
    headers = await headers_for_new_account(database_url)  # a city account: sees everything
    async with await Store.open(database_url) as store:
        await place_lanes(store)
    config = HubConfig(
        database_url=database_url, mqtt_host=broker.host, mqtt_port=broker.port, batch_window_s=0.005
    )
    app = create_app(config)
    async with TestClient(TestServer(app), headers=headers) as client:
        async with asyncio.timeout(CONNECT_TIMEOUT_S):
            await app[INGEST].wait_connected()
        yield client


@asynccontextmanager
async def device(broker: Mosquitto, device_id: str = DEVICE) -> AsyncIterator[aiomqtt.Client]:
    async with aiomqtt.Client(
        broker.host, broker.port, identifier=f"test-{device_id}", protocol=aiomqtt.ProtocolVersion.V5
    ) as client:
        yield client


async def publish(client: aiomqtt.Client, payload: bytes, *, device_id: str = DEVICE) -> None:
    await client.publish(topic_for(device_id, Channel.EVENT), payload, qos=1)


async def events_seqs(hub: Client) -> list[int]:
    response = await hub.get("/api/v1/access-events", params={"limit": "500"})
    body = await response.json()
    return sorted(item["seq"] for item in body["items"])


def ingest_of(hub: Client) -> Ingest:
    return hub.app[INGEST]


async def test_published_events_are_readable_from_the_api(broker: Mosquitto, hub: Client) -> None:
    async with device(broker) as lane:
        for seq in range(1, 4):
            await publish(lane, encode(make_event(seq)))

    async def three() -> list[int] | None:
        seqs = await events_seqs(hub)
        return seqs if len(seqs) == 3 else None

    assert await eventually(three) == [1, 2, 3]
    health = await hub.get("/healthz")
    assert health.status == 200
    body = await health.json()
    assert (body["status"], body["database"], body["mqtt"]) == ("ok", "ok", "connected")
    assert body["last_store"]["result"] == "ok" and body["last_store"]["age_s"] >= 0


async def test_the_same_event_published_twice_is_stored_once(broker: Mosquitto, hub: Client) -> None:
    async with device(broker) as lane:
        await publish(lane, encode(make_event(1)))
        await publish(lane, encode(make_event(1)))

        async def second_seen() -> bool:  # a duplicate, or dropped while the first waited
            counters = ingest_of(hub).counters
            return counters.accepted == 1 and counters.duplicates + counters.resent_while_waiting == 1

        await eventually(second_seen)
    assert await events_seqs(hub) == [1]
    assert ingest_of(hub).counters.accepted == 1


async def _counter(hub: Client, name: str, at_least: int) -> bool:
    return bool(getattr(ingest_of(hub).counters, name) >= at_least)


async def test_bad_messages_are_dead_lettered_and_ingest_goes_on(broker: Mosquitto, hub: Client) -> None:
    missing_field = json.loads(encode(make_event(1)))
    del missing_field["credential_hash"]
    async with device(broker) as lane:
        await publish(lane, b"{definitely not json")
        await publish(lane, json.dumps(missing_field).encode())
        await publish(lane, encode(make_event(1, device_id="lane-other")))  # not the topic's device
        await publish(lane, encode(make_event(1)))

        async def stored() -> list[int] | None:
            return await events_seqs(hub) or None

        assert await eventually(stored) == [1]

    assert ingest_of(hub).counters.rejected == 3
    response = await hub.get("/api/v1/dead-letters")
    letters = (await response.json())["items"]
    reasons = sorted(letter["reason"] for letter in letters)
    assert len(reasons) == 3
    assert any("Invalid JSON" in r for r in reasons)
    assert any("credential_hash" in r for r in reasons)
    assert any("differs from the device in the topic" in r for r in reasons)
    assert {letter["topic"] for letter in letters} == {topic_for(DEVICE, Channel.EVENT)}


async def test_the_hub_acknowledges_the_contiguous_watermark(broker: Mosquitto, hub: Client) -> None:
    async with device(broker) as lane:
        await lane.subscribe(topic_for(DEVICE, Channel.ACK), qos=1)
        acks: list[int] = []

        async def collect() -> None:
            async for message in lane.messages:
                assert isinstance(message.payload, bytes)
                ack = decode(Channel.ACK, message.payload)
                assert isinstance(ack, StorageAck)
                assert ack.device_id == DEVICE
                acks.append(ack.through_seq)

        collector = asyncio.create_task(collect())
        try:
            for seq in (1, 2, 3, 5):
                await publish(lane, encode(make_event(seq)))

            async def acked_through_3_and_5_stored() -> bool:
                return 3 in acks and await _stored_count(hub, 4)

            await eventually(acked_through_3_and_5_stored)
            assert max(acks) == 3  # seq 4 is missing: 5 may not be acknowledged yet
            await publish(lane, encode(make_event(4)))

            async def acked_through_5() -> bool:
                return 5 in acks

            await eventually(acked_through_5)
        finally:
            collector.cancel()


async def _stored_count(hub: Client, count: int) -> bool:
    return len(await events_seqs(hub)) == count


async def test_lane_events_are_stored_and_count_towards_the_ack(broker: Mosquitto, hub: Client) -> None:
    async with device(broker) as lane:
        await lane.subscribe(topic_for(DEVICE, Channel.ACK), qos=1)
        acks: list[int] = []

        async def collect() -> None:
            async for message in lane.messages:
                assert isinstance(message.payload, bytes)
                ack = decode(Channel.ACK, message.payload)
                assert isinstance(ack, StorageAck)
                acks.append(ack.through_seq)

        collector = asyncio.create_task(collect())
        try:
            await publish(lane, encode(make_event(1)))
            await publish(lane, encode(make_lane_event(2, LaneEventType.PASSAGE_CONFIRMED)))
            await publish(lane, encode(make_lane_event(3, LaneEventType.FIRE_ALARM)))

            async def acked_through_3() -> bool:
                return 3 in acks

            await eventually(acked_through_3)
        finally:
            collector.cancel()
    body = await (await hub.get("/api/v1/lane-events")).json()
    assert [(item["seq"], item["type"]) for item in body["items"]] == [
        (3, "fire_alarm"),
        (2, "passage_confirmed"),
    ]
    assert await events_seqs(hub) == [1]
    counters = ingest_of(hub).counters
    assert (counters.accepted, counters.lane_events) == (3, 2)


async def test_a_malformed_lane_event_is_dead_lettered(broker: Mosquitto, hub: Client) -> None:
    bad = json.loads(encode(make_lane_event(1, LaneEventType.TAMPER)))
    bad["type"] = "exploded"
    async with device(broker) as lane:
        await publish(lane, json.dumps(bad).encode())

        async def dead_letters() -> list[dict[str, Any]] | None:
            # Not the "rejected" counter: it is counted before the letter's write commits.
            return (await (await hub.get("/api/v1/dead-letters")).json())["items"] or None

        [letter] = await eventually(dead_letters)
    assert ingest_of(hub).counters.rejected == 1
    assert "lane_event.type" in letter["reason"]
    assert letter["topic"] == topic_for(DEVICE, Channel.EVENT)
    body = await (await hub.get("/api/v1/lane-events")).json()
    assert body["items"] == []


def _heartbeat() -> Heartbeat:
    return Heartbeat(
        device_id=DEVICE,
        sent_at=BASE_TIME,
        boot_id="boot-0001",
        uptime_s=5,
        free_disk_mb=1000,
        journal_backlog=0,
        roster_version=1,
        reader_status={"id": ReaderState.OK},
        clock_synced=True,
        software_version="0.1.0",
    )


async def _with_status(hub: Client) -> dict[str, Any] | None:
    """The one lane on the device board once its presence and a heartbeat are recorded."""
    body = await (await hub.get("/api/v1/devices")).json()
    found = body["devices"]
    return found[0] if found and found[0]["presence"] and found[0]["last_heartbeat"] else None


async def test_heartbeat_and_presence_reach_the_devices_endpoint(broker: Mosquitto, hub: Client) -> None:
    presence = PresenceStatus(device_id=DEVICE, state=PresenceState.ONLINE, generation=2, at=BASE_TIME)
    async with device(broker) as lane:
        await lane.publish(topic_for(DEVICE, Channel.HEARTBEAT), encode(_heartbeat()), qos=1)
        await lane.publish(topic_for(DEVICE, Channel.PRESENCE), encode(presence), qos=1, retain=True)
    found = await eventually(lambda: _with_status(hub))
    assert (found["presence"], found["presence_generation"]) == ("online", 2)
    assert found["last_heartbeat"]["software_version"] == "0.1.0"


async def test_heartbeats_and_presence_are_not_held_behind_events(
    broker: Mosquitto, hub: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Issue 16: a hub minutes behind on events showed live lanes offline, their heartbeats and
    # presence queued behind the events. Here the events' store write does not end until released.
    release = asyncio.Event()
    entered = asyncio.Event()
    store_for_real = ingest_module.store_events

    async def held(*args: Any, **kwargs: Any) -> Any:
        entered.set()
        await release.wait()
        return await store_for_real(*args, **kwargs)

    monkeypatch.setattr(ingest_module, "store_events", held)
    presence = PresenceStatus(device_id=DEVICE, state=PresenceState.ONLINE, generation=3, at=BASE_TIME)
    async with device(broker) as lane:
        await publish(lane, encode(make_event(1)))
        async with asyncio.timeout(10):
            await entered.wait()  # the events' batch is in its store write, held
        for seq in range(2, 42):  # and more events queue behind it
            await publish(lane, encode(make_event(seq)))
        await lane.publish(topic_for(DEVICE, Channel.HEARTBEAT), encode(_heartbeat()), qos=1)
        await lane.publish(topic_for(DEVICE, Channel.PRESENCE), encode(presence), qos=1, retain=True)
        found = await eventually(lambda: _with_status(hub))
        assert (found["presence"], found["presence_generation"]) == ("online", 3)
        assert ingest_of(hub).counters.accepted == 0  # the events are still held
        release.set()
        assert await eventually(lambda: _stored_count(hub, 41))


async def test_ingest_reconnects_after_the_broker_restarts(broker: Mosquitto, hub: Client) -> None:
    ingest = ingest_of(hub)
    await asyncio.to_thread(broker.restart)

    async def reconnected() -> bool:
        return ingest.counters.connections >= 2 and ingest.connected

    await eventually(reconnected)
    async with device(broker) as lane:
        await publish(lane, encode(make_event(1)))
    assert await eventually(lambda: _stored_count(hub, 1))


async def test_two_instances_split_one_stream_and_store_each_event_once(
    broker: Mosquitto, database_url: str
) -> None:
    async with await Store.open(database_url) as store:
        await place_lanes(store)
        instances = [
            Ingest(
                store,
                host=broker.host,
                port=broker.port,
                client_id=f"hub-{n}",
                share_group="g",
                batch_window=0,
            )
            for n in range(2)
        ]
        async with instances[0], instances[1]:
            async with asyncio.timeout(CONNECT_TIMEOUT_S):
                for instance in instances:
                    await instance.wait_connected()
            async with device(broker) as lane:
                for seq in range(1, 41):
                    await publish(lane, encode(make_event(seq)))

            async def all_stored() -> bool:
                return sum(i.counters.accepted for i in instances) == 40

            await eventually(all_stored)
        assert all(i.counters.accepted > 0 for i in instances)  # mosquitto round-robins the share
        assert len((await InternalEventReads(store).access_events(limit=100)).items) == 40
        [state] = await InternalEventReads(store).sequences()
        assert state.contiguous_through == 40


async def test_the_cli_serves_until_sigterm(broker: Mosquitto, tmp_path: Path) -> None:
    command = [sys.executable, "-m", "hub", "--http-port", "0", "--mqtt-port", str(broker.port)]
    command += ["--database-url", "sqlite+aiosqlite:///var/hub.db", "--log-level", "WARNING"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    # A process group of its own, stopped whole however the test ends (not just its leader killed).
    proc = spawn(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), 15)).decode()
        assert line.startswith("hub listening on http://127.0.0.1:")
        url = line.split()[-1]
        async with aiohttp.ClientSession() as session:

            async def healthy() -> bool:
                async with session.get(f"{url}/healthz") as response:
                    return response.status == 200

            await eventually(healthy)
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(proc.wait, 10) == 0
        assert (tmp_path / "var" / "hub.db").exists()  # relative to the cwd it was started in
    finally:
        await asyncio.to_thread(stop_group, proc)
