"""From a token to a working lane, on one machine: a hub and a TLS mosquitto running,
``sitegate provision`` into a temporary root with an emulated ID module and mock pins, then the
controller started from what was written. It connects with its own certificate, receives its
roster and admits a registered card; a reused, expired or forged token is refused with a clear
message; a revoked device can no longer connect."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiomqtt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from gpiozero.pins.mock import MockFactory

from controller import selftest
from controller.cli import build_service
from controller.config import ControllerConfig, load_config
from controller.core.cards import IdentityCard
from controller.service import LaneService
from controller.tls import tls_context
from hardware.emulators.id_module import IdModuleEmulator
from hardware.emulators.identities import synthetic_identity
from hub.api.enrolment import EnrolmentDesk, configure
from hub.api.keys import INGEST, STORE
from hub.app import create_app
from hub.auth.principal import Role
from hub.config import HubConfig
from hub.downlink import Downlink
from hub.events.internal import InternalEventReads
from hub.events.records import EventFilters
from hub.rosters import MemorySource, RosterLedger, RosterPublisher, public_key_b64
from provisioning.ca import HUB_IDENTITY, CertificateAuthority, write_key, write_public
from provisioning.cli import main as provision
from provisioning.enrolment import BrokerAddress
from provisioning.layout import CONFIG, DEVICE_KEY, rebased
from provisioning.registrar import BrokerFiles, Registrar
from sitegate.mosquitto import Mosquitto
from tests.hub.factories import make_event
from tests.provisioning.registry import SITE_KEYS, seed_registry
from tests.support import certificate_probe
from tests.support.accounts import bearer, create_account
from tests.support.clock import FakeClock, site_time
from wire.codec import encode
from wire.credential import credential_hash
from wire.models import AccessEvent, utc_now
from wire.topics import Channel, topic_for

pytestmark = [pytest.mark.broker, pytest.mark.serial]

DEVICE = "lane-hz0042-a1"
PROJECT = "P-0042"
WAIT_S = 20.0
CMDLINE = "console=serial0,115200 console=tty1 root=PARTUUID=1234-02 rootfstype=ext4 rootwait\n"
ED25519_KEY = Ed25519PrivateKey.generate()
LANE_TIME = site_time(2026, 11, 24, 10, 0)
"""The started lane's clock: its decisions do not hang on the hour the suite runs at."""


@dataclass
class Site:
    client: TestClient[web.Request, web.Application]
    broker: Mosquitto
    source: MemorySource
    publisher: RosterPublisher
    emulator: IdModuleEmulator
    tmp: Path
    clock_offset: list[timedelta] = field(default_factory=lambda: [timedelta(0)])

    @property
    def hub_url(self) -> str:
        return str(self.client.make_url("")).rstrip("/")

    async def token(self, device_id: str = DEVICE) -> str:
        headers = await bearer(self.client, "gc-0042")
        response = await self.client.post(
            "/api/v1/enrolment-tokens", json={"device_id": device_id}, headers=headers
        )
        body = await response.json()
        assert response.status == 201, body
        return str(body["token"])

    def fresh_root(self, name: str) -> Path:
        root = self.tmp / name
        (root / "boot/firmware").mkdir(parents=True)
        (root / "boot/firmware/config.txt").write_text("arm_64bit=1\n")
        (root / "boot/firmware/cmdline.txt").write_text(CMDLINE)
        return root

    async def provision(self, root: Path, token: str, *extra: str) -> int:
        argv = ["--hub", self.hub_url, "--token", token, "--root", str(root), "--mock-pins"]
        argv += ["--id-module", self.emulator.port, *extra]
        return await asyncio.to_thread(provision, argv)


def _hub_identity(ca: CertificateAuthority, home: Path) -> tuple[Path, Path, Path]:
    home.mkdir(parents=True)
    cert_pem, key_pem = ca.issue_hub_identity(HUB_IDENTITY)
    write_key(home / "hub.key", key_pem)
    write_public(home / "hub.crt", cert_pem)
    write_public(home / "ca.crt", ca.cert_pem)
    return home / "ca.crt", home / "hub.crt", home / "hub.key"


