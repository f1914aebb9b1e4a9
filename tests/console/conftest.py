"""The console in a real headless Chromium (Debian's ``chromium``, driven by playwright with the
system browser: never a downloaded one): a hub with a broker, on a world made once per
module (the oversight tests' registry and passages, orders, a deduction, an inspection, a lane's
heartbeats), one browser per test process lent to each module in turn (:class:`SharedChromium`),
a fresh context per login. Screenshots of the pages the tests visit go to ``artifacts/console/``
when asked for (``make console-shots``, which sets
``SITEGATE_CONSOLE_SHOTS=1``): a full-page PNG costs Chromium a few hundred ms of CPU, and the 70-odd
of them were about a tenth of the console tests' time in every ``make test``, for pictures nobody
looked at unless reviewing the console. tests/console/test_screenshots.py (docs/console.png and the
contact sheet) takes its own pictures in every run.

The world is built at :data:`AT` and the hub (served from a thread of the test process,
:mod:`tests.console.threaded_hub`) runs on a FakeClock standing at that same instant, so "today",
"on site now" and "the last 30 minutes" mean the same at any hour. No test depends on another
having run first (under pytest-xdist a module's tests may run on two workers, each with a world of
its own): the order the GC department answers and the one the city reviews are two orders."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from hub.events.journal import store_events
from hub.registry import default_data_key_path
from hub.store import Store
from hub.store.schema import accounts, inspections
from hub.workflows import deductions, orders
from hub.workflows.bulletins import BulletinIn, BulletinKind, Bulletins, PartyIn, PartyKind
from hub.workflows.models import DeductionIn, OrderIn, ResponseIn
from sitegate.hubproc import HubAddress
from sitegate.mosquitto import Mosquitto
from tests.console.threaded_hub import threaded_hub
from tests.hub.clocked import NOON
from tests.hub.factories import make_event
from tests.hub.oversight import world as w
from tests.hub.workflows.conftest import ACCOUNTS, seal_ids
from tests.support.accounts import TEST_PASSWORD, create_account
from tests.support.clock import FakeClock
from wire.models import Heartbeat, ReaderState, Reason

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = Path("/usr/lib/chromium/chromium-headless-shell")
"""Debian's chromium-headless-shell: the same Blink and V8 as the chromium package, without the
browser's windowing layer (Playwright's own default for headless runs). Measured on three console
modules, the full browser in ``--headless`` mode took 71 CPU-s (53 of them Chromium's) where this
takes 38 (19). /usr/bin/chromium-headless-shell is a shell script that does not exec, so the binary
is named: closing the browser must reach Chromium itself."""
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--in-process-gpu", "--disable-lcd-text", "--disable-partial-raster", "--num-raster-threads=1",
    "--renderer-process-limit=1", "--disable-site-isolation-trials", "--disable-threaded-animation",
    "--disable-threaded-scrolling", "--disable-checker-imaging", "--disable-smooth-scrolling",
    "--js-flags=--lite-mode",
]  # fmt: skip
"""Launch flags for a test browser that paints a page once and is read, not watched. After the first
line (headless, no sandbox, no GPU, no network chatter): the GPU process's work (software
compositing) done in the browser process, one raster thread, no LCD text or partial raster, no
threaded animation or scrolling, no checker-imaging, a renderer process limit and no site-isolation
trials, and V8 in lite mode (no optimizing compiler: a console page runs little script, and
Playwright's injected script is compiled again on every page). Measured on this 2-core machine with
every Chromium process's CPU read from /proc (renderers and the zygote's children are not reaped
into any rusage): tests/console -n 2, Chromium 67.8 -> 58.8 CPU-s, all processes 158 -> 140; a fixed
run of 70-odd page loads, 6.0 -> 5.1. Tried and not kept: --single-process (the browser closes on
the second context), --enable-low-end-device-mode and --font-render-hinting=none (no better, within
noise), --disable-software-rasterizer and --disable-gpu-compositing (no change). Playwright passes
its own --disable-features, --enable-features and --blink-settings: giving one of those here would
replace Playwright's list, not add to it."""
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "console"
PASSWORD = TEST_PASSWORD
AT = NOON
"""The instant the world is built at and the hub's clock stands at."""
LANGUAGE_ACCOUNTS = {"gc-a-en": "en", "gc-a-browser": None, "gc-a-switch": None, "gc-a-forged": None}
"""More accounts of the GC department (each test that changes or reads a language has its own):
(username -> accounts.locale)."""


