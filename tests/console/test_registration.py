"""进场/离场登记 with the card, in Chromium, on real parts: the pty GA/T 467 module emulator, a lane in
registration mode (the office reader, placed at proj-a's site office), mosquitto, the hub process,
and the registration page, which shows the read (waited for, never timed), is confirmed, and
registers the person with the reader recorded; a typed ID number is registered and marked as such;
without script the "读取" button still brings the read. Synthetic identities only.

The world is the console's (tests/console/conftest.py) plus the office reader and persons
registered (作业人员备案) by the city for these tests, each test its own person.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory
from sqlalchemy import update

from controller.cli import build_service
from controller.config import load_config
from hardware.emulators.id_module import IdModuleEmulator
from hardware.emulators.identities import synthetic_identity
from hub.auth.principal import Role
from hub.registry import IdVault, RegistryDesk, default_data_key_path, load_data_key
from hub.registry.models import PersonIn
from hub.store import Store
from hub.store.schema import gates, projects
from sitegate.mosquitto import Mosquitto
from tests.console.conftest import (
    AT,
    PASSWORD,
    Console,
    SharedChromium,
    build_world,
    needs_a_browser_and_a_broker,
    shot,
)
from tests.console.threaded_hub import threaded_hub
from tests.support.accounts import create_account
from tests.support.clock import FakeClock
from tests.support.placed import make_office_readers
from wire.clock import SITE_ZONE

pytestmark = [pytest.mark.broker, pytest.mark.serial]

OFFICE = "office-a"
SUB_NAME = "拱墅劳务有限公司"
"""ent-sub1, a party of proj-a (tests/hub/oversight/world.py)."""
PEOPLE = 5
"""Synthetic persons registered for these tests (each test takes its own)."""
PAGE = "/console/projects/proj-a/registration"


@dataclass
class Person:
    id: str
    name: str
    id_number: str
    card: Any


@dataclass
class Desk:
    console: Console
    reader: OfficeReader
    database: Path
    people: list[Person]

    def person(self, n: int) -> Person:
        return self.people[n]

    def roster_entries(self) -> int | None:
        """How many entries proj-a's newest roster version (the lanes' roster) holds."""
        with contextlib.closing(sqlite3.connect(self.database)) as db:
            row = db.execute("SELECT entries FROM roster_versions WHERE project_id = 'proj-a'").fetchone()
        return None if row is None else int(row[0])

    def assignment(self, person: Person) -> Any:
        """The person's assignment on proj-a, as stored (read beside the hub: the browser's driver
        holds this thread's event loop)."""
        with contextlib.closing(sqlite3.connect(self.database)) as db:
            db.row_factory = sqlite3.Row
            query = "SELECT * FROM assignments WHERE person_id = ? AND project_id = 'proj-a'"
            return db.execute(query, (person.id,)).fetchone()


