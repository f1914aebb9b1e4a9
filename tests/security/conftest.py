"""The attack suite's hub: the registry tests' app on a real store, with their world of accounts,
its monotonic clock held still (the throttles count on it: a slow run must not refill a bucket
or run out a delay between two tries of a test) and its wall clock the system's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from hub.app import create_app
from hub.config import HubConfig
from sitegate.netutil import free_port
from tests.hub.registry.conftest import Client, http_world  # noqa: F401 - a fixture
from wire.clock import SystemClock


class StillMonotonic(SystemClock):
    """The system's wall clock; a monotonic clock that moves only when told."""

    def __init__(self) -> None:
        super().__init__()
        self.mono = 10**12

    def mono_ns(self) -> int:
        return self.mono


@pytest.fixture
async def client(database_url: str, tmp_path: Path) -> AsyncIterator[Client]:
    config = HubConfig(database_url=database_url, mqtt_port=free_port(), data_key_file=tmp_path / "data.key")
    async with TestClient(TestServer(create_app(config, clock=StillMonotonic()))) as test_client:
        yield test_client
