"""An office reader's card read, through the whole system on real parts, into the registration form.

The pty GA/T 467 module emulator, a lane in registration mode (``mode = "registration"``, gpiozero
mock pins), the real mosquitto, the hub (ingest, in-memory reads, the card-reads API). Beside it
an access lane of the same project, whose cards must never reach the form, and a hostile device
placed on another project, which must not get a read into this one's form.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import aiomqtt
import pytest
from aiohttp.test_utils import TestClient, TestServer
from gpiozero.pins.mock import MockFactory

from controller.cli import build_service
from controller.config import load_config
from controller.service import LaneService
from hardware.emulators.id_module import IdModuleEmulator
from hardware.emulators.identities import synthetic_identity
from hub.api.card_reads import CARD_READS
from hub.api.keys import INGEST, STORE
from hub.app import create_app
from hub.auth.principal import Role
from hub.config import HubConfig
from hub.registration_reads import KEEP_S
from sitegate.mosquitto import Mosquitto
from tests.hub.clocked import token_headers_at
from tests.support.accounts import create_account
from tests.support.clock import FakeClock, site_time
from tests.support.placed import make_office_readers, place_at_gates
from wire.codec import encode
from wire.models import AccessEvent, CardKind, OfficeCardRead
from wire.topics import Channel, topic_for

pytestmark = [pytest.mark.broker, pytest.mark.serial, pytest.mark.any_hour]

KEY = bytes(range(100, 132))
PROJECT, OTHER = "P-IT", "P-OTHER"
LANE_TIME = site_time(2026, 11, 24, 10, 0)
READS = f"/api/v1/projects/{PROJECT}/card-reads"


@dataclass
class Lane:
    service: LaneService
    emulator: IdModuleEmulator
    task: asyncio.Task[None]


@dataclass
class Site:
    hub: TestClient
    clock: FakeClock
    office: Lane
    access: Lane
    headers: dict[str, str]
    broker: Mosquitto
    config: HubConfig


def write_config(directory: Path, broker: Mosquitto, *, device: str, lane: str, mode: str, port: str) -> None:
    directory.mkdir()
    (directory / "site.key").write_text(KEY.hex())
    (directory / "controller.toml").write_text(
        f'device_id = "{device}"\nproject_id = "{PROJECT}"\nlane = "{lane}"\ndirection = "in"\n'
        f'mode = "{mode}"\ndata_dir = "{directory}"\nsite_key_file = "{directory / "site.key"}"\n'
        f'pin_factory = "mock"\nrelay_pulse_s = 0.5\n'
        f'[readers.id_module]\nport = "{port}"\npoll_interval_s = 0.05\n'
        f'[mqtt]\nhost = "{broker.host}"\nport = {broker.port}\n'
    )


@contextlib.asynccontextmanager
async def running_lane(
    directory: Path, broker: Mosquitto, clock: FakeClock, *, device: str, lane: str, mode: str
) -> AsyncIterator[Lane]:
    emulator = IdModuleEmulator()
    write_config(directory, broker, device=device, lane=lane, mode=mode, port=emulator.port)
    pins = MockFactory()
    service = build_service(load_config(directory / "controller.toml"), pin_factory=pins, clock=clock)
    reader = service.sources[0]
    await reader.__aenter__()  # type: ignore[attr-defined]
    task = asyncio.create_task(service.run())
    try:
        yield Lane(service, emulator, task)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await reader.__aexit__(None, None, None)  # type: ignore[attr-defined]
        service.close()
        emulator.close()
        pins.reset()


@pytest.fixture
async def site(broker: Mosquitto, tmp_path: Path) -> AsyncIterator[Site]:
    clock = FakeClock(LANE_TIME)
    config = HubConfig(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite3'}",
        mqtt_host=broker.host, mqtt_port=broker.port, batch_window_s=0.005,
        data_key_file=tmp_path / "data.key", roster_signing_key_file=tmp_path / "roster.key",
    )  # fmt: skip
    async with TestClient(TestServer(create_app(config, clock=clock))) as hub:
        store = hub.app[STORE]
        await place_at_gates(
            store,
            [
                ("office-it", PROJECT, "O1", "in"),
                ("lane-it", PROJECT, "A1", "in"),
                ("office-other", OTHER, "O1", "in"),
            ],
        )
        await make_office_readers(store, ["office-it", "office-other"])
        principal = await create_account(
            store, role=Role.GC_PROJECT, username="gc-it", enterprise_id="ent-gc", project_id=PROJECT
        )
        headers = await token_headers_at(store, principal, clock)
        async with (
            running_lane(tmp_path / "office", broker, clock, device="office-it", lane="O1", mode="registration")
            as office,
            running_lane(tmp_path / "access", broker, clock, device="lane-it", lane="A1", mode="access") as access,
        ):  # fmt: skip
            await until(lambda: office.service.uplink.connected and access.service.uplink.connected)  # type: ignore[union-attr]
            yield Site(hub, clock, office, access, headers, broker, config)


async def until(predicate, within_s: float = 10.0) -> None:
    deadline = time.monotonic() + within_s
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def reads(site: Site, *, after: int = 0, wait_s: int = 0) -> dict:
    response = await site.hub.get(
        READS, params={"after": str(after), "wait_s": str(wait_s)}, headers=site.headers
    )
    assert response.status == 200, await response.text()
    return await response.json()


async def test_a_card_at_the_office_reader_reaches_the_form(site: Site) -> None:
    person = synthetic_identity(random.Random(11), valid_to=None)
    poll = asyncio.create_task(reads(site, wait_s=10))  # the form, waiting
    await asyncio.sleep(0.3)
    presented = time.monotonic()
    site.office.emulator.present(person)
    body = await asyncio.wait_for(poll, 15)
    latency = time.monotonic() - presented
    print(f"card on the office reader -> the form's long poll answered: {latency * 1000:.0f} ms")
    [item] = body["items"]
    assert (item["name"], item["id_number"], item["card_kind"]) == (person.name, person.id_number, "resident")
    assert (item["birth_date"], item["long_term"], item["problem"]) == (
        person.birth_date.isoformat(),
        True,
        None,
    )  # type: ignore[union-attr]
    assert (item["device_id"], item["lane"], item["on_project"]) == ("office-it", "O1", False)
    office = site.office.service
    assert office.office is not None and office.office.sent == 1
    assert office.journal.backlog() == 0 and office.decisions == 0  # nothing decided, nothing journaled


async def test_a_bad_card_is_read_with_its_problem(site: Site) -> None:
    expired = synthetic_identity(random.Random(12), valid_to=LANE_TIME.date() - timedelta(days=1))
    site.office.emulator.present(expired)
    body = await reads(site, wait_s=10)
    assert [i["problem"] for i in body["items"]] == ["card_expired"]


async def test_the_access_lanes_cards_never_reach_the_form(site: Site) -> None:
    decided: list[AccessEvent] = []
    site.access.service.observers.append(lambda r: decided.append(r) if isinstance(r, AccessEvent) else None)
    site.access.emulator.present(synthetic_identity(random.Random(13)))
    await until(lambda: bool(decided))
    await asyncio.sleep(0.5)  # as long as a read would take to arrive, and more
    assert decided[0].reason.value == "not_registered"
    assert (await reads(site))["items"] == []


async def test_a_device_of_another_project_cannot_put_a_read_in_this_form(site: Site) -> None:
    card = synthetic_identity(random.Random(14))

    def forged(device_id: str) -> bytes:
        return encode(OfficeCardRead(
            device_id=device_id, read_id=secrets.token_hex(16), read_at=LANE_TIME, clock_synced=True,
            card_kind=CardKind.RESIDENT, name=card.name, id_number=card.id_number,
        ))  # fmt: skip

    async with aiomqtt.Client(site.broker.host, site.broker.port, identifier="office-other") as hostile:
        await hostile.publish(topic_for("office-other", Channel.CARD_READ), forged("office-other"), qos=1)
        await hostile.publish(topic_for("office-other", Channel.CARD_READ), forged("office-it"), qos=1)
    await asyncio.sleep(0.5)
    assert (await reads(site))["items"] == []
    held = site.hub.app[CARD_READS]
    assert [h.project_id for h in held.since(OTHER)] == [OTHER]  # its own project's, if anyone's
    assert held.counters.refused == 1  # the one naming this project's reader


async def test_a_read_expires(site: Site) -> None:
    site.office.emulator.present(synthetic_identity(random.Random(15)))
    assert len((await reads(site, wait_s=10))["items"]) == 1
    site.clock.advance(timedelta(seconds=KEEP_S + 1))
    assert (await reads(site))["items"] == []


async def test_every_hub_instance_holds_the_read(site: Site) -> None:
    """Hub instances split the event stream (shared subscriptions), but each holds the reads in its
    own memory: a form polling any of them must see the read."""
    second = site.config.model_copy(update={"mqtt_client_id": "sitegate-hub-2"})
    async with TestClient(TestServer(create_app(second, clock=site.clock))) as other:
        await other.app[INGEST].wait_connected()
        for n in range(4):  # one instance only would, with a shared subscription, miss some of them
            site.office.emulator.present(synthetic_identity(random.Random(20 + n)))
            await until(lambda n=n: site.office.service.office.sent == n + 1)  # type: ignore[union-attr]
            site.office.emulator.remove()
            await asyncio.sleep(0.15)
        await asyncio.sleep(0.3)
        for hub in (site.hub, other):
            assert hub.app[CARD_READS].counters.held == 4
