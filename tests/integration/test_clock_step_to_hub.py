"""A lane's clock stepped back an hour, through the whole path: lanes → mosquitto → hub → API.

Two real lanes (an entry and an exit, each with an emulated ID module on a pty and mock pins, each
on its own clock), a real mosquitto, the hub on SQLite. The exit lane's clock steps back an hour
between the entry and the exit (issue 20): the exit's wall time is then before the entry's, yet
the hub closes the person's day in the lanes' own order, and the step is a lane event and an alert.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from gpiozero.pins.mock import MockFactory
from sqlalchemy import select

from controller.cli import build_service
from controller.config import load_config
from controller.core.roster import RosterEntry
from controller.roster_store import save_roster
from controller.service import LaneService
from hardware.emulators.id_module import IdModuleEmulator
from hardware.emulators.identities import synthetic_identity
from hub.api.keys import STORE
from hub.app import create_app
from hub.config import HubConfig
from hub.store import Store
from hub.store.schema import attendance, presence
from sitegate.mosquitto import Mosquitto
from tests.support.accounts import headers_for_new_account
from tests.support.clock import FakeClock, site_time
from tests.support.placed import place_at_gates
from wire.credential import credential_hash
from wire.models import AccessEvent
from wire.roles import RosterRole

pytestmark = [pytest.mark.broker, pytest.mark.serial, pytest.mark.any_hour]

KEY = bytes(range(100, 132))
LANE_TIME = site_time(2026, 11, 24, 10, 0)
"""The lanes' clocks: a working morning, whatever the hour the suite runs at."""


@dataclass
class Lane:
    service: LaneService
    clock: FakeClock
    emulator: IdModuleEmulator
    events: list[AccessEvent]


async def until(predicate: Callable[[], Awaitable[bool]], within_s: float = 15.0) -> None:
    deadline = time.monotonic() + within_s
    while not await predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


def make_lane(root: Path, name: str, direction: str, broker: Mosquitto, registered, boot: str) -> Lane:
    root.mkdir()
    emulator = IdModuleEmulator()
    save_roster(
        root / "roster.json",
        1,
        "P-IT",
        [(credential_hash(KEY, registered.id_number), RosterEntry("p-0001", RosterRole.WORKER))],
    )
    (root / "site.key").write_text(KEY.hex())
    (root / "controller.toml").write_text(
        f'device_id = "{name}"\nproject_id = "P-IT"\nlane = "{name[-2:]}"\ndirection = "{direction}"\n'
        f'data_dir = "{root}"\nsite_key_file = "{root / "site.key"}"\npin_factory = "mock"\n'
        f'relay_pulse_s = 0.5\n[readers.id_module]\nport = "{emulator.port}"\npoll_interval_s = 0.05\n'
        f'[mqtt]\nhost = "{broker.host}"\nport = {broker.port}\nheartbeat_s = 0.2\n'
    )
    clock = FakeClock(LANE_TIME, boot_id=boot)
    service = build_service(load_config(root / "controller.toml"), pin_factory=MockFactory(), clock=clock)
    events: list[AccessEvent] = []
    service.observers.append(lambda r: events.append(r) if isinstance(r, AccessEvent) else None)
    return Lane(service, clock, emulator, events)


PLACED = [
    ("lane-ck-in", "P-IT", "in", "in"),
    ("lane-ck-out", "P-IT", "ut", "out"),
    ("lane-df-in", "P-IT", "in", "in"),  # tests.integration.test_full_disk_lane's
]
"""The integration lanes the hub knows: (device, project, lane, direction), as :func:`make_lane`
configures them (the lane label is the name's last two characters)."""


async def started_hub(broker: Mosquitto, tmp_path: Path) -> TestClient:
    """The hub on SQLite in ``tmp_path``, on ``broker``, its API logged in as a city account, the
    lanes of :data:`PLACED` placed."""
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite3'}"
    headers = await headers_for_new_account(database_url, username="city-duty")
    async with await Store.open(database_url) as store:
        await place_at_gates(store, PLACED)
    config = HubConfig(
        database_url=database_url, mqtt_host=broker.host, mqtt_port=broker.port, batch_window_s=0.005
    )
    client = TestClient(TestServer(create_app(config)), headers=headers)
    await client.start_server()
    return client


@pytest.fixture
async def world(broker: Mosquitto, tmp_path: Path) -> AsyncIterator[tuple[TestClient, Lane, Lane, object]]:
    client = await started_hub(broker, tmp_path)
    registered = synthetic_identity(random.Random(7))
    entry = make_lane(tmp_path / "in", "lane-ck-in", "in", broker, registered, "boot-in-00000001")
    exit_ = make_lane(tmp_path / "out", "lane-ck-out", "out", broker, registered, "boot-out-0000001")
    readers = [lane.service.sources[0] for lane in (entry, exit_)]
    for reader in readers:
        await reader.__aenter__()  # type: ignore[attr-defined]
    tasks = [asyncio.create_task(lane.service.run()) for lane in (entry, exit_)]
    try:
        yield client, entry, exit_, registered
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for reader in readers:
            await reader.__aexit__(None, None, None)  # type: ignore[attr-defined]
        for lane in (entry, exit_):
            lane.service.outputs.close()
            lane.service.journal.close()
            lane.emulator.close()
        await client.close()


async def present(lane: Lane, card) -> AccessEvent:
    before = len(lane.events)
    lane.emulator.present(card)

    async def decided() -> bool:
        return len(lane.events) > before

    await until(decided)
    lane.emulator.remove()
    await asyncio.sleep(0.15)
    return lane.events[before]


async def test_an_exit_on_a_clock_stepped_back_an_hour_closes_the_day_at_the_hub(world) -> None:
    hub, entry, exit_, person = world
    for lane in (entry, exit_):
        lane.clock.advance(timedelta(seconds=1))
    came = await present(entry, person)
    assert came.reason.value == "granted"
    exit_.clock.advance(timedelta(minutes=5))
    entry.clock.advance(timedelta(minutes=5))
    exit_.clock.set(exit_.clock.wall() - timedelta(hours=1))  # an NTP step back an hour
    went = await present(exit_, person)
    assert went.reason.value == "granted" and went.clock_stepped
    assert went.wall_time < came.wall_time  # the fault: by wall time the exit came first

    async def stored() -> bool:
        response = await hub.get("/api/v1/access-events", params={"device_id": "lane-ck-out"})
        return response.status == 200 and bool((await response.json())["items"])

    await until(stored)
    response = await hub.get("/api/v1/access-events", params={"device_id": "lane-ck-out"})
    [item] = (await response.json())["items"]
    assert item["corrected_time"] == (came.wall_time + timedelta(minutes=5)).isoformat()
    steps = await (await hub.get("/api/v1/lane-events", params={"type": "clock_step"})).json()
    assert [(s["device_id"], s["alert"], s["step_s"]) for s in steps["items"]] == [
        ("lane-ck-out", True, pytest.approx(-3600.0, abs=1))
    ]
    async with hub.app[STORE].read("test") as conn:
        here = (await conn.execute(select(presence))).one()
        day = (await conn.execute(select(attendance))).one()
    assert here.on_site is False
    left = datetime.fromisoformat(item["corrected_time"])
    assert (day.first_in, day.last_out, day.seconds_on_site) == (came.wall_time, left, 300)
