"""Revocation enforced end to end (issue 13, item 2), against a real TLS mosquitto and the hub.

A lane enrolled through the API, with its real certificate, connects and publishes; it is then
revoked through the API (or its gate deleted). What must hold:

- its new events are neither stored nor acknowledged: the broker's ACL, reloaded, stops what its
  still-open session publishes, and the hub refuses the device itself when the broker was not told;
- it cannot connect again (the CRL, reloaded);
- the endpoint answers 200 only when the broker was told; a broker that cannot be told gives a
  503 ``broker_not_told``, and the revocation holds all the same;
- a new enrolment lets the device back in.

What mosquitto 2.0 does not do: close the revoked lane's open session. It stays connected until
its next reconnect, unable to publish to the hub or to receive anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiomqtt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from controller.tls import tls_context
from hub.api.enrolment import EnrolmentDesk, configure, registrar_from_config
from hub.api.keys import INGEST, STORE
from hub.app import create_app
from hub.auth.principal import Role
from hub.config import HubConfig
from hub.ingest import Ingest
from hub.store import Store
from hub.store.schema import access_events, audit_log, devices
from provisioning.ca import (
    HUB_IDENTITY,
    CertificateAuthority,
    generate_key,
    make_csr,
    write_key,
    write_public,
)
from sitegate.mosquitto import Mosquitto
from tests.hub.factories import make_event
from tests.hub.test_batches import RecordingPublisher
from tests.provisioning.registry import SITE_KEYS, seed_registry
from tests.security.test_api_attacks import make_heartbeat
from tests.support import certificate_probe
from tests.support.accounts import bearer, create_account
from wire.codec import encode
from wire.models import PresenceState, PresenceStatus, utc_now
from wire.topics import Channel, topic_for

pytestmark = [pytest.mark.broker]

DEVICE = "lane-hz0042-a1"
PROJECT = "P-0042"
WAIT_S = 15.0
QUIET_S = 1.5
"""How long a refused event is given to (wrongly) arrive, be stored or be acknowledged."""

Client = TestClient[web.Request, web.Application]


@dataclass
class Lane:
    """A lane's certificate files, as enrolment gave them."""

    ca_file: Path
    cert_file: Path
    key_file: Path


@dataclass
class Site:
    client: Client
    broker: Mosquitto
    tmp: Path

    @property
    def store(self) -> Store:
        return self.client.app[STORE]

    async def enrol(self, name: str) -> Lane:
        """A token from the project's GC account, a CSR with a fresh key, the signed certificate."""
        headers = await bearer(self.client, "gc-0042")
        response = await self.client.post(
            "/api/v1/enrolment-tokens", json={"device_id": DEVICE}, headers=headers
        )
        assert response.status == 201, await response.text()
        token = (await response.json())["token"]
        key_pem = generate_key()
        csr = make_csr(DEVICE, key_pem).decode()
        response = await self.client.post("/api/v1/enrolments", json={"token": token, "csr": csr})
        bundle = await response.json()
        assert response.status == 201, bundle
        home = self.tmp / name
        home.mkdir()
        write_key(home / "device.key", key_pem)
        write_public(home / "device.crt", bundle["certificate"].encode())
        write_public(home / "ca.crt", bundle["ca_certificate"].encode())
        return Lane(home / "ca.crt", home / "device.crt", home / "device.key")

    def connect(self, lane: Lane) -> aiomqtt.Client:
        return aiomqtt.Client(
            self.broker.host,
            self.broker.port,
            identifier=DEVICE,
            tls_context=tls_context(lane.ca_file, lane.cert_file, lane.key_file),
            tls_insecure=False,
            timeout=3,
        )

    async def revoke(self) -> tuple[int, dict[str, Any]]:
        response = await self.client.post(
            f"/api/v1/devices/{DEVICE}/revocation", json={}, headers=await bearer(self.client, "ops")
        )
        return response.status, await response.json()

    async def stored_seqs(self) -> list[int]:
        async with self.store.read("test") as conn:
            query = select(access_events.c.seq).where(access_events.c.device_id == DEVICE)
            return sorted((await conn.scalars(query)).all())


