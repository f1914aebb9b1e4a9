"""The audit log over the API: every write leaves a line with its account; GET /api/v1/audit pages
through them, the whole log for the city station, its own lines for any other account."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from hub.api.keys import STORE
from hub.app import create_app
from hub.auth.principal import Role
from hub.config import HubConfig
from sitegate.netutil import free_port
from tests.hub.factories import BASE_TIME
from tests.support.accounts import TEST_PASSWORD, bearer, create_account
from wire.models import PresenceState, PresenceStatus

Client = TestClient[web.Request, web.Application]


@pytest.fixture
async def client(database_url: str) -> AsyncIterator[Client]:
    config = HubConfig(database_url=database_url, mqtt_port=free_port())  # no broker: commands are 503
    async with TestClient(TestServer(create_app(config))) as test_client:
        store = test_client.app[STORE]
        await create_account(store, role=Role.CITY, username="city-1")
        await create_account(store, role=Role.OPERATOR, username="ops-1")
        await store.record_presence(
            PresenceStatus(device_id="lane-a", state=PresenceState.ONLINE, generation=1, at=BASE_TIME)
        )
        yield test_client


async def audit_page(client: Client, headers: dict[str, str], **params: str) -> dict[str, Any]:
    response = await client.get("/api/v1/audit", headers=headers, params=params)
    body = await response.json()
    assert response.status == 200, body
    return body  # type: ignore[no-any-return]


async def test_login_command_and_logout_each_leave_a_line_with_the_account(client: Client) -> None:
    ops = await bearer(client, "ops-1")
    response = await client.post("/api/v1/devices/lane-a/commands", json={"action": "resync"}, headers=ops)
    assert response.status == 503  # recorded, then the broker was not there to carry it
    assert (await client.post("/api/v1/auth/logout", headers=ops)).status == 204

    city = await bearer(client, "city-1")
    items = (await audit_page(client, city))["items"]
    lines = [(i["username"], i["action"], i["target"]) for i in reversed(items)]
    assert lines == [
        ("ops-1", "auth.login", None),
        ("ops-1", "command.issue", "device:lane-a"),
        ("ops-1", "auth.logout", None),
        ("city-1", "auth.login", None),
    ]
    command = next(i for i in items if i["action"] == "command.issue")
    assert command["detail"]["action"] == "resync"
    listed = await client.get("/api/v1/devices/lane-a/commands", headers=city)
    assert [c["operator"] for c in (await listed.json())["commands"]] == ["ops-1"]


async def test_the_city_reads_everything_in_pages_others_their_own_lines(client: Client) -> None:
    for _ in range(3):
        await bearer(client, "ops-1")
    failed = await client.post("/api/v1/auth/login", json={"username": "ops-1", "password": "wrong password"})
    assert failed.status == 401
    city = await bearer(client, "city-1")

    seen: list[tuple[str, str]] = []
    params = {"limit": "2"}
    while True:
        body = await audit_page(client, city, **params)
        assert len(body["items"]) <= 2
        seen += [(i["username"], i["action"]) for i in body["items"]]
        if body["next_cursor"] is None:
            break
        params["cursor"] = body["next_cursor"]
    assert seen == [
        ("city-1", "auth.login"),
        ("ops-1", "auth.login_failed"),
        *[("ops-1", "auth.login")] * 3,
    ]

    ops = await bearer(client, "ops-1")
    mine = (await audit_page(client, ops, limit="500"))["items"]
    assert {i["username"] for i in mine} == {"ops-1"}
    assert len(mine) == 5  # three logins, the failure against it, and this login
    # Someone else's lines are not there to filter for.
    assert (await audit_page(client, ops, username="city-1"))["items"] == []
    only = await audit_page(client, city, username="ops-1", action="auth.login_failed")
    assert [i["detail"]["reason"] for i in only["items"]] == ["wrong_password"]
    assert all(TEST_PASSWORD not in str(i) and "wrong password" not in str(i) for i in mine)


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("cursor=bm90LWEtY3Vyc29y", "invalid_cursor"),
        ("limit=0", "invalid_parameter"),
        ("who=me", "unknown_parameter"),
    ],
)
async def test_bad_audit_queries_are_400(client: Client, query: str, code: str) -> None:
    response = await client.get(f"/api/v1/audit?{query}", headers=await bearer(client, "city-1"))
    assert response.status == 400
    assert (await response.json())["error"]["code"] == code