@pytest.fixture(autouse=True)
def quick_output_cycles(monkeypatch: pytest.MonkeyPatch) -> None:
    """The self-test holds each output on for 0.3 s (``CYCLE_S``), for someone at the lane to see
    and hear it: 1.2 s of each provisioning's 1.3 s here, where the pins are mock pins that read
    back at once what they were driven to."""
    monkeypatch.setattr(selftest, "CYCLE_S", 0.0)


@pytest.fixture
def emulator() -> Iterator[IdModuleEmulator]:
    with IdModuleEmulator() as module:
        yield module


@pytest.fixture
async def site(tmp_path: Path, database_url: str, emulator: IdModuleEmulator) -> AsyncIterator[Site]:
    ca = CertificateAuthority.create(tmp_path / "test-ca")
    ca_file, cert_file, key_file = _hub_identity(ca, tmp_path / "hub-tls")
    source = MemorySource()
    ledger = await RosterLedger.open(database_url)
    handlers: dict[Channel, Callable[[str, bytes], Any]] = {}

    async def roster_status(topic: str, payload: bytes) -> str | None:
        return await handlers[Channel.ROSTER_STATUS](topic, payload)

    with Mosquitto.with_tls(ca, revoked_serials=[]) as broker:
        assert broker.tls is not None and broker.tls.crl_file is not None
        config = HubConfig(
            database_url=database_url,
            mqtt_host=broker.host,
            mqtt_port=broker.port,
            mqtt_ca_file=ca_file,
            mqtt_cert_file=cert_file,
            mqtt_key_file=key_file,
            batch_window_s=0.005,
        )
        app = create_app(config, handlers={Channel.ROSTER_STATUS: roster_status})
        registrar = Registrar(
            ca,
            broker=BrokerAddress(host=broker.host, port=broker.port),
            roster_public_key=public_key_b64(ED25519_KEY),
            broker_files=BrokerFiles(crl_file=broker.tls.crl_file, acl_file=broker.tls.acl_file),
            reload=broker.reload,
        )
        offset = [timedelta(0)]

        def clock() -> datetime:
            return utc_now() + offset[0]

        async def site_key(project_id: str) -> bytes:
            return SITE_KEYS[project_id]

        configure(app, EnrolmentDesk(registrar, site_key, clock))
        async with TestClient(TestServer(app)) as client:
            store = client.app[STORE]
            await seed_registry(store)
            await create_account(
                store, role=Role.GC_PROJECT, username="gc-0042", enterprise_id="ent-gc", project_id=PROJECT
            )
            await create_account(store, role=Role.OPERATOR, username="ops")
            source.assign(PROJECT, DEVICE)
            async with RosterPublisher(
                source, Downlink(client.app[INGEST].link), ED25519_KEY, ledger, resend_after_s=0.5
            ) as pub:
                handlers[Channel.ROSTER_STATUS] = pub.on_status_message
                yield Site(client, broker, source, pub, emulator, tmp_path, offset)
    await ledger.close()


async def until(predicate: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not predicate():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.02)


def register(site: Site, card: IdentityCard) -> None:
    digest = credential_hash(SITE_KEYS[PROJECT], card.id_number)
    site.source.put(PROJECT, digest, person_id="per-0001", role="manager")


