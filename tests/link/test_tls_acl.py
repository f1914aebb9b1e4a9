"""Invariant 5 on a real mosquitto: the certificate is the identity, and the ACL binds topics to it.

"Nothing arrives" is shown with a sentinel, not a sleep: the forbidden message is sent first and an
allowed one after it on the same path; mosquitto keeps one publisher's messages in order, so when
the sentinel is the first thing to arrive, the forbidden one was never delivered.

A refused client looks like silence (the broker drops it before CONNACK and paho raises nothing),
so refusal is asserted as "did not connect within the timeout".
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiomqtt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from controller.config import MqttConfig
from controller.journal import Journal
from controller.uplink import Uplink
from hub.api.keys import INGEST, STORE
from hub.app import create_app
from hub.config import HubConfig
from hub.events.internal import InternalEventReads
from hub.store import Store
from provisioning.ca import CertificateAuthority
from sitegate.mosquitto import Mosquitto
from tests.controller.test_journal import make_event
from tests.link.conftest import Identity, enrol, hub_identity
from tests.support.placed import place_lanes
from wire.topics import Channel, shared, subscription, topic_for

pytestmark = pytest.mark.broker

REFUSAL_TIMEOUT_S = 1.0
WAIT_S = 5.0
NOT_AUTHORISED = 0x87


def mqtt(broker: Mosquitto, who: Identity, identifier: str | None = None, **kwargs: Any) -> aiomqtt.Client:
    return aiomqtt.Client(
        broker.host,
        broker.port,
        identifier=identifier or who.name,
        protocol=aiomqtt.ProtocolVersion.V5,
        tls_context=who.context(),
        timeout=kwargs.pop("timeout", WAIT_S),
        **kwargs,
    )


async def next_message(client: aiomqtt.Client) -> aiomqtt.Message:
    async with asyncio.timeout(WAIT_S):
        return await anext(client.messages)


def record_pubacks(client: aiomqtt.Client) -> list[Any]:
    """The PUBACK reason codes, which aiomqtt does not surface: wrap paho's callback (third-party
    code that cannot be injected, the one place a patch is the tool)."""
    codes: list[Any] = []
    paho = client._client
    forward = paho.on_publish

    def on_publish(c: Any, userdata: Any, mid: int, reason_code: Any, properties: Any) -> None:
        codes.append(reason_code)
        forward(c, userdata, mid, reason_code, properties)

    paho.on_publish = on_publish
    return codes


async def never_connects(broker: Mosquitto, context: ssl.SSLContext, identifier: str) -> None:
    async def attempt() -> None:
        async with asyncio.timeout(REFUSAL_TIMEOUT_S * 3):
            async with aiomqtt.Client(
                broker.host,
                broker.port,
                identifier=identifier,
                protocol=aiomqtt.ProtocolVersion.V5,
                tls_context=context,
                timeout=REFUSAL_TIMEOUT_S,
            ):
                pytest.fail(f"{identifier} connected")

    with pytest.raises((aiomqtt.MqttError, TimeoutError)):
        await attempt()


async def test_a_device_event_reaches_the_hub_through_its_shared_subscription(
    ca: CertificateAuthority, tls_broker: Mosquitto, tmp_path: Path
) -> None:
    lane, hub = enrol(ca, tmp_path, "lane-a"), hub_identity(ca, tmp_path)
    async with mqtt(tls_broker, hub, "hub-1") as hub_client, mqtt(tls_broker, lane) as lane_client:
        granted = await hub_client.subscribe(shared("sitegate-hub", subscription("up", Channel.EVENT)), qos=1)
        assert not any(code.is_failure for code in granted)
        codes = record_pubacks(lane_client)
        await lane_client.publish(topic_for("lane-a", Channel.EVENT), b"event-1", qos=1)
        message = await next_message(hub_client)
    assert (message.topic.value, message.payload) == ("sitegate/v1/up/lane-a/event", b"event-1")
    assert [code.value for code in codes] == [0]


async def test_a_device_cannot_publish_for_another_device(
    ca: CertificateAuthority, tls_broker: Mosquitto, tmp_path: Path
) -> None:
    lane_a, hub = enrol(ca, tmp_path, "lane-a"), hub_identity(ca, tmp_path)
    enrol(ca, tmp_path, "lane-b")
    async with mqtt(tls_broker, hub, "hub-1") as hub_client, mqtt(tls_broker, lane_a) as lane_client:
        await hub_client.subscribe(subscription("up", Channel.EVENT), qos=1)
        codes = record_pubacks(lane_client)
        await lane_client.publish(topic_for("lane-b", Channel.EVENT), b"forged", qos=1)
        await lane_client.publish(topic_for("lane-a", Channel.EVENT), b"sentinel", qos=1)
        message = await next_message(hub_client)
    assert message.payload == b"sentinel"
    assert [code.value for code in codes] == [NOT_AUTHORISED, 0]
    assert str(codes[0]) == "Not authorized"


async def test_a_device_cannot_write_down_topics(
    ca: CertificateAuthority, tls_broker: Mosquitto, tmp_path: Path
) -> None:
    """No forged roster for another lane, and no forged storage ack for itself."""
    lane_a, lane_b, hub = (
        enrol(ca, tmp_path, "lane-a"),
        enrol(ca, tmp_path, "lane-b"),
        hub_identity(ca, tmp_path),
    )
    async with (
        mqtt(tls_broker, lane_a) as a,
        mqtt(tls_broker, lane_b) as b,
        mqtt(tls_broker, hub, "hub-1") as hub_client,
    ):
        await b.subscribe(subscription("down", Channel.ROSTER, "lane-b"), qos=1)
        await a.subscribe(subscription("down", Channel.ACK, "lane-a"), qos=1)
        codes = record_pubacks(a)
        await a.publish(topic_for("lane-b", Channel.ROSTER), b"forged roster", qos=1)
        await a.publish(topic_for("lane-a", Channel.ACK), b"forged ack", qos=1)
        await hub_client.publish(topic_for("lane-b", Channel.ROSTER), b"roster", qos=1)
        await hub_client.publish(topic_for("lane-a", Channel.ACK), b"ack", qos=1)
        assert (await next_message(b)).payload == b"roster"
        assert (await next_message(a)).payload == b"ack"
    assert [code.value for code in codes] == [NOT_AUTHORISED, NOT_AUTHORISED]


async def test_a_device_reads_only_its_own_topics(
    ca: CertificateAuthority, tls_broker: Mosquitto, tmp_path: Path
) -> None:
    lane_a, lane_b, hub = (
        enrol(ca, tmp_path, "lane-a"),
        enrol(ca, tmp_path, "lane-b"),
        hub_identity(ca, tmp_path),
    )
    async with (
        mqtt(tls_broker, lane_a) as a,
        mqtt(tls_broker, lane_b) as b,
        mqtt(tls_broker, hub, "hub-1") as hub_client,
    ):
        # mosquitto grants these subscriptions and checks read rights per message instead.
        await a.subscribe(subscription("down", Channel.ROSTER, "lane-b"), qos=1)
        await a.subscribe(subscription("down", Channel.ROSTER), qos=1)
        await a.subscribe("sitegate/v1/up/#", qos=1)
        await b.subscribe(subscription("down", Channel.ROSTER, "lane-b"), qos=1)
        await b.publish(topic_for("lane-b", Channel.EVENT), b"b's event", qos=1)
        await hub_client.publish(topic_for("lane-b", Channel.ROSTER), b"b's roster", qos=1)
        await hub_client.publish(topic_for("lane-a", Channel.ROSTER), b"a's roster", qos=1)
        got_b = await next_message(b)
        got_a = await next_message(a)
    assert (got_b.topic.value, got_b.payload) == ("sitegate/v1/down/lane-b/roster", b"b's roster")
    assert (got_a.topic.value, got_a.payload) == ("sitegate/v1/down/lane-a/roster", b"a's roster")


async def test_another_devices_client_id_brings_none_of_its_messages(
    ca: CertificateAuthority, tls_broker: Mosquitto, tmp_path: Path
) -> None:
    """Rights and sessions follow the certificate, not the client id: lane-a presenting "lane-b"
    as its client id gets lane-a's session and reads only lane-a's topics."""
    lane_a, lane_b, hub = (
        enrol(ca, tmp_path, "lane-a"),
        enrol(ca, tmp_path, "lane-b"),
        hub_identity(ca, tmp_path),
    )
    async with mqtt(tls_broker, lane_b, clean_start=False) as b:
        await b.subscribe(subscription("down", Channel.ROSTER, "lane-b"), qos=1)
    async with mqtt(tls_broker, lane_a, "lane-b", clean_start=False) as impostor:
        await impostor.subscribe(subscription("down", Channel.ROSTER, "lane-a"), qos=1)
        async with mqtt(tls_broker, hub, "hub-1") as hub_client:
            await hub_client.publish(topic_for("lane-b", Channel.ROSTER), b"b's roster", qos=1)
            await hub_client.publish(topic_for("lane-a", Channel.ROSTER), b"a's roster", qos=1)
        assert (await next_message(impostor)).payload == b"a's roster"


async def test_a_client_without_a_certificate_never_connects(
    ca: CertificateAuthority, tls_broker: Mosquitto, tmp_path: Path
) -> None:
    context = ssl.create_default_context(cafile=str(ca.cert_path))
    await never_connects(tls_broker, context, "anonymous")


async def test_a_certificate_from_a_foreign_ca_never_connects(
    ca: CertificateAuthority, tls_broker: Mosquitto, tmp_path: Path
) -> None:
    """Same CN as a real lane, signed by someone else: the name alone is worth nothing."""
    foreign = CertificateAuthority.create(tmp_path / "foreign-ca")
    impostor = enrol(foreign, tmp_path / "foreign", "lane-a")
    trusting_our_ca = Identity("lane-a", ca.cert_path, impostor.cert_file, impostor.key_file)
    await never_connects(tls_broker, trusting_our_ca.context(), "lane-a")


async def test_a_revoked_certificate_never_connects_once_the_crl_is_reloaded(
    ca: CertificateAuthority, tls_broker: Mosquitto, tmp_path: Path
) -> None:
    lane = enrol(ca, tmp_path, "lane-a")
    async with mqtt(tls_broker, lane):
        pass
    assert tls_broker.tls is not None and tls_broker.tls.crl_file is not None
    tls_broker.tls.crl_file.write_bytes(ca.make_crl([lane.serial]))
    tls_broker.reload()
    # SIGHUP is handled in mosquitto's next loop turn: a connection racing it may still get in.
    deadline = time.monotonic() + WAIT_S
    while True:
        try:
            async with mqtt(tls_broker, lane, timeout=REFUSAL_TIMEOUT_S):
                pass
        except aiomqtt.MqttError:
            break
        assert time.monotonic() < deadline, "the revoked certificate still connects"
        await asyncio.sleep(0.05)


async def test_a_device_refuses_a_broker_its_ca_did_not_sign(
    ca: CertificateAuthority, tls_broker: Mosquitto, tmp_path: Path
) -> None:
    """The other direction: a lane that trusts only its hub's CA will not talk to a stand-in broker."""
    other_ca = CertificateAuthority.create(tmp_path / "other-ca")
    lane = enrol(ca, tmp_path, "lane-a")
    trusting_other = Identity(lane.name, other_ca.cert_path, lane.cert_file, lane.key_file)
    with pytest.raises(aiomqtt.MqttError, match=r"CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
        async with mqtt(tls_broker, trusting_other):
            pass


async def until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_a_lanes_uplink_drains_into_the_hubs_store_over_tls(
    ca: CertificateAuthority, tls_broker: Mosquitto, tmp_path: Path
) -> None:
    """Controller and hub configured with their certificates: events go up under the lane's own
    topic, the hub stores them, and its storage acks come back down through the ACL."""
    lane, hub = enrol(ca, tmp_path, "lane-a1"), hub_identity(ca, tmp_path)
    journal = Journal(tmp_path / "journal.sqlite3")
    for _ in range(20):
        journal.append(make_event)
    hub_config = HubConfig(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}",
        mqtt_host=tls_broker.host,
        mqtt_port=tls_broker.port,
        batch_window_s=0.005,
        mqtt_ca_file=hub.ca_file,
        mqtt_cert_file=hub.cert_file,
        mqtt_key_file=hub.key_file,
    )
    lane_config = MqttConfig(
        host=tls_broker.host,
        port=tls_broker.port,
        ca_file=lane.ca_file,
        cert_file=lane.cert_file,
        key_file=lane.key_file,
    )
    async with await Store.open(hub_config.database_url) as store:
        await place_lanes(store, [("lane-a1", "P1")], direction="in")
    app = create_app(hub_config)
    async with TestClient[web.Request, web.Application](TestServer(app)):
        async with asyncio.timeout(WAIT_S):
            await app[INGEST].wait_connected()
        uplink = Uplink(lane_config, "lane-a1", journal)
        task = asyncio.create_task(uplink.run())
        try:
            await until(lambda: journal.backlog() == 0)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        sequences = await InternalEventReads(app[STORE]).sequences()
        counters = app[INGEST].counters
    assert [(s.device_id, s.contiguous_through) for s in sequences] == [("lane-a1", 20)]
    assert counters.rejected == 0
    assert uplink.connections == 1


async def test_a_device_cannot_knock_another_off_with_its_client_id(
    ca: CertificateAuthority, tls_broker: Mosquitto, tmp_path: Path
) -> None:
    """With use_username_as_clientid the impostor's session is its own: lane-b stays connected."""
    lane_a, lane_b, hub = (
        enrol(ca, tmp_path, "lane-a"),
        enrol(ca, tmp_path, "lane-b"),
        hub_identity(ca, tmp_path),
    )
    async with mqtt(tls_broker, lane_b) as b:
        await b.subscribe(subscription("down", Channel.ROSTER, "lane-b"), qos=1)
        async with mqtt(tls_broker, lane_a, "lane-b"), mqtt(tls_broker, hub, "hub-1") as hub_client:
            await hub_client.publish(topic_for("lane-b", Channel.ROSTER), b"still yours", qos=1)
            assert (await next_message(b)).payload == b"still yours"
