"""The registration form's server side, without a browser, on both stores: a card read held by the
hub registers with its reader recorded and is used once; a typed ID number registers unmarked by
any reader; typed numbers are lookups, throttled per account as the API's are; what was typed comes
back beside the error. (The whole path through a real reader in Chromium: test_registration.py.)"""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from hub.api.card_reads import CARD_READS
from hub.app import create_app
from hub.config import HttpLimits, HubConfig
from sitegate.netutil import free_port
from tests.hub.registry.conftest import PASSWORD, Client, World, http_world, new_number
from wire.models import CardKind, OfficeCardRead

__all__ = ["http_world"]  # the registry's world, in this module's client's database

LOOKUPS_PER_MIN = 3


@pytest.fixture
async def client(database_url: str, tmp_path: Path) -> AsyncIterator[Client]:
    config = HubConfig(
        database_url=database_url, mqtt_port=free_port(), data_key_file=tmp_path / "data.key",
        http=HttpLimits(lookups_per_account_per_min=LOOKUPS_PER_MIN),
    )  # fmt: skip
    async with TestClient(TestServer(create_app(config))) as test_client:
        yield test_client


async def signed_in(client: Client, username: str) -> str:
    """Log in through the console's form; the registration page's CSRF token."""
    response = await client.post("/console/login", data={"username": username, "password": PASSWORD})
    assert response.status == 200, await response.text()  # followed to the overview
    page = await (await client.get("/console/projects/site-a/registration")).text()
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert found is not None
    return found.group(1)


async def register(client: Client, csrf: str, **fields: str) -> tuple[int, str]:
    form = {"csrf": csrf, "role": "worker", "entry_date": "2026-03-02", **fields}
    response = await client.post(
        "/console/projects/site-a/registration/entry", data=form, allow_redirects=False
    )
    if response.status == 303:
        return 303, response.headers["Location"]
    return response.status, await response.text()


async def person_of(world: World) -> tuple[str, str]:
    person = await world.person()
    return person.id, world.numbers[person.id]


def held_read(client: Client, id_number: str, name: str = "张伟") -> int:
    """A read of the site office's reader, as the ingest would hold it."""
    read = OfficeCardRead(
        device_id="office-1", read_id=secrets.token_hex(16), read_at=datetime.now(UTC), clock_synced=True,
        card_kind=CardKind.RESIDENT, name=name, id_number=id_number,
    )  # fmt: skip
    held = client.app[CARD_READS].hold(read, project_id="site-a", lane="O1")
    assert held is not None
    return held.number


async def assignment(client: Client, world: World, person_id: str) -> dict[str, Any]:
    registry = world.registry.acting_for(world.gc_project)
    [found] = (await registry.assignments("site-a", person_id=person_id)).items
    return {"entry_read_device": found.entry_read_device, "enterprise_id": found.enterprise_id}


async def test_a_held_card_read_registers_with_its_reader_once(client: Client, http_world: World) -> None:
    world = http_world
    csrf = await signed_in(client, "site-a-gc")
    person_id, number = await person_of(world)
    read = held_read(client, number)
    page = await (await client.get(f"/console/projects/site-a/registration?read={read}")).text()
    assert "张伟" in page and number in page
    status, where = await register(client, csrf, read=str(read), enterprise=world.sub.name)
    assert status == 303 and "done=" in where, where
    assert await assignment(client, world, person_id) == {
        "entry_read_device": "office-1",
        "enterprise_id": world.sub.id,
    }
    status, again = await register(client, csrf, read=str(read), enterprise=world.sub.name)
    assert status == 422 and "本次读卡已失效或已使用" in again  # a read is used once


async def test_a_typed_number_registers_without_a_reader(client: Client, http_world: World) -> None:
    world = http_world
    csrf = await signed_in(client, "site-a-gc")
    person_id, number = await person_of(world)
    status, page = await register(client, csrf, id_number=number, enterprise="没有这家企业")
    assert status == 422 and "请按名称或统一社会信用代码" in page and 'value="没有这家企业"' in page
    status, where = await register(client, csrf, id_number=number, enterprise=world.sub.number)
    assert status == 303, where
    assert (await assignment(client, world, person_id))["entry_read_device"] is None
    page = await (await client.get(where)).text()
    assert "未经读卡登记" in page


async def test_typed_numbers_are_throttled_lookups(client: Client, http_world: World) -> None:
    world = http_world
    csrf = await signed_in(client, "site-a-gc")
    for _ in range(LOOKUPS_PER_MIN):
        status, page = await register(
            client, csrf, id_number=new_number(world.rng), enterprise=world.sub.name
        )
        assert status == 422 and "尚无备案人员" in page
    status, page = await register(client, csrf, id_number=new_number(world.rng), enterprise=world.sub.name)
    assert status == 422 and "请求过于频繁" in page
    _, number = await person_of(world)
    read = held_read(client, number)  # a card on the reader is no lookup: not throttled
    status, _ = await register(client, csrf, read=str(read), enterprise=world.sub.name)
    assert status == 303


async def test_only_the_registering_departments_open_the_page(client: Client, http_world: World) -> None:
    response = await client.post(
        "/console/login", data={"username": "site-a-supervision", "password": PASSWORD}
    )
    assert response.status == 200
    page = await client.get("/console/projects/site-a/registration")
    assert page.status == 403 and "只有项目部" in await page.text()


async def test_the_page_in_english_for_a_browser_asking_for_it(client: Client, http_world: World) -> None:
    await signed_in(client, "site-a-gc")
    page = await client.get("/console/projects/site-a/registration", headers={"Accept-Language": "en"})
    text = await page.text()
    assert "Registration onto the project (进场登记)" in text and "Registered without a card read" in text