@dataclass
class Console:
    hub: HubAddress
    browser: Any
    world: w.World
    order_id: int
    """Open, to the GC department's project: for it to answer."""
    responded_id: int
    """Answered by the GC department already: for the city to review."""
    broker: Mosquitto | None = None
    """The hub's broker (plain, anonymous): for a test that plays a lane."""
    database: Path | None = None
    """The hub's SQLite file: for a module that adds to the world while the hub runs."""

    @property
    def base(self) -> str:
        return self.hub.base_url

    def login(self, username: str, *, phone: bool = False, locale: str = "zh-CN") -> Any:
        """A fresh browser context (its own cookies) logged in as ``username`` through the sign-in
        form, as a person does; returns its page, on the overview (``/console/``). ``locale`` is the
        browser's language (its ``Accept-Language``)."""
        page = self._fresh_page(phone=phone, locale=locale)
        page.goto(f"{self.base}/console/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{self.base}/console/")
        return page

    def signed_in(self, username: str, *, phone: bool = False, locale: str = "zh-CN") -> Any:
        """A fresh browser context logged in as ``username``, and a blank page in it: for a test
        that goes to a page of its own at once. The sign-in form is posted by the context's request
        API (its cookies are the context's) and its redirect not followed, so neither Chromium nor
        the hub renders the sign-in page and the overview, the heaviest page, for nothing: ≈0.7 s
        of CPU less a login (measured: ≈1.4 s through the form, ≈0.7 s so, most of it Chromium's
        new page), 45-odd logins. The form itself and the overview are test_console's."""
        page = self._fresh_page(phone=phone, locale=locale)
        response = page.request.post(
            f"{self.base}/console/login",
            form={"username": username, "password": PASSWORD},
            max_redirects=0,
        )
        if response.status != 303 or response.headers.get("location") != "/console/":
            pytest.fail(f"{username} was not logged in: {response.status} {response.text()[:200]}")
        return page

    def _fresh_page(self, *, phone: bool, locale: str) -> Any:
        viewport = {"width": 390, "height": 844} if phone else {"width": 1280, "height": 900}
        context = self.browser.new_context(viewport=viewport, accept_downloads=True, locale=locale)
        return context.new_page()


SHOTS_WANTED = os.environ.get("SITEGATE_CONSOLE_SHOTS") == "1"
"""Whether the tests photograph the pages they visit (``make console-shots``)."""


def shot(page: Any, name: str) -> None:
    if not SHOTS_WANTED:
        return
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _beat(sent: Any, backlog: int) -> Heartbeat:
    return Heartbeat(
        device_id="lane-a-in", sent_at=sent, boot_id="boot-0001", uptime_s=600, free_disk_mb=812,
        journal_backlog=backlog, roster_version=4, reader_status={"id": ReaderState.OK}, clock_synced=True,
        software_version="0.1.0", cpu_temp_c=48.5,
    )  # fmt: skip


async def build_world(database: Path) -> tuple[w.World, int, int]:
    url = f"sqlite+aiosqlite:///{database}"
    clock = FakeClock(AT)
    now, today = clock.wall(), clock.today()
    async with await Store.open(url, clock=clock) as store:
        world = await w.build(store, now)
        await seal_ids(store, world, default_data_key_path(url))
        principals = {}
        for username, p in ACCOUNTS.items():
            principals[username] = await create_account(
                store, role=p.role, username=username, district=p.district,
                enterprise_id=p.enterprise_id, project_id=p.project_id,
            )  # fmt: skip
        for username, locale in LANGUAGE_ACCOUNTS.items():
            made = await create_account(
                store, role=w.GC_A.role, username=username, enterprise_id=w.GC_A.enterprise_id,
                project_id=w.GC_A.project_id,
            )  # fmt: skip
            async with store.write("test account locale") as conn:
                await conn.execute(
                    update(accounts).where(accounts.c.id == made.account_id).values(locale=locale)
                )
        hit = make_event(
            900, device_id="lane-a-in", project_id="proj-a", wall_time=now - timedelta(minutes=20),
            granted=False, reason=Reason.WATCHLISTED,
        )  # fmt: skip
        await store_events(store, [hit])
        for minute in range(30, 0, -1):
            at = now - timedelta(minutes=minute)
            await store.record_heartbeat(_beat(at - timedelta(seconds=2), minute % 7), received_at=at)
        xihu = principals["district-xihu"]
        order = await orders.Orders(store, xihu).issue(
            OrderIn(project_id="proj-a", subject="考勤记录不全", requirements="补录闸机故障期间的进出记录",
                    deadline=today + timedelta(days=7)),
            now=now,
        )  # fmt: skip
        answered = await orders.Orders(store, xihu).issue(
            OrderIn(project_id="proj-a", subject="管理人员考勤", requirements="补录项目经理考勤",
                    deadline=today + timedelta(days=7)),
            now=now,
        )  # fmt: skip
        responder = orders.Orders(store, principals["gc-a"])
        await responder.respond(answered.id, ResponseIn(response="已补录"), now=now)
        await deductions.Deductions(store, xihu).deduct(
            DeductionIn(enterprise_id="ent-gc1", points=2, reason="未按期报备", order_id=order.id),
            now=now,
        )
        async with store.write("inspection") as conn:
            await conn.execute(
                inspections.insert().values(
                    project_id="proj-a", account_id=principals["sup-a"].account_id, inspected_on=today,
                    findings="实名制考勤正常; 东门闸机读卡偶有延迟", created_at=now,
                )
            )  # fmt: skip
        praise = BulletinIn(
            kind=BulletinKind.COMMENDATION, title="关于实名制管理先进项目的通报", body="该项目实名制管理规范，予以通报表扬。",
            parties=(PartyIn(kind=PartyKind.PROJECT, id="proj-a"),),
        )  # fmt: skip
        await Bulletins(store, xihu).issue(praise, now=now)  # bulletin 1
    return world, order.id, answered.id