async def _site(
    tmp_path: Path, database_url: str, pid_file: Callable[[Mosquitto], Path]
) -> AsyncIterator[Site]:
    ca = CertificateAuthority.create(tmp_path / "state" / "ca")
    hub_tls = tmp_path / "hub-tls"
    hub_tls.mkdir()
    cert_pem, key_pem = ca.issue_hub_identity(HUB_IDENTITY)
    write_key(hub_tls / "hub.key", key_pem)
    write_public(hub_tls / "hub.crt", cert_pem)
    write_public(hub_tls / "ca.crt", ca.cert_pem)
    with Mosquitto.with_tls(ca, revoked_serials=[]) as broker:
        assert broker.tls is not None
        config = HubConfig(
            database_url=database_url,
            mqtt_host=broker.host,
            mqtt_port=broker.port,
            mqtt_ca_file=hub_tls / "ca.crt",
            mqtt_cert_file=hub_tls / "hub.crt",
            mqtt_key_file=hub_tls / "hub.key",
            roster_signing_key_file=tmp_path / "roster.key",
            data_key_file=tmp_path / "data.key",
            batch_window_s=0.005,
            # The broker's files where it reads them, and the way the hub reloads it: the demo's.
            broker_files_dir=broker.tls.acl_file.parent,
            broker_pid_file=pid_file(broker),
        )
        app = create_app(config)

        async def site_key(project_id: str) -> bytes:
            return SITE_KEYS[project_id]

        configure(app, EnrolmentDesk(registrar_from_config(config, tmp_path / "state" / "ca"), site_key))
        async with TestClient(TestServer(app)) as client:
            store = client.app[STORE]
            await seed_registry(store)
            await create_account(
                store, role=Role.GC_PROJECT, username="gc-0042", enterprise_id="ent-gc", project_id=PROJECT
            )
            await create_account(store, role=Role.OPERATOR, username="ops")
            async with asyncio.timeout(WAIT_S):
                await client.app[INGEST].wait_connected()
            yield Site(client, broker, tmp_path)


@pytest.fixture
async def site(tmp_path: Path, database_url: str) -> AsyncIterator[Site]:
    async for made in _site(tmp_path, database_url, lambda broker: broker.pid_file):
        yield made


@pytest.fixture
async def untold_site(tmp_path: Path, database_url: str) -> AsyncIterator[Site]:
    """A hub whose broker cannot be told: its pid file names no broker."""
    async for made in _site(tmp_path, database_url, lambda _: tmp_path / "no-broker.pid"):
        yield made


async def until(predicate: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not predicate():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.05)


def event(seq: int) -> bytes:
    return encode(make_event(seq, device_id=DEVICE, project_id=PROJECT, wall_time=utc_now(), granted=False))


async def publish_and_collect_acks(
    mqtt: aiomqtt.Client, seqs: list[int], *, until_through: int | None = None
) -> list[int]:
    """Publish the events, then the ``through_seq`` of every ack that arrives: until one
    acknowledges ``until_through`` (at most ``WAIT_S``), or for ``QUIET_S`` when none should."""
    acks: list[int] = []
    done = asyncio.Event()

    async def collect() -> None:
        async for message in mqtt.messages:
            assert isinstance(message.payload, bytes)
            acks.append(int(message.payload.split(b'"through_seq":')[1].split(b",")[0]))
            if until_through is not None and acks[-1] >= until_through:
                done.set()

    collector = asyncio.create_task(collect())
    try:
        for seq in seqs:
            await mqtt.publish(topic_for(DEVICE, Channel.EVENT), event(seq), qos=1)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), WAIT_S if until_through is not None else QUIET_S)
    finally:
        collector.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await collector
    return acks


async def connects(site: Site, lane: Lane) -> bool:
    """Whether the broker lets the certificate in (a refused one is dropped before CONNACK)."""
    context = tls_context(lane.ca_file, lane.cert_file, lane.key_file)
    return await certificate_probe.connects(
        site.broker.host, site.broker.port, context, DEVICE, within_s=WAIT_S
    )


@pytest.mark.serial
async def test_a_revoked_lane_is_silenced_refused_at_reconnect_and_let_back_in_by_a_new_enrolment(
    site: Site,
) -> None:
    lane = await site.enrol("first")
    async with site.connect(lane) as mqtt:
        await mqtt.subscribe(topic_for(DEVICE, Channel.ACK), qos=1)
        assert await publish_and_collect_acks(mqtt, [1], until_through=1) == [1]
        assert await site.stored_seqs() == [1]

        status, body = await site.revoke()
        assert status == 200, body
        assert body["hub_refuses"] is True
        assert body["broker"] == "CRL and ACL written and the broker reloaded"
        await asyncio.sleep(0.3)  # SIGHUP is asynchronous: mosquitto rereads its files in its loop

        # (a) the session still open publishes: nothing stored, nothing acknowledged. The broker's
        # reloaded ACL stopped it: the hub never even received it.
        assert await publish_and_collect_acks(mqtt, [2]) == []
        assert await site.stored_seqs() == [1]
        assert site.client.app[INGEST].counters.revoked == 0

        # The device list says revoked while the broker still holds the session open (its presence
        # reads online): an operator must not take it for a working lane.
        listed = await site.client.get("/api/v1/devices", headers=await bearer(site.client, "ops"))
        (record,) = [d for d in (await listed.json())["devices"] if d["device_id"] == DEVICE]
        assert record["status"] == "revoked" and record["revoked_at"] is not None

    # (b) the CRL refuses the certificate's next connection.
    assert not await connects(site, lane)

    # A new enrolment lets the device back in: the lane resends what was never acknowledged.
    renewed = await site.enrol("second")
    await asyncio.sleep(0.3)
    async with site.connect(renewed) as mqtt:
        await mqtt.subscribe(topic_for(DEVICE, Channel.ACK), qos=1)
        assert 3 in await publish_and_collect_acks(mqtt, [2, 3], until_through=3)
    assert await site.stored_seqs() == [1, 2, 3]
    async with site.store.read("test") as conn:
        revoked_at = await conn.scalar(select(devices.c.revoked_at).where(devices.c.device_id == DEVICE))
    assert revoked_at is None


