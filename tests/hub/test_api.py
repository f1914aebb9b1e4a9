"""The HTTP API against a real store; the ingest points at a port where no broker listens."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from hub.api.keys import STORE
from hub.app import create_app
from hub.config import HubConfig
from hub.events.journal import store_events
from hub.store import Store
from sitegate.netutil import free_port
from tests.hub.factories import make_event, make_lane_event
from tests.support.accounts import headers_for_new_account
from wire.models import LaneEventType, PresenceState, PresenceStatus

Client = TestClient[web.Request, web.Application]


@pytest.fixture
async def client(database_url: str) -> AsyncIterator[Client]:
    """Logged in as a city account (sees everything): scope has its own tests (test_scope_matrix)."""
    headers = await headers_for_new_account(database_url)  # a city account: sees everything
    config = HubConfig(database_url=database_url, mqtt_port=free_port())
    app = create_app(config)

    async def boom(request: web.Request) -> web.Response:
        raise RuntimeError("secret internals: /etc/hub/db-password")

    app.router.add_get("/test/boom", boom)
    async with TestClient(TestServer(app), headers=headers) as test_client:
        yield test_client


def store_of(client: Client) -> Store:
    return client.app[STORE]


async def get_json(client: Client, path: str, status: int = 200) -> Any:
    response = await client.get(path)
    assert response.status == status, await response.text()
    assert response.content_type == "application/json"
    return await response.json()


async def assert_error(client: Client, path: str, status: int, code: str, names: str | None = None) -> None:
    body = await get_json(client, path, status)
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code
    if names is not None:
        assert names in body["error"]["message"]


async def test_events_are_listed_newest_first_with_a_cursor(client: Client) -> None:
    await store_events(store_of(client), [make_event(s) for s in range(1, 6)])
    first = await get_json(client, "/api/v1/access-events?limit=3")
    assert [item["seq"] for item in first["items"]] == [5, 4, 3]
    item = first["items"][0]
    assert item["device_id"] == "lane-t01"
    assert item["wall_time"] == "2026-05-01T08:00:05+00:00"
    assert "received_at" in item
    assert "row_id" not in item
    rest = await client.get("/api/v1/access-events", params={"limit": "3", "cursor": first["next_cursor"]})
    body = await rest.json()
    assert [item["seq"] for item in body["items"]] == [2, 1]
    assert body["next_cursor"] is None


async def test_filters_and_a_plus_sign_left_unescaped(client: Client) -> None:
    await store_events(store_of(client), [make_event(s) for s in range(1, 6)])
    # 16:00:03+08:00 is 08:00:03Z; clients often forget to escape the '+'.
    body = await get_json(client, "/api/v1/access-events?since=2026-05-01T16:00:03+08:00&device_id=lane-t01")
    assert [item["seq"] for item in body["items"]] == [5, 4, 3]
    body = await get_json(client, "/api/v1/access-events?until=2026-05-01T08:00:02Z&decision=granted")
    assert [item["seq"] for item in body["items"]] == [1]


async def test_counts(client: Client) -> None:
    await store_events(store_of(client), [make_event(1), make_event(2), make_event(3, granted=False)])
    body = await get_json(client, "/api/v1/access-events/counts?project_id=proj-1")
    assert body == {
        "counts": [
            {"device_id": "lane-t01", "decision": "denied", "reason": "not_registered", "count": 1},
            {"device_id": "lane-t01", "decision": "granted", "reason": "granted", "count": 2},
        ]
    }


@pytest.mark.parametrize(
    ("query", "code", "names"),
    [
        ("limit=0", "invalid_parameter", "'limit'"),
        ("limit=501", "invalid_parameter", "'limit'"),
        ("limit=ten", "invalid_parameter", "'limit'"),
        ("limit=-1", "invalid_parameter", "'limit'"),
        ("since=yesterday", "invalid_parameter", "'since'"),
        ("since=2026-05-01T08:00:00", "invalid_parameter", "'since'"),
        ("since=2026-05-02T00:00:00Z&until=2026-05-01T00:00:00Z", "invalid_parameter", "'until'"),
        ("decision=maybe", "invalid_parameter", "'decision'"),
        ("reason=because", "invalid_parameter", "'reason'"),
        ("cursor=bm90LWEtY3Vyc29y", "invalid_cursor", "'cursor'"),
        ("device_id=", "invalid_parameter", "'device_id'"),
        ("limit=1&limit=2", "invalid_parameter", "'limit'"),
        ("projectid=proj-1", "unknown_parameter", "'projectid'"),
    ],
)
async def test_bad_queries_are_400_naming_the_parameter(
    client: Client, query: str, code: str, names: str
) -> None:
    await assert_error(client, f"/api/v1/access-events?{query}", 400, code, names)


async def test_lane_events_are_listed_newest_first_with_a_cursor(client: Client) -> None:
    kinds = [LaneEventType.FIRE_ALARM, LaneEventType.FIRE_ALARM_CLEARED, LaneEventType.TAMPER]
    await store_events(
        store_of(client),
        [make_event(1), *(make_lane_event(s, kind) for s, kind in enumerate(kinds, start=2))],
    )
    first = await get_json(client, "/api/v1/lane-events?limit=2")
    assert [item["seq"] for item in first["items"]] == [4, 3]
    assert first["items"][0] == {
        "device_id": "lane-t01",
        "seq": 4,
        "boot_id": "boot-0001",
        "mono_ns": 4_000_000,
        "wall_time": "2026-05-01T08:00:04+00:00",
        "clock_synced": True,
        "project_id": "proj-1",
        "lane": "A1",
        "direction": "in",
        "type": "tamper",
        "ref_seq": None,
        "alert": True,
        "operator": None,
        "received_at": first["items"][0]["received_at"],
        "step_s": None,
        "command_id": None,
        "clock_suspect": False,
    }
    rest = await client.get("/api/v1/lane-events", params={"limit": "2", "cursor": first["next_cursor"]})
    body = await rest.json()
    assert [item["seq"] for item in body["items"]] == [2]
    assert body["next_cursor"] is None


async def test_lane_event_filters(client: Client) -> None:
    await store_events(
        store_of(client),
        [
            make_event(1),
            make_lane_event(2, LaneEventType.PASSAGE_CONFIRMED),
            make_lane_event(3, LaneEventType.FORCED_PASSAGE),
            make_lane_event(4, LaneEventType.FIRE_ALARM, device_id="lane-x", project_id="proj-2"),
        ],
    )

    async def seqs(query: str) -> list[int]:
        body = await get_json(client, f"/api/v1/lane-events?{query}")
        return [item["seq"] for item in body["items"]]

    assert await seqs("alert=true") == [4, 3]
    assert await seqs("alert=false") == [2]
    assert await seqs("type=passage_confirmed") == [2]
    assert await seqs("project_id=proj-2") == [4]
    assert await seqs("device_id=lane-t01&alert=true") == [3]
    assert await seqs("since=2026-05-01T16:00:03+08:00&until=2026-05-01T08:00:04Z") == [3]


@pytest.mark.parametrize(
    ("query", "code", "names"),
    [
        ("alert=yes", "invalid_parameter", "'alert'"),
        ("alert=1", "invalid_parameter", "'alert'"),
        ("type=granted", "invalid_parameter", "'type'"),
        ("limit=0", "invalid_parameter", "'limit'"),
        ("since=2026-05-01T08:00:00", "invalid_parameter", "'since'"),
        ("since=2026-05-02T00:00:00Z&until=2026-05-01T00:00:00Z", "invalid_parameter", "'until'"),
        ("cursor=bm90LWEtY3Vyc29y", "invalid_cursor", "'cursor'"),
        ("decision=granted", "unknown_parameter", "'decision'"),
        ("alert=true&alert=false", "invalid_parameter", "'alert'"),
    ],
)
async def test_bad_lane_event_queries_are_400_naming_the_parameter(
    client: Client, query: str, code: str, names: str
) -> None:
    await assert_error(client, f"/api/v1/lane-events?{query}", 400, code, names)


async def test_other_endpoints_refuse_unknown_parameters(client: Client) -> None:
    await assert_error(client, "/api/v1/access-events/counts?limit=5", 400, "unknown_parameter", "'limit'")
    await assert_error(client, "/api/v1/devices?x=1", 400, "unknown_parameter", "'x'")
    await assert_error(client, "/api/v1/dead-letters?limit=0", 400, "invalid_parameter", "'limit'")


async def test_unknown_route_and_wrong_method_are_json(client: Client) -> None:
    await assert_error(client, "/api/v1/nothing-here", 404, "not_found")
    response = await client.post("/api/v1/access-events")
    assert response.status == 405
    assert response.headers["Allow"] == "GET,HEAD"
    body = await response.json()
    assert body["error"]["code"] == "method_not_allowed"


async def test_a_bug_is_a_500_without_internals(client: Client) -> None:
    body = await get_json(client, "/test/boom", 500)
    assert body["error"]["code"] == "internal_error"
    assert "secret" not in body["error"]["message"]


async def test_healthz_is_503_while_the_broker_is_unreachable(client: Client) -> None:
    body = await get_json(client, "/healthz", 503)
    assert body.pop("retention")["failures"] == 0  # hub.retention's counts, a pass racing the request
    assert body == {
        "status": "unavailable",
        "database": "ok",
        "mqtt": "disconnected",
        "last_store": {"result": "none", "age_s": None},
    }


async def test_dead_letters_show_reason_and_size_not_the_body(client: Client) -> None:
    await store_of(client).dead_letter("sitegate/v1/up/lane-t01/event", "invalid AccessEvent", b'{"x": 1}')
    body = await get_json(client, "/api/v1/dead-letters?limit=5")
    [item] = body["items"]
    assert set(item) == {"received_at", "topic", "reason", "size"}
    assert (item["reason"], item["size"]) == ("invalid AccessEvent", 8)


async def test_ingest_and_devices(client: Client) -> None:
    store = store_of(client)
    await store_events(store, [make_event(s) for s in (1, 2, 4)])
    status = PresenceStatus(
        device_id="lane-t01", state=PresenceState.ONLINE, generation=3, at=make_event(1).wall_time
    )
    await store.record_presence(status)
    ingest = await get_json(client, "/api/v1/ingest")
    assert ingest["connected"] is False
    assert set(ingest["counters"]) >= {"accepted", "duplicates", "rejected", "batches"}
    assert ingest["devices"] == [
        {"device_id": "lane-t01", "contiguous_through": 2, "highest_seen": 4, "gap_count": 1}
    ]
    devices = await get_json(client, "/api/v1/devices")
    [device] = devices["devices"]
    assert (device["device_id"], device["presence"], device["presence_generation"]) == (
        "lane-t01",
        "online",
        3,
    )


def test_liveness_is_derived_from_presence_and_silence() -> None:
    from datetime import UTC, datetime, timedelta

    from hub.api.present import liveness
    from hub.devices.records import DeviceStatus

    now = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)

    def status(state: str | None, seen_s_ago: float | None) -> DeviceStatus:
        seen = None if seen_s_ago is None else now - timedelta(seconds=seen_s_ago)
        return DeviceStatus("lane-1", seen, state, 3, seen, None)

    assert liveness(status("online", 44), now, 30) == "online"
    assert liveness(status("online", 46), now, 30) == "offline"  # 1.5 x keep-alive without a word
    assert liveness(status("offline", 1), now, 30) == "offline"
    assert liveness(status(None, None), now, 30) == "offline"