class OfficeReader:
    """The site office's reader: a lane in registration mode with its emulated ID module, on an
    event loop of its own thread (the browser test drives playwright synchronously)."""

    def __init__(self, directory: Path, broker: Mosquitto) -> None:
        self.emulator = IdModuleEmulator()
        directory.mkdir()
        (directory / "site.key").write_text(bytes(range(32)).hex())
        (directory / "controller.toml").write_text(
            f'device_id = "{OFFICE}"\nproject_id = "proj-a"\nlane = "O1"\ndirection = "in"\n'
            f'mode = "registration"\ndata_dir = "{directory}"\nsite_key_file = "{directory / "site.key"}"\n'
            f'pin_factory = "mock"\n[readers.id_module]\nport = "{self.emulator.port}"\npoll_interval_s = 0.05\n'
            f'[mqtt]\nhost = "{broker.host}"\nport = {broker.port}\n'
        )
        self._config = directory / "controller.toml"
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="office-reader", daemon=True)
        self._stopping: Any = None

    def __enter__(self) -> OfficeReader:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(30)
        return self

    async def _start(self) -> None:
        pins = MockFactory()
        service = build_service(load_config(self._config), pin_factory=pins, clock=FakeClock(AT))
        reader = service.sources[0]
        await reader.__aenter__()  # type: ignore[attr-defined]
        task = asyncio.create_task(service.run())

        async def stop() -> None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await reader.__aexit__(None, None, None)  # type: ignore[attr-defined]
            service.close()
            pins.reset()

        self._stopping = stop
        for _ in range(500):
            if service.uplink is not None and service.uplink.connected:
                return
            await asyncio.sleep(0.02)
        raise AssertionError("the office reader did not connect to the broker")

    def __exit__(self, *exc: object) -> None:
        if self._stopping is not None:
            asyncio.run_coroutine_threadsafe(self._stopping(), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self.emulator.close()


async def _build(database: Path) -> list[Person]:
    """The console's world, the office reader placed at proj-a, and persons the city registered."""
    await build_world(database)
    url = f"sqlite+aiosqlite:///{database}"
    async with await Store.open(url, clock=FakeClock(AT)) as store:
        async with store.write("test: office reader") as conn:
            await conn.execute(
                gates.insert().values(
                    device_id=OFFICE, project_id="proj-a", lane="O1", direction="in", name="项目部"
                )
            )
        await make_office_readers(store, [OFFICE])
        city = await create_account(store, role=Role.CITY, username="city-registration")
        vault = IdVault(load_data_key(default_data_key_path(url)))
        async with store.write("test: a site key") as conn:  # the oversight world's is a placeholder
            sealed = vault.seal_site_key("proj-a", vault.new_site_key())
            await conn.execute(
                update(projects).where(projects.c.id == "proj-a").values(site_key_cipher=sealed)
            )
        registry = RegistryDesk(store, vault, clock=FakeClock(AT), fast_hash=True).acting_for(city)
        people = []
        for n in range(PEOPLE):
            card = synthetic_identity(random.Random(f"registration-{n}"), valid_to=None)
            data = PersonIn(
                card_kind="resident", id_number=card.id_number, name=card.name, enterprise_id="ent-sub1",
                category="worker",
            )  # fmt: skip
            person = await registry.register_person(data)
            people.append(Person(person.id, card.name, card.id_number, card))
        return people


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory, chromium: SharedChromium) -> Iterator[Desk]:
    needs_a_browser_and_a_broker()
    workdir = tmp_path_factory.mktemp("registration")
    database = workdir / "hub.db"
    people = asyncio.run(_build(database))
    with (
        Mosquitto() as broker,
        threaded_hub(database, broker, AT, name=workdir.name) as hub,
        OfficeReader(workdir / "office", broker) as reader,
        chromium.lent() as browser,
    ):
        yield Desk(Console(hub, browser, None, 0, 0), reader, database, people)  # type: ignore[arg-type]


def present(desk: Desk, person: Person) -> None:
    desk.reader.emulator.remove()
    desk.reader.emulator.present(person.card)


def test_a_card_read_at_the_office_reaches_the_form_and_registers_the_person(desk: Desk) -> None:
    person = desk.person(0)
    page = desk.console.signed_in("gc-a")
    page.goto(desk.console.base + PAGE)
    assert "进场登记" in page.inner_text("main") and "离场登记" in page.inner_text("main")
    page.wait_for_selector("#waiting")
    present(desk, person)
    page.wait_for_selector(f"#read-name:has-text('{person.name}')", timeout=20_000)
    assert page.inner_text("#read-id") == person.id_number  # whole: the registering department's
    assert page.inner_text("#read-problem") == "证件有效。"
    assert "未在本项目" in page.inner_text("#read-registry") or "已备案" in page.inner_text("#read-registry")
    shot(page, "registration-desktop")
    page.fill("#entry-form input[name=enterprise]", SUB_NAME)
    page.select_option("#entry-form select[name=role]", "worker")
    entries = desk.roster_entries()
    page.click("#confirm-entry")
    page.wait_for_selector("#done")
    done = page.inner_text("#done")
    assert person.name in done and SUB_NAME in done and "读卡" in done and OFFICE in done
    assert page.query_selector("#waiting") is not None  # the read is used once: the form is clear
    row = page.inner_text(f"#roster tr:has-text('{person.name}')")
    assert SUB_NAME in row and OFFICE in row
    stored = desk.assignment(person)
    assert (stored["enterprise_id"], stored["entry_read_device"], stored["exit_read_device"]) == (
        "ent-sub1",
        OFFICE,
        None,
    )
    for _ in range(200):  # the lanes' roster takes the person (the publisher mints in the background)
        if desk.roster_entries() == (entries or 0) + 1:
            break
        page.wait_for_timeout(50)
    assert desk.roster_entries() == (entries or 0) + 1

    present(desk, person)  # 离场登记: the same card again
    page.wait_for_selector(f"#read-name:has-text('{person.name}')", timeout=20_000)
    assert "本项目" in page.inner_text("#read-registry")
    page.click("#confirm-exit")
    page.wait_for_selector("#done-exit")
    left = desk.assignment(person)
    assert (left["exit_read_device"], left["exit_date"]) == (
        OFFICE,
        AT.astimezone(SITE_ZONE).date().isoformat(),
    )
    page.context.close()