async def test_a_broker_that_cannot_be_told_is_an_error_and_the_hub_refuses_the_lane_itself(
    untold_site: Site,
) -> None:
    site = untold_site
    lane = await site.enrol("first")
    async with site.connect(lane) as mqtt:
        await mqtt.subscribe(topic_for(DEVICE, Channel.ACK), qos=1)
        assert await publish_and_collect_acks(mqtt, [1], until_through=1) == [1]

        status, body = await site.revoke()
        assert status == 503, body
        assert body["error"]["code"] == "broker_not_told"
        message = body["error"]["message"]
        assert message.startswith("设备已吊销，中心已拒收其数据，但未能通知消息服务器")
        assert "no-broker.pid" in message  # names what failed
        assert body["hub_refuses"] is True
        assert len(body["revoked_serials"]) == 1

        # The broker was never reloaded, so the ACL in its memory still lets the lane publish:
        # the hub itself refuses it, stores nothing and acknowledges nothing.
        ingest = site.client.app[INGEST]
        assert await publish_and_collect_acks(mqtt, [2]) == []
        await mqtt.publish(
            topic_for(DEVICE, Channel.HEARTBEAT), encode(make_heartbeat(device_id=DEVICE)), qos=1
        )
        await until(lambda: ingest.counters.revoked >= 2, "the hub never refused the revoked lane")
    assert await site.stored_seqs() == [1]
    assert ingest.counters.heartbeats == 0
    async with site.store.read("test") as conn:
        audited = await conn.scalar(
            select(func.count()).select_from(audit_log).where(audit_log.c.action == "device.revoke")
        )
    assert audited == 1  # the revocation holds: it is not rolled back because the broker was not told
    response = await site.client.post(
        f"/api/v1/devices/{DEVICE}/commands",
        json={"action": "reboot", "wait_s": 0},
        headers=await bearer(site.client, "ops"),
    )
    body = await response.json()
    assert (response.status, body["error"]["code"]) == (409, "device_revoked")  # and it is sent no command


@pytest.mark.serial
async def test_deleting_a_gate_revokes_its_lane(site: Site) -> None:
    lane = await site.enrol("first")
    assert await connects(site, lane)  # the control: before the gate goes, the certificate is let in
    async with site.connect(lane) as mqtt:
        await mqtt.subscribe(topic_for(DEVICE, Channel.ACK), qos=1)
        assert await publish_and_collect_acks(mqtt, [1], until_through=1) == [1]
        response = await site.client.delete(
            f"/api/v1/projects/{PROJECT}/gates/{DEVICE}", headers=await bearer(site.client, "gc-0042")
        )
        assert response.status == 204, await response.text()
        await asyncio.sleep(0.3)
        assert await publish_and_collect_acks(mqtt, [2]) == []
    assert await site.stored_seqs() == [1]
    assert not await connects(site, lane)
    async with site.store.read("test") as conn:
        rows = (await conn.execute(select(audit_log.c.action, audit_log.c.target))).all()
    assert ("device.revoke", DEVICE) in [tuple(row) for row in rows]


async def test_deleting_a_gate_whose_broker_cannot_be_told_says_so(untold_site: Site) -> None:
    """The gate is gone and the hub refuses its lane, but the answer is no 204: the broker was not told."""
    site = untold_site
    await site.enrol("first")
    response = await site.client.delete(
        f"/api/v1/projects/{PROJECT}/gates/{DEVICE}", headers=await bearer(site.client, "gc-0042")
    )
    body = await response.json()
    assert (response.status, body["error"]["code"]) == (503, "broker_not_told"), body
    assert (body["gate_removed"], body["hub_refuses"], len(body["revoked_serials"])) == (True, True, 1)
    async with site.store.read("test") as conn:
        revoked_at = await conn.scalar(select(devices.c.revoked_at).where(devices.c.device_id == DEVICE))
    assert revoked_at is not None


