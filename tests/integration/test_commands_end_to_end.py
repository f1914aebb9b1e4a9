"""Commands from the hub's API to a running lane over the real broker, and the answers back."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.integration.test_swipe_to_hub import DUTY, RELAY_IN, Site, site  # noqa: F401 - the running site

pytestmark = [pytest.mark.broker, pytest.mark.serial, pytest.mark.any_hour]


async def connected(site: Site) -> None:  # noqa: F811
    deadline = time.monotonic() + 10
    while True:
        body = await (await site.hub.get("/api/v1/devices")).json()
        if any(d["device_id"] == "lane-it-1" and d["status"] == "online" for d in body["devices"]):
            return
        assert time.monotonic() < deadline, "the lane never showed up online"
        await asyncio.sleep(0.05)


async def post(site: Site, body: dict, device: str = "lane-it-1"):  # noqa: F811
    return await site.hub.post(f"/api/v1/devices/{device}/commands", json=body)


async def test_remote_open_reaches_the_lane_and_is_on_the_record(site: Site) -> None:  # noqa: F811
    await connected(site)
    response = await post(site, {"action": "remote_open"})
    assert response.status == 200, await response.text()
    command = (await response.json())["command"]
    assert command["result"]["ok"] is True and command["result"]["detail"] == "arm released"
    assert True in [state for _, state in site.pins.pin(RELAY_IN).states]

    deadline = time.monotonic() + 10
    while True:
        items = (await (await site.hub.get("/api/v1/lane-events", params={"type": "remote_open"})).json())[
            "items"
        ]
        if items:
            break
        assert time.monotonic() < deadline, "the remote open never reached the hub's record"
        await asyncio.sleep(0.05)
    assert items[0]["operator"] == DUTY  # the logged-in account, journaled by the lane


async def test_disable_then_swipe_is_refused_and_commands_are_listed(site: Site) -> None:  # noqa: F811
    await connected(site)
    assert (await post(site, {"action": "disable_lane"})).status == 200
    assert site.lane.disabled
    refused = await post(site, {"action": "remote_open"})
    assert (await refused.json())["command"]["result"] == {
        "ok": False,
        "detail": "lane is disabled; enable it first",
        "at": (await refused.json())["command"]["result"]["at"],
    }
    listed = (await (await site.hub.get("/api/v1/devices/lane-it-1/commands")).json())["commands"]
    assert [(c["action"], c["operator"]) for c in listed] == [("remote_open", DUTY), ("disable_lane", DUTY)]


async def test_bad_requests_get_specific_errors(site: Site) -> None:  # noqa: F811
    await connected(site)
    unknown = await post(site, {"action": "remote_open"}, device="lane-nobody")
    assert unknown.status == 404
    assert (await unknown.json())["error"]["message"] == (
        "device lane-nobody not found (never connected, or not among this account's lanes)"
    )
    chosen = await post(site, {"action": "remote_open", "operator": "someone-else"})
    assert chosen.status == 400  # the operator is the account behind the token, never the body's
    assert "operator: Extra inputs are not permitted" in (await chosen.json())["error"]["message"]
    bad = await post(site, {"action": "self_destruct"})
    assert bad.status == 400
    assert "action: Input should be" in (await bad.json())["error"]["message"]
    stale = await post(site, {"action": "remote_open", "ttl_s": 900})
    assert stale.status == 400 and "ttl_s" in (await stale.json())["error"]["message"]
    extra = await post(site, {"action": "reboot", "wait_s": 0, "force": True})
    assert (
        extra.status == 400
        and "force: Extra inputs are not permitted" in (await extra.json())["error"]["message"]
    )
