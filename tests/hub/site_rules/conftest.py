"""The registry's world (tests/hub/registry/conftest.py) in an app on a fake clock: the rules'
``updated_at`` and their audit line are the hub's injected time, never the wall clock's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from hub.app import create_app
from hub.config import HubConfig
from sitegate.netutil import free_port
from tests.hub.clocked import NOON
from tests.hub.registry.conftest import Client, http_world, vault, world  # noqa: F401 - fixtures
from tests.support.clock import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOON)


@pytest.fixture
async def client(database_url: str, tmp_path: Path, clock: FakeClock) -> AsyncIterator[Client]:
    config = HubConfig(database_url=database_url, mqtt_port=free_port(), data_key_file=tmp_path / "data.key")
    async with TestClient(TestServer(create_app(config, clock=clock))) as test_client:
        yield test_client