async def test_a_revoked_devices_status_heartbeats_and_presence_are_not_recorded(database_url: str) -> None:
    """The ingest on its own (no broker): whatever a revoked device sends is refused, counted, and
    neither stored, acknowledged, recorded nor dead-lettered; its neighbour's is untouched."""
    from hub.devices.revocation import mark_revoked
    from tests.support.placed import place_at_gates

    async with await Store.open(database_url) as store:
        await place_at_gates(store, [("lane-r01", "proj-r", "A1", "in"), ("lane-r02", "proj-s", "A1", "in")])
        async with store.write("revoke") as conn:
            await mark_revoked(conn, "lane-r01", utc_now())
        ingest = Ingest(store, host="127.0.0.1", port=1, client_id="revocation-hub", share_group="revocation")
        acks = RecordingPublisher()
        messages: list[tuple[str, object]] = []
        for device_id, project_id in (("lane-r01", "proj-r"), ("lane-r02", "proj-s")):
            record = make_event(
                1, device_id=device_id, project_id=project_id, wall_time=utc_now(), granted=False
            )
            presence = PresenceStatus(
                device_id=device_id, state=PresenceState.ONLINE, generation=1, at=utc_now()
            )
            messages += [
                (topic_for(device_id, Channel.EVENT), encode(record)),
                (topic_for(device_id, Channel.HEARTBEAT), encode(make_heartbeat(device_id=device_id))),
                (topic_for(device_id, Channel.PRESENCE), encode(presence)),
            ]
        await ingest.handle_batch(acks, messages)
        counters = ingest.counters
        assert (counters.revoked, counters.accepted, counters.heartbeats, counters.presence) == (3, 1, 1, 1)
        assert [topic for topic, _ in acks.acks] == [topic_for("lane-r02", Channel.ACK)]
        assert counters.rejected == 0
        async with store.read("test") as conn:
            heard = (await conn.execute(select(devices.c.device_id, devices.c.last_seen_at))).all()
        assert {device for device, seen in heard if seen is not None} == {"lane-r02"}


def test_the_demo_hub_tells_the_demo_broker(tmp_path: Path) -> None:
    """Item 10 with item 2: the demo's hub writes the CRL and ACL where the demo's broker reads them
    and reloads it (its revocation answered 200 while no broker was told)."""
    from hub.config import load_config
    from provisioning.registrar import BrokerFiles, BrokerNotTold
    from sitegate.demo import _hub_config, demo_broker

    ca = CertificateAuthority.create(tmp_path / "ca")
    with demo_broker(ca) as broker:
        assert broker.tls is not None
        assert broker.tls.crl_file is not None
        toml = _hub_config(tmp_path, ca, broker)
        config = load_config(toml, {"roster_signing_key_file": tmp_path / "roster.key"})
        registrar = registrar_from_config(config, tmp_path / "ca")
        assert registrar.broker_files == BrokerFiles(broker.tls.crl_file, broker.tls.acl_file)
        assert registrar.publish_revocations() == "CRL and ACL written and the broker reloaded"
    with pytest.raises(BrokerNotTold):  # its directory and pid file are gone with it
        registrar.publish_revocations()


async def test_a_revoked_lane_is_sent_no_roster_nor_site_sync(database_url: str) -> None:
    """The roster publisher's lanes (its source's ``devices``) and the site relay's: placed and not
    revoked; a new enrolment puts the lane back."""
    from hub.devices.revocation import mark_enrolled, mark_revoked
    from hub.registry.internal import InternalRegistryReads
    from hub.site.gates import SiteMap
    from tests.support.placed import place_at_gates

    async with await Store.open(database_url) as store:
        await place_at_gates(store, [("lane-r01", "proj-r", "A1", "in"), ("lane-r02", "proj-r", "A2", "in")])
        reads = InternalRegistryReads(store)
        assert set(await reads.devices_of("proj-r")) == {"lane-r01", "lane-r02"}
        async with store.write("revoke") as conn:
            await mark_revoked(conn, "lane-r01", utc_now())
        assert set(await reads.devices_of("proj-r")) == {"lane-r02"}
        # Nor site syncs: it is no lane's sibling (its silence must not soften their anti-passback).
        site = await SiteMap(store, ttl_s=0).current()
        assert (site.siblings("lane-r02"), site.siblings("lane-r01")) == ((), ())
        async with store.write("enrol") as conn:
            await mark_enrolled(conn, "lane-r01", utc_now())
        assert set(await reads.devices_of("proj-r")) == {"lane-r01", "lane-r02"}
        assert (await SiteMap(store, ttl_s=0).current()).siblings("lane-r02") == ("lane-r01",)
