"""Site rules set at the hub reach a lane with its roster, on real parts: a real mosquitto, the
hub's app, a lane built from its configuration file as ``sitegate lane`` builds it.

The GC's project department sets the project's rules over the API; the lane applies them with the
next roster version (signed with it, swapped in with it), and a swipe at 22:00 is refused for the
hours; a night-work permit for today is then added, and the same swipe is admitted, with the
permit's caveat on the record. The hub and the lane read one FakeClock at 22:00 (site time):
the hours are judged at that instant whatever the hour the suite runs at. The lane's own
configuration admits workers at any hour: before the hub sets rules, it is what the lane runs.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from gpiozero.pins.mock import MockFactory

from controller.cli import build_service
from controller.config import load_config
from controller.core.cards import IdentityCard
from controller.service import LaneService
from hardware.emulators.identities import synthetic_identity
from hub.api.keys import STORE
from hub.app import create_app
from hub.auth.principal import Principal, Role
from hub.config import HubConfig
from hub.rosters.keys import load_signing_key, public_key_b64
from hub.store import Store
from hub.store.schema import assignments, persons
from sitegate.mosquitto import Mosquitto
from sitegate.tasks import cancel_until_done
from tests.hub.clocked import token_headers_at
from tests.support.accounts import create_account
from tests.support.clock import FakeClock, site_time
from tests.support.registry_rows import GC, contractor_with_projects, place_gates
from wire.credential import credential_hash
from wire.models import Caveat, Decision, Reason

# Not any_hour: the hub and the lane run on one FakeClock, so a pinned wall clock changes nothing.
pytestmark = [pytest.mark.broker]

SITE_KEY = bytes(range(60, 92))
PROJECT = "P-RULES"
DEVICE = "lane-rules-a1"
NIGHT = site_time(2026, 12, 7, 22, 0)
"""When the swipes are judged: two hours after the default workers' hours end."""
RULES: dict[str, Any] = {
    "anti_passback": "off",  # the person admitted under the bootstrap policy is inside; not the subject here
    "accept_uid_only": False,
    "working_hours": {"worker": "06:00-20:00"},
    "night_work": [],
}
PERMIT = {
    "permit": "杭夜施〔2026〕7号",
    "first_date": "2026-12-07",
    "last_date": "2026-12-07",
    "hours": "20:00-06:00",
}


@dataclass
class Site:
    clock: FakeClock
    hub: TestClient
    lane: LaneService
    card: IdentityCard
    department: Principal

    async def set_rules(self, rules: dict[str, Any]) -> dict[str, Any]:
        headers = await token_headers_at(self.hub.server.app[STORE], self.department, self.clock)
        response = await self.hub.put(f"/api/v1/projects/{PROJECT}/site-rules", json=rules, headers=headers)
        answer: dict[str, Any] = await response.json()
        assert response.status == 200, answer
        return answer


async def until(predicate: Callable[[], bool], what: str, within_s: float = 60.0) -> None:
    deadline = time.monotonic() + within_s
    while not predicate():
        assert time.monotonic() < deadline, f"{what} not met within {within_s} s"
        await asyncio.sleep(0.01)


async def _registry(database_url: str, person_id: str, card: IdentityCard) -> Principal:
    async with await Store.open(database_url) as store:
        async with store.write("rules world") as conn:
            await contractor_with_projects(
                conn,
                [PROJECT],
                district="330106",
                district_name="Xihu",
                gc_number="91330106MA2B000028",
                now=NIGHT,
            )
            await place_gates(conn, [(DEVICE, PROJECT, "A1", "in", "gate A1")])
            await conn.execute(
                persons.insert().values(
                    id=person_id,
                    id_index="0" * 64,
                    id_cipher=b"sealed",
                    id_masked="******",
                    name=card.name,
                    card_kind=card.kind.value,
                    category="worker",
                    created_at=NIGHT,
                )
            )
            await conn.execute(
                assignments.insert().values(
                    project_id=PROJECT,
                    person_id=person_id,
                    enterprise_id=GC,
                    role="worker",
                    entry_date=NIGHT.date() - timedelta(days=30),
                    credential_hash=credential_hash(SITE_KEY, card.id_number),
                    created_at=NIGHT,
                )
            )
        return await create_account(
            store, role=Role.GC_PROJECT, username="gc-rules", enterprise_id=GC, project_id=PROJECT
        )


def _lane_toml(tmp_path: Path, broker: Mosquitto, public_key: str) -> Path:
    root = tmp_path / "lane"
    root.mkdir()
    path = root / "controller.toml"
    path.write_text(
        f'device_id = "{DEVICE}"\nproject_id = "{PROJECT}"\nlane = "A1"\ndirection = "in"\n'
        f'data_dir = "{root}"\nsite_key_file = "{tmp_path / "site.key"}"\npin_factory = "mock"\n'
        f'rotation_sensor = false\nroster_public_key = "{public_key}"\n'
        f'[readers.id_module]\nport = "/dev/null"\n'
        f'[mqtt]\nhost = "{broker.host}"\nport = {broker.port}\nheartbeat_s = 0.2\n'
        '[policy]\nworking_hours = { worker = "00:00-23:59" }\n'  # the bootstrap: any hour
    )
    return path


@pytest.fixture
async def site(broker: Mosquitto, tmp_path: Path) -> AsyncIterator[Site]:
    card = synthetic_identity(random.Random(1207), valid_to=None)
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite3'}"
    department = await _registry(database_url, "p-0001", card)
    signing_key = load_signing_key(tmp_path / "roster-signing.key")  # the hub's, beside its database
    (tmp_path / "site.key").write_text(SITE_KEY.hex())
    clock = FakeClock(NIGHT)
    config = HubConfig(
        database_url=database_url, mqtt_host=broker.host, mqtt_port=broker.port, batch_window_s=0.005
    )
    hub = TestClient(TestServer(create_app(config, clock=clock)))
    await hub.start_server()
    pins = MockFactory()
    lane = build_service(
        load_config(_lane_toml(tmp_path, broker, public_key_b64(signing_key))), pin_factory=pins, clock=clock
    )
    assert lane.uplink is not None
    uplink = asyncio.create_task(lane.uplink.run())
    try:
        await until(lambda: lane.roster.version >= 1, "the first roster")
        yield Site(clock, hub, lane, card, department)
    finally:
        await cancel_until_done([uplink])
        lane.close()
        pins.reset()
        await hub.close()


async def test_rules_set_at_the_hub_decide_at_the_lane_with_the_next_roster(site: Site) -> None:
    lane = site.lane
    first = lane.roster.version
    assert lane.roster.policy is None  # no rules set yet: the lane runs its configuration's
    assert lane.handle(site.card).decision is Decision.GRANTED
    site.clock.advance(1)

    answer = await site.set_rules(RULES)
    assert answer["updated_by"] == "gc-rules"
    await until(lambda: lane.roster.version == first + 1, "the roster with the rules")
    assert lane.roster.policy is not None
    refused = lane.handle(site.card)
    assert (refused.decision, refused.reason) == (Decision.DENIED, Reason.OUTSIDE_HOURS)

    await site.set_rules({**RULES, "night_work": [PERMIT]})
    await until(lambda: lane.roster.version == first + 2, "the roster with the permit")
    site.clock.advance(1)
    admitted = lane.handle(site.card)
    assert (admitted.decision, admitted.warnings) == (
        Decision.GRANTED,
        (Reason.OUTSIDE_HOURS, Caveat.NIGHT_WORK),
    )
