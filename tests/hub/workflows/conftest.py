"""The workflows' world: the oversight tests' registry and passages (tests/hub/oversight/world.py),
with ID numbers sealed under the app's own data key (the national export opens them), accounts of
every role that matters here, and the app over HTTP; on both stores.

The app runs on a FakeClock (``api.clock``), at :data:`tests.hub.clocked.NOON` unless a test gives
another instant (``@pytest.mark.parametrize("clock", DAY_EDGES, indirect=True)``); the world is
built at that instant, and a test works out "today" from the same clock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from hub.app import create_app
from hub.auth.principal import Principal
from hub.config import HubConfig
from hub.registry import IdVault, load_data_key
from hub.store import Store
from hub.store.schema import persons
from sitegate.netutil import free_port
from tests.hub.clocked import NOON, token_headers_at
from tests.hub.oversight import world as w
from tests.support.accounts import create_account
from tests.support.clock import FakeClock

Client = TestClient[web.Request, web.Application]

ACCOUNTS = {
    "city": w.CITY,
    "operator": w.OPERATOR,
    "district-xihu": w.DISTRICT_XIHU,
    "district-gongshu": w.DISTRICT_GONGSHU,
    "gc-a": w.GC_A,
    "sub-a": w.SUB_A,
    "sup-a": w.SUP_A,
    "gc-b": w.GC_B,
    "ent-gc1": w.ENTERPRISE_GC1,
    "ent-sub1": w.ENTERPRISE_SUB1,
}


@dataclass
class Api:
    client: Client
    store: Store
    headers: dict[str, dict[str, str]]
    principals: dict[str, Principal]
    world: w.World
    clock: FakeClock

    async def call(
        self, who: str, method: str, path: str, *, json: Any = None, params: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        response = await self.client.request(
            method, path, json=json, params=params, headers=self.headers[who]
        )
        if response.content_type == "application/json":
            body = await response.json()
            if response.status >= 400:
                assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
            return response.status, body
        return response.status, await response.text()

    async def ok(self, who: str, method: str, path: str, status: int = 200, **kw: Any) -> Any:
        got, body = await self.call(who, method, path, **kw)
        assert got == status, body
        return body

    async def error(self, who: str, method: str, path: str, status: int, code: str, **kw: Any) -> str:
        got, body = await self.call(who, method, path, **kw)
        assert (got, body["error"]["code"]) == (status, code), body
        return str(body["error"]["message"])


async def seal_ids(store: Store, world: w.World, key_file: Path) -> None:
    vault = IdVault(load_data_key(key_file))
    async with store.write("seal test ids") as conn:
        for person_id, number in zip(w.PERSONS, world.id_numbers, strict=True):
            cipher = vault.seal_id(person_id, number)
            await conn.execute(persons.update().where(persons.c.id == person_id).values(id_cipher=cipher))


@pytest.fixture
def clock(request: pytest.FixtureRequest) -> FakeClock:
    """The app's clock: at NOON, or at the instant a test gives (indirect parametrisation)."""
    return FakeClock(getattr(request, "param", NOON))


@pytest.fixture
async def api(database_url: str, tmp_path: Path, clock: FakeClock) -> AsyncIterator[Api]:
    key_file = tmp_path / "data.key"
    async with await Store.open(database_url, clock=clock) as store:
        world = await w.build(store, clock.wall())
        await seal_ids(store, world, key_file)
        headers, principals = {}, {}
        for username, p in ACCOUNTS.items():
            principals[username] = await create_account(
                store,
                role=p.role,
                username=username,
                district=p.district,
                enterprise_id=p.enterprise_id,
                project_id=p.project_id,
            )
            headers[username] = await token_headers_at(store, principals[username], clock)
        config = HubConfig(database_url=database_url, mqtt_port=free_port(), data_key_file=key_file)
        app = create_app(config, clock=clock)
        async with TestClient(TestServer(app)) as client:
            yield Api(client, store, headers, principals, world, clock)
