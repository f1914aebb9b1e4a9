"""The live screen (大屏) in Chromium at 1920×1080 against a running hub: its figures in Chinese,
its screenshot, and a passage stored by the hub reaching the open page through its event stream
(the script re-reads the figures: the entries count goes up without a reload)."""

from __future__ import annotations

from typing import Any

import aiomqtt
import pytest

from tests.console.conftest import AT, Console, shot
from tests.hub.factories import make_event
from tests.support.postgres import run_in_thread
from wire.codec import encode
from wire.topics import Channel, topic_for

pytestmark = [pytest.mark.broker, pytest.mark.timeout(300)]

WALL = {"width": 1920, "height": 1080}


def screen(console: Console, username: str) -> Any:
    page = console.signed_in(username)
    page.set_viewport_size(WALL)
    page.goto(f"{console.base}/console/screen")
    return page


def test_the_city_screen_fills_a_wall_in_chinese(console: Console) -> None:
    page = screen(console, "city")
    assert page.locator("h1").inner_text().endswith("全市")
    assert "在场人员" in page.locator(".big").inner_text()
    assert "闸机离线" in page.locator("#alert-counts").inner_text()
    assert page.locator("#chart svg.chart.wide").count() == 1
    # Large type, dark background, nothing past the wall's edges.
    assert page.evaluate("getComputedStyle(document.getElementById('on-site')).fontSize") == "120px"
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(11, 19, 32)"
    assert page.evaluate("document.documentElement.scrollWidth") <= WALL["width"]
    shot(page, "screen-city")


def test_a_district_screen_counts_its_own_district(console: Console) -> None:
    page = screen(console, "district-gongshu")
    assert "西湖" not in page.locator("#by-district").inner_text()
    shot(page, "screen-gongshu")


def test_the_screen_refuses_a_project_department(console: Console) -> None:
    page = console.signed_in("gc-a")
    response = page.goto(f"{console.base}/console/screen")
    assert response is not None and response.status == 403


def test_a_stored_passage_reaches_the_open_screen(console: Console) -> None:
    page = screen(console, "city")
    page.wait_for_selector("#screen[data-live=yes]", timeout=10_000)
    before = int(page.locator("#entries-today").inner_text())
    passage = make_event(
        950, device_id="lane-a-in", project_id="proj-a", person_id="per-w2", wall_time=AT
    ).model_copy(update={"boot_id": "boot-screen"})
    run_in_thread(_lane_publishes(console, encode(passage)))  # playwright's loop holds this thread
    page.wait_for_selector("#screen[data-updated]", timeout=15_000)  # waits; asserts no time
    page.wait_for_function(
        f"Number(document.getElementById('entries-today').textContent) > {before}", timeout=15_000
    )


async def _lane_publishes(console: Console, payload: bytes) -> None:
    assert console.broker is not None
    async with aiomqtt.Client(
        console.broker.host,
        console.broker.port,
        identifier="test-screen-lane",
        protocol=aiomqtt.ProtocolVersion.V5,
    ) as client:
        await client.publish(topic_for("lane-a-in", Channel.EVENT), payload, qos=1)