@pytest.mark.any_hour  # the lane admits by hours and dates; the token tests are not clock-sensitive
async def test_a_provisioned_lane_connects_gets_its_roster_and_admits_a_registered_card(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    card = synthetic_identity(random.Random(6), valid_to=None)
    register(site, card)
    root = site.fresh_root("pi")
    token = await site.token()

    assert await site.provision(root, token) == 0, capsys.readouterr().out
    out = capsys.readouterr().out
    for line in (
        "[PASS] enrolment: lane-hz0042-a1: project P-0042, lane A1 (in)",
        "[PASS] relay",
        "[PASS] ID module",
    ):
        assert line in out
    assert "[PASS] broker: connected to" in out
    assert "checks passed" in out and "FAIL" not in out
    assert (root / DEVICE_KEY.relative_to("/")).stat().st_mode & 0o777 == 0o600
    assert "console=serial0" not in (root / "boot/firmware/cmdline.txt").read_text()
    assert (root / "boot/firmware/cmdline.txt.sitegate-backup").read_text() == CMDLINE
    assert (root / "etc/systemd/system/multi-user.target.wants/sitegate-controller.service").is_symlink()

    written = load_config(root / CONFIG.relative_to("/"))
    assert written.data_dir == Path("/var/lib/sitegate")  # run-time paths, not the test's
    config = rebased(written, root)
    async with running_lane(config) as (service, events):
        await until(
            lambda: service.uplink is not None and service.uplink.connected, "the lane never connected"
        )
        await asyncio.sleep(0.3)  # its subscriptions follow the connection
        assert await site.publisher.publish(PROJECT) >= 1
        await until(lambda: service.roster.version >= 1, "the roster never arrived")
        site.emulator.present(card)
        await until(lambda: bool(events), "no decision on the registered card")
        site.emulator.remove()
        assert events[0].reason.value == "granted"

    # Re-running is safe: nothing is enrolled again, nothing rewritten.
    assert await site.provision(root, token) == 0
    again = capsys.readouterr().out
    assert "already enrolled as lane-hz0042-a1; kept" in again
    assert "wrote " not in again


@contextlib.asynccontextmanager
async def running_lane(config: ControllerConfig) -> AsyncIterator[tuple[LaneService, list[AccessEvent]]]:
    """The controller as ``sitegate controller run`` builds it, on mock pins; its access events."""
    pins = MockFactory()
    service = build_service(config, pin_factory=pins, clock=FakeClock(LANE_TIME))
    events: list[AccessEvent] = []
    service.observers.append(
        lambda record: events.append(record) if isinstance(record, AccessEvent) else None
    )
    async with contextlib.AsyncExitStack() as stack:
        for source in service.sources:
            await stack.enter_async_context(source)  # type: ignore[arg-type]
        task = asyncio.create_task(service.run())
        try:
            yield service, events
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            service.close()
            pins.reset()


async def test_reused_expired_and_forged_tokens_are_refused_with_a_clear_message(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    token = await site.token()
    assert await site.provision(site.fresh_root("first"), token) == 0
    capsys.readouterr()

    assert await site.provision(site.fresh_root("reused"), token) == 1
    out = capsys.readouterr().out
    assert "[FAIL] enrolment: the hub refused the enrolment (token_used): this token already enrolled" in out
    assert "fix: ask the project's account for a new token (a token enrols once)" in out

    forged = token.split(".")[0] + "." + "Q" * 43
    assert await site.provision(site.fresh_root("forged"), forged) == 1
    assert "(token_unknown): this hub never issued that token for lane-hz0042-a1" in capsys.readouterr().out

    late = await site.token()
    site.clock_offset[0] = timedelta(hours=25)
    assert await site.provision(site.fresh_root("late"), late) == 1
    out = capsys.readouterr().out
    assert "(token_expired): the token for lane-hz0042-a1 expired at" in out
    assert late not in out and token not in out


async def test_prerequisites_fail_before_the_token_is_spent(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    token = await site.token()
    root = site.fresh_root("no-module")
    argv = [
        "--hub",
        site.hub_url,
        "--token",
        token,
        "--root",
        str(root),
        "--mock-pins",
        "--id-module",
        "/dev/nope",
    ]
    assert await asyncio.to_thread(provision, argv) == 1
    out = capsys.readouterr().out
    assert "[FAIL] serial device: /dev/nope missing" in out
    assert "the token was not used" in out
    assert not (root / "etc").exists()
    assert await site.provision(site.fresh_root("module"), token) == 0


async def test_a_revoked_device_can_no_longer_connect(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    root = site.fresh_root("pi")
    assert await site.provision(root, await site.token()) == 0
    config = rebased(load_config(root / CONFIG.relative_to("/")), root)
    mqtt = config.mqtt
    assert mqtt.ca_file and mqtt.cert_file and mqtt.key_file
    context = tls_context(mqtt.ca_file, mqtt.cert_file, mqtt.key_file)
    async with aiomqtt.Client(mqtt.host, mqtt.port, identifier=DEVICE, tls_context=context, timeout=5):
        pass

    response = await site.client.post(
        f"/api/v1/devices/{DEVICE}/revocation", headers=await bearer(site.client, "ops")
    )
    assert response.status == 200, await response.json()
    deadline = time.monotonic() + WAIT_S
    # SIGHUP is handled in mosquitto's next loop turn; the broker's own answer each time (aiomqtt
    # took a refusal for its 2 s connect timeout, which a slow broker could cause as well)
    while await certificate_probe.connects(mqtt.host, mqtt.port, context, DEVICE, within_s=WAIT_S):
        assert time.monotonic() < deadline, "the revoked certificate still connects"
        await asyncio.sleep(0.05)


async def test_a_dry_run_changes_nothing_and_spends_no_token(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    token = await site.token()
    root = site.fresh_root("dry")
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    assert await site.provision(root, token, "--dry-run") == 0
    out = capsys.readouterr().out
    assert "[PASS] enrolment: would enrol lane-hz0042-a1 at http://127.0.0.1:" in out
    assert "would write /etc/udev/rules.d/99-sitegate.rules" in out
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before
    assert await site.provision(root, token) == 0


async def test_a_revoked_device_s_live_session_carries_nothing_more(site: Site) -> None:
    """Revocation ends what the device can do at once, not only its next connection: the session it
    holds is cut off by the ACL's deny block (mosquitto re-reads the ACL on the reload)."""
    root = site.fresh_root("live")
    assert await site.provision(root, await site.token()) == 0
    mqtt = rebased(load_config(root / CONFIG.relative_to("/")), root).mqtt
    assert mqtt.ca_file and mqtt.cert_file and mqtt.key_file
    context = tls_context(mqtt.ca_file, mqtt.cert_file, mqtt.key_file)
    topic = topic_for(DEVICE, Channel.EVENT)
    store = site.client.app[STORE]

    async def stored() -> set[int]:
        page = await InternalEventReads(store).access_events(EventFilters(device_id=DEVICE))
        return {event.seq for event in page.items}

    async with aiomqtt.Client(
        mqtt.host, mqtt.port, identifier=DEVICE, tls_context=context, timeout=5,
        protocol=aiomqtt.ProtocolVersion.V5,
    ) as session:  # fmt: skip
        await session.publish(topic, encode(make_event(1, device_id=DEVICE, project_id=PROJECT)), qos=1)
        deadline = time.monotonic() + WAIT_S
        while await stored() != {1}:  # the control: before revocation the session's events arrive
            assert time.monotonic() < deadline, "the enrolled device's event never reached the hub"
            await asyncio.sleep(0.05)
        response = await site.client.post(
            f"/api/v1/devices/{DEVICE}/revocation", headers=await bearer(site.client, "ops")
        )
        assert response.status == 200, await response.json()
        await asyncio.sleep(0.5)  # the broker applies the reload in its next loop turn
        with contextlib.suppress(aiomqtt.MqttError):  # refused or cut: either way nothing gets through
            await session.publish(topic, encode(make_event(2, device_id=DEVICE, project_id=PROJECT)), qos=1)
        await asyncio.sleep(2.0)  # what a denied publish would need to reach the hub, many times over
    assert await stored() == {1}
