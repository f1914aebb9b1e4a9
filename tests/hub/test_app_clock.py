"""The app's one clock: what ``create_app`` is given is what its parts read (the store's receipt
stamps, a login's token), and a hub given none runs on the system's."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from hub.api.keys import CLOCK, STORE
from hub.app import create_app
from hub.auth.principal import Role
from hub.config import HubConfig
from hub.events.internal import InternalEventReads
from sitegate.netutil import free_port
from tests.hub.clocked import NOON
from tests.support.accounts import TEST_PASSWORD, create_account
from tests.support.clock import FakeClock
from wire.clock import SystemClock


def _config(tmp_path: Path) -> HubConfig:
    return HubConfig(database_url=f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}", mqtt_port=free_port())


async def test_the_app_hands_its_clock_to_what_it_builds(tmp_path: Path) -> None:
    clock = FakeClock(NOON)
    app = create_app(_config(tmp_path), clock=clock)
    async with TestClient(TestServer(app)) as client:
        assert app[CLOCK] is clock
        store = app[STORE]
        await store.dead_letter("sitegate/v1/up/lane-x/event", "test", b"{}")
        [letter] = await InternalEventReads(store).dead_letters()
        assert letter.received_at == clock.wall()
        await create_account(store, role=Role.CITY, username="city-1")
        response = await client.post(
            "/api/v1/auth/login", json={"username": "city-1", "password": TEST_PASSWORD}
        )
        assert response.status == 200
        assert (await response.json())["expires_at"] == (clock.wall() + timedelta(hours=8)).isoformat()


def test_a_hub_given_no_clock_runs_on_the_systems(tmp_path: Path) -> None:
    assert isinstance(create_app(_config(tmp_path))[CLOCK], SystemClock)