@dataclass(frozen=True)
class WorldFiles:
    """The console's world, built once per test process: a module copies the directory (the
    database and its data key) instead of building the world again (≈0.6 s of CPU a module, 35
    modules)."""

    directory: Path
    world: w.World
    order_id: int
    responded_id: int

    def copy_to(self, workdir: Path) -> Path:
        shutil.copytree(self.directory, workdir, dirs_exist_ok=True)  # copy2: the key stays 0600
        return workdir / "hub.db"


@pytest.fixture(scope="session")
def world_files(tmp_path_factory: pytest.TempPathFactory) -> WorldFiles:
    directory = tmp_path_factory.mktemp("console-world")
    world, order_id, responded_id = asyncio.run(build_world(directory / "hub.db"))
    return WorldFiles(directory, world, order_id, responded_id)


class SharedChromium:
    """The test process's one playwright driver and one Chromium, started when a module first asks
    for a browser and lent to each console module in turn (a driver and a Chromium cost ≈1 s of
    CPU to start, and a worker runs a dozen such modules); each module keeps its own hub, broker
    and world, each login its own context.

    Playwright's sync API runs its event loop in a greenlet of this thread and, between its calls,
    marks that loop as the thread's running loop (playwright/_impl/_greenlets.py): while it is so
    marked, ``asyncio.run`` and pytest-asyncio refuse to start a loop. A module's playwright used
    to go away with the module; this one outlives it, so the mark is set only while a module holds
    the browser (:meth:`lent`) and cleared when it gives it back, for the async tests the worker
    runs next (and a fixture's own ``asyncio.run`` before it borrows the browser)."""

    def __init__(self) -> None:
        self._playwright: Any = None
        self._browser: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @contextmanager
    def lent(self) -> Iterator[Any]:
        """The browser for one module; every context the module opened is closed when it ends."""
        if self._browser is None:
            self._start()
        else:
            asyncio._set_running_loop(self._loop)  # playwright's calls run its loop again
        try:
            yield self._browser
        finally:
            try:
                for context in self._browser.contexts:
                    context.close()
            finally:
                asyncio._set_running_loop(None)

    def _start(self) -> None:
        playwright = playwright_api.sync_playwright().start()
        try:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        except BaseException:
            playwright.stop()
            raise
        self._loop = asyncio.get_running_loop()  # playwright's, marked by its last call
        self._playwright, self._browser = playwright, browser

    def stop(self) -> None:
        if self._playwright is None:
            return
        asyncio._set_running_loop(self._loop)
        try:
            self._browser.close()
        finally:
            self._playwright.stop()


@pytest.fixture(scope="session")
def chromium() -> Iterator[SharedChromium]:
    shared = SharedChromium()
    yield shared
    shared.stop()


def needs_a_browser_and_a_broker() -> None:
    if not CHROMIUM.exists() or shutil.which("mosquitto") is None:
        pytest.skip("needs Debian's chromium-headless-shell and mosquitto (make test installs both)")


@pytest.fixture(scope="module")
def console(
    tmp_path_factory: pytest.TempPathFactory, world_files: WorldFiles, chromium: SharedChromium
) -> Iterator[Console]:
    needs_a_browser_and_a_broker()
    workdir = tmp_path_factory.mktemp("console")
    database = world_files.copy_to(workdir)
    world, order_id, responded_id = world_files.world, world_files.order_id, world_files.responded_id
    with (
        Mosquitto() as broker,
        threaded_hub(database, broker, AT, name=workdir.name) as hub,
        chromium.lent() as browser,
    ):
        yield Console(hub, browser, world, order_id, responded_id, broker, database=database)
