"""/healthz says whether storing works, not only whether the database answers (issue 20): a hub
on SQLite whose disk fills up answers 503 while every store fails, and 200 again once one succeeds."""

from __future__ import annotations

import shutil

import pytest
from aiohttp.test_utils import TestClient, TestServer

from hub.api.keys import STORE
from hub.app import create_app
from hub.config import HubConfig
from hub.errors import StoreError
from hub.events.journal import store_events
from hub.store import Store
from sitegate.netutil import free_port
from tests.hub.factories import make_event
from tests.support.disk import small_disk


async def test_healthz_is_503_while_storing_fails_on_a_full_disk(sqlite_template) -> None:
    with small_disk("4m") as disk:
        database = disk.root / "hub.sqlite3"
        shutil.copyfile(sqlite_template, database)
        app = create_app(HubConfig(database_url=f"sqlite+aiosqlite:///{database}", mqtt_port=free_port()))
        async with TestClient(TestServer(app)) as client:
            store: Store = client.app[STORE]
            await store_events(store, [make_event(1)])
            body = await (await client.get("/healthz")).json()
            assert (body["database"], body["last_store"]["result"]) == ("ok", "ok")
            disk.fill()
            seq = await _store_until_refused(store)
            response = await client.get("/healthz")
            body = await response.json()
            assert response.status == 503
            assert body["database"] == "unavailable"  # it still answers SELECT 1
            assert body["last_store"]["result"] == "failed"
            disk.free()
            await store_events(store, [make_event(seq)])
            body = await (await client.get("/healthz")).json()
            assert (body["database"], body["last_store"]["result"]) == ("ok", "ok")


async def _store_until_refused(store: Store) -> int:
    """Store one event after another until the file needs a page the disk has not got; that seq."""
    for seq in range(2, 500):
        try:
            await store_events(store, [make_event(seq)])
        except StoreError:
            return seq
    pytest.fail("the full disk took 500 batches")
