"""Site-wide anti-passback on real parts: a real mosquitto, the hub's app, three lanes of one site.

The site: two entry lanes (``in-1``, ``in-2``, no rotation sensor: a grant is the passage) and one
exit lane (``out-1``). Everything runs on one FakeClock (the lanes' and the hub's), so the lanes'
working hours, the hub's record of when it last heard each lane and the daily expiry are judged at
instants the test chooses, whatever the hour the suite runs at.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from gpiozero.pins.mock import MockFactory

from controller.cli import build_service
from controller.config import load_config
from controller.core.cards import IdentityCard
from controller.service import LaneService
from hardware.emulators.identities import synthetic_identity
from hub.app import create_app
from hub.config import HubConfig
from hub.rosters.keys import load_signing_key, public_key_b64
from hub.store import Store
from hub.store.schema import assignments, persons
from sitegate.mosquitto import Mosquitto
from tests.support.clock import FakeClock, site_time
from tests.support.registry_rows import GC, contractor_with_projects, place_gates
from wire.credential import credential_hash
from wire.models import Decision, Reason

pytestmark = pytest.mark.broker

SITE_KEY = bytes(range(100, 132))
PROJECT = "P-SITE"
OPENING = site_time(2026, 11, 24, 10, 0)
"""A working morning: the instant the site lives in until a test moves it."""
LANES = {
    "in-1": ("lane-site-in1", "A1", "in"),
    "in-2": ("lane-site-in2", "A3", "in"),
    "out-1": ("lane-site-out1", "A2", "out"),
}
PEOPLE = 4


@dataclass
class SiteWorld:
    clock: FakeClock
    lanes: dict[str, LaneService]
    people: list[tuple[str, IdentityCard]]


async def until(predicate: Callable[[], bool], within_s: float = 15.0, what: str = "condition") -> None:
    deadline = time.monotonic() + within_s
    while not predicate():
        assert time.monotonic() < deadline, f"{what} not met within {within_s} s"
        await asyncio.sleep(0.01)


async def _registry(database_url: str, people: list[tuple[str, IdentityCard]]) -> None:
    """The project, its three gates and its workers, straight into the hub's tables."""
    async with await Store.open(database_url) as store, store.write("site world") as conn:
        await contractor_with_projects(
            conn,
            [PROJECT],
            district="330106",
            district_name="Xihu",
            gc_number="91330106MA2B000010",
            now=OPENING,
        )
        await place_gates(
            conn,
            [
                (device, PROJECT, lane, direction, f"gate {lane}")
                for device, lane, direction in LANES.values()
            ],
        )
        for n, (person_id, card) in enumerate(people):
            await conn.execute(
                persons.insert().values(
                    id=person_id,
                    id_index=f"{n:064x}",
                    id_cipher=b"sealed",
                    id_masked="******",
                    name=card.name,
                    card_kind=card.kind.value,
                    category="worker",
                    created_at=OPENING,
                )
            )
            await conn.execute(
                assignments.insert().values(
                    project_id=PROJECT,
                    person_id=person_id,
                    enterprise_id=GC,
                    role="worker",
                    entry_date=OPENING.date(),
                    credential_hash=credential_hash(SITE_KEY, card.id_number),
                    created_at=OPENING,
                )
            )


def _lane_toml(tmp_path: Path, name: str, broker: Mosquitto, public_key: str) -> Path:
    device, lane, direction = LANES[name]
    root = tmp_path / name
    root.mkdir()
    path = root / "controller.toml"
    path.write_text(
        f'device_id = "{device}"\nproject_id = "{PROJECT}"\nlane = "{lane}"\ndirection = "{direction}"\n'
        f'data_dir = "{root}"\nsite_key_file = "{tmp_path / "site.key"}"\npin_factory = "mock"\n'
        f'rotation_sensor = false\nroster_public_key = "{public_key}"\n'
        f'[readers.id_module]\nport = "/dev/null"\n'
        f'[mqtt]\nhost = "{broker.host}"\nport = {broker.port}\nheartbeat_s = 0.2\n'
    )
    return path


@pytest.fixture
async def site(broker: Mosquitto, tmp_path: Path) -> AsyncIterator[SiteWorld]:
    rng = random.Random(1124)
    people = [(f"p-{n:04d}", synthetic_identity(rng, valid_to=None)) for n in range(1, PEOPLE + 1)]
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite3'}"
    await _registry(database_url, people)
    public_key = public_key_b64(load_signing_key(tmp_path / "roster-signing.key"))
    (tmp_path / "site.key").write_text(SITE_KEY.hex())
    clock = FakeClock(OPENING)
    config = HubConfig(
        database_url=database_url, mqtt_host=broker.host, mqtt_port=broker.port, batch_window_s=0.005
    )
    hub = TestClient(TestServer(create_app(config, clock=clock)))
    await hub.start_server()
    lanes: dict[str, LaneService] = {}
    pins: list[MockFactory] = []
    tasks: list[asyncio.Task[None]] = []
    try:
        for name in LANES:
            factory = MockFactory()
            pins.append(factory)
            lane = build_service(
                load_config(_lane_toml(tmp_path, name, broker, public_key)), pin_factory=factory, clock=clock
            )
            lanes[name] = lane
            assert lane.uplink is not None
            tasks.append(asyncio.create_task(lane.uplink.run()))
        await until(
            lambda: all(lane.roster.version >= 1 for lane in lanes.values()), what="rosters on every lane"
        )
        yield SiteWorld(clock, lanes, people)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for lane in lanes.values():
            lane.outputs.close()
            lane.journal.close()
        for factory in pins:
            factory.reset()
        await hub.close()


async def test_enter_leave_by_the_exit_lane_enter_again(site: SiteWorld) -> None:
    """The issue's reproduction: in at A1, out at A2, in at A1 again the same day."""
    _, card = site.people[0]
    assert site.lanes["in-1"].handle(card).decision is Decision.GRANTED
    site.clock.advance(30)
    assert site.lanes["out-1"].handle(card).decision is Decision.GRANTED
    await asyncio.sleep(1.0)
    again = site.lanes["in-1"].handle(card)
    assert (again.decision, again.reason) == (Decision.GRANTED, Reason.GRANTED)
