"""The platform's world (tests/hub/platform/world.py) behind the hub's app, with a stand-in platform
and accounts of the roles that matter here; on both stores. The app's own uploader is off
(``[platform] enabled = false``): a test runs one itself when it wants a round."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from hub.app import create_app
from hub.auth.principal import Role
from hub.config import HubConfig
from hub.platform.upload_settings import UploadSettings
from hub.platform.uploader import Uploader
from hub.registry import IdVault, load_data_key
from hub.store import Store
from sitegate.netutil import free_port
from sitegate.platform_standin import PlatformStandin
from tests.hub.clocked import token_headers_at
from tests.hub.platform import world as w
from tests.support.accounts import create_account
from tests.support.clock import FakeClock

SECRET = "f3a1c9e07b2d4e5f8a6b0c1d2e3f4a5b"
PROJECT_CODE = "330106-PC-0001"
ACCOUNTS: dict[str, dict[str, Any]] = {
    "city": {"role": Role.CITY},
    "xihu": {"role": Role.DISTRICT, "district": "330106"},
    "gongshu": {"role": Role.DISTRICT, "district": "330105"},
    "gc-u": {"role": Role.GC_PROJECT, "enterprise_id": "ent-gc", "project_id": w.PROJECT},
    "sub-u": {"role": Role.SUB_PROJECT, "enterprise_id": "ent-sub", "project_id": w.PROJECT},
    "operator": {"role": Role.OPERATOR},
}


@dataclass
class Hub:
    client: TestClient[web.Request, web.Application]
    store: Store
    vault: IdVault
    clock: FakeClock
    standin: PlatformStandin
    headers: dict[str, dict[str, str]]
    usernames: list[str]

    async def call(self, who: str, method: str, path: str, **kw: Any) -> tuple[int, Any]:
        response = await self.client.request(method, path, headers=self.headers[who], **kw)
        if response.content_type == "application/json":
            return response.status, await response.json()
        return response.status, await response.text()

    def uploader(self) -> Uploader:
        return Uploader(self.store, self.vault, UploadSettings(poll_s=0), clock=self.clock)

    def settings(self, **change: Any) -> dict[str, Any]:
        return {"variant": "provincial", "endpoint": self.standin.url, "project_code": PROJECT_CODE,
                "appid": "app-u", "appsecret": SECRET, "upload_from": w.DAY.isoformat(), **change}  # fmt: skip


@pytest.fixture
async def hub(database_url: str, tmp_path: Path) -> AsyncIterator[Hub]:
    key_file = tmp_path / "data.key"
    clock = FakeClock(w.NOW)
    vault = IdVault(load_data_key(key_file))
    async with await Store.open(database_url, clock=clock) as store, PlatformStandin() as standin:
        standin.add_project(PROJECT_CODE, "app-u", SECRET)
        await w.build(store, vault)
        headers, usernames = {}, []
        for n, (who, scope) in enumerate(ACCOUNTS.items()):
            usernames.append(f"{who}-{n}")
            principal = await create_account(store, username=usernames[-1], **scope)
            headers[who] = await token_headers_at(store, principal, clock)
        config = HubConfig(
            database_url=database_url, mqtt_port=free_port(), data_key_file=key_file,
            platform=UploadSettings(enabled=False),
        )  # fmt: skip
        async with TestClient(TestServer(create_app(config, clock=clock))) as client:
            yield Hub(client, store, vault, clock, standin, headers, usernames)