def test_a_typed_id_number_is_registered_and_marked(desk: Desk) -> None:
    person = desk.person(1)
    page = desk.console.signed_in("gc-a")
    page.goto(desk.console.base + PAGE)
    assert "未经读卡登记" in page.inner_text("#entry-form")
    assert "项目经理" in page.inner_text("#roster tr:has-text('刘静')")  # a manager's position (四类人员)
    page.fill("#entry-form input[name=id_number]", person.id_number)
    page.fill("#entry-form input[name=enterprise]", "不存在的公司")
    page.click("#confirm-entry")
    error = page.inner_text("#entry-form .field-error")
    assert "请按名称或统一社会信用代码" in error
    assert page.input_value("#entry-form input[name=enterprise]") == "不存在的公司"  # what was typed is kept
    assert page.input_value("#entry-form input[name=id_number]") == person.id_number
    number = page.eval_on_selector("#enterprise-choices option", "o => o.value")
    assert re.search(r"（.+）$", number)
    page.fill("#entry-form input[name=enterprise]", number.split("（")[1].rstrip("）"))  # by its credit code
    page.click("#confirm-entry")
    page.wait_for_selector("#done")
    assert "未经读卡登记" in page.inner_text("#done")
    assert "未经读卡登记" in page.inner_text(f"#roster tr:has-text('{person.name}')")
    assert desk.assignment(person)["entry_read_device"] is None
    page.context.close()


def test_without_script_the_read_button_brings_the_read(desk: Desk) -> None:
    person = desk.person(2)
    context = desk.console.browser.new_context(java_script_enabled=False, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{desk.console.base}/console/login")
    page.fill("input[name=username]", "gc-a")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(desk.console.base + PAGE)
    present(desk, person)
    for _ in range(100):
        page.click("#take-read")
        if page.query_selector("#read-name") and person.name in page.inner_text("#read-name"):
            break
        page.wait_for_timeout(200)
    assert person.name in page.inner_text("#read-name")
    page.fill("#entry-form input[name=enterprise]", SUB_NAME)
    page.click("#confirm-entry")
    assert OFFICE in page.inner_text("#done")
    assert desk.assignment(person)["entry_read_device"] == OFFICE
    context.close()


def test_a_subcontractor_registers_its_own_people_and_picks_one_leaving(desk: Desk) -> None:
    person = desk.person(3)
    page = desk.console.signed_in("sub-a")
    page.goto(desk.console.base + PAGE)
    offered = page.eval_on_selector_all("#enterprise-choices option", "options => options.map(o => o.value)")
    assert len(offered) == 1 and offered[0].startswith(SUB_NAME)  # its own enterprise only
    page.fill("#entry-form input[name=id_number]", person.id_number)
    page.fill("#entry-form input[name=enterprise]", offered[0])
    page.click("#confirm-entry")
    assert "未经读卡登记" in page.inner_text("#done")
    page.select_option("#exit-form select[name=assignment]", label=f"{person.name} · {SUB_NAME} · 作业人员")
    page.click("#confirm-exit")
    page.wait_for_selector("#done-exit")
    left = desk.assignment(person)
    assert (left["exit_date"], left["exit_read_device"]) == (
        AT.astimezone(SITE_ZONE).date().isoformat(),
        None,
    )
    page.context.close()


def test_the_registration_page_on_a_phone(desk: Desk) -> None:
    page = desk.console.signed_in("gc-a", phone=True)
    page.goto(desk.console.base + PAGE)
    assert "进场登记" in page.inner_text("main")
    shot(page, "registration-phone")
    page.context.close()


def test_supervision_does_not_register(desk: Desk) -> None:
    page = desk.console.signed_in("sup-a")
    response = page.goto(desk.console.base + PAGE)
    assert response is not None and response.status == 403
    assert "项目部" in page.inner_text("main")
    page.context.close()
