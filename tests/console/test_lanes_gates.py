"""A project's gates and lanes in a real headless Chromium (issue 14): the GC project department
adds gates (``both`` refused beside the field, what was typed kept; an office reader with no
direction), issues an enrolment token and sees the exact ``setup-lane.sh`` command with its QR
code (the token in it enrols that very gate), renames, moves and removes a gate (a confirmation
first; the lane revoked); supervision reads the page without a form; the hub operator places
gates but issues no token. Each page in Chinese, desktop and phone screenshots in
``artifacts/console/``.

The hub is the app in this process (an aiohttp test server on a loopback port) with a CA, so the
browser and the test's own API calls meet the same hub; SQLite only (the registry's writes are
tested on both stores elsewhere).
"""

from __future__ import annotations

import shlex
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from hub.api.enrolment import EnrolmentDesk, configure
from hub.api.keys import STORE
from hub.app import create_app
from hub.auth.principal import Role
from hub.config import HubConfig
from hub.console.lane_setup import SCRIPT
from hub.store.schema import devices, enterprises, gates
from provisioning.ca import CertificateAuthority, generate_key, make_csr
from provisioning.cli import build_parser
from provisioning.device import hub_url_problem
from provisioning.enrolment import BrokerAddress, device_of_token
from provisioning.registrar import BrokerFiles, Registrar
from sitegate.netutil import free_port
from tests.console.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, PASSWORD, SHOTS_WANTED
from tests.support.accounts import create_account
from tests.support.registry_rows import GC, contractor_with_projects, place_gates
from wire.models import utc_now

async_api = pytest.importorskip("playwright.async_api")
pytestmark = [
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.xdist_group("browser:test_lanes_gates"),  # one worker, one browser for the module
]

PROJECT = "P-0042"
GATES = f"/console/projects/{PROJECT}/gates"
EAST = "lane-p-0042-east"


@dataclass
class Hub:
    client: TestClient[Any, Any]
    browser: Any

    @property
    def base(self) -> str:
        return str(self.client.make_url("")).rstrip("/")

    async def login(self, username: str, *, phone: bool = False, locale: str = "zh-CN") -> Any:
        viewport = {"width": 390, "height": 844} if phone else {"width": 1280, "height": 900}
        # bypass_csp: only so a test can forge a form value the page never offers
        context = await self.browser.new_context(viewport=viewport, locale=locale, bypass_csp=True)
        page = await context.new_page()
        # the sign-in form posted by the context's request API (its cookies), the overview not
        # rendered: every test goes to the gates page at once (the form is test_console's)
        response = await page.request.post(
            f"{self.base}/console/login", form={"username": username, "password": PASSWORD}, max_redirects=0
        )
        assert response.status == 303, f"{username} was not logged in: {await response.text()}"
        return page


async def shot(page: Any, name: str) -> None:
    if not SHOTS_WANTED:
        return
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Any]:
    """One playwright driver and Chromium for the module's tests (≈1 s of CPU each to start), on
    the module's loop; each test's hub and world are its own, each login a fresh context."""
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium-headless-shell (apt-get install chromium-headless-shell)")
    async with async_api.async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest_asyncio.fixture(loop_scope="module")
async def hub(tmp_path: Path, browser: Any) -> AsyncIterator[Hub]:
    config = HubConfig(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}",
        mqtt_port=free_port(),
        broker_files_dir=tmp_path,
    )
    app = create_app(config)
    registrar = Registrar(
        CertificateAuthority.create(tmp_path / "test-ca"),
        broker=BrokerAddress(host="127.0.0.1", port=8883),
        roster_public_key="A" * 43 + "=",
        broker_files=BrokerFiles(crl_file=tmp_path / "ca.crl", acl_file=tmp_path / "acl"),
    )

    async def site_key(project_id: str) -> bytes:
        return bytes(range(32))

    configure(app, EnrolmentDesk(registrar, site_key))
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        store = client.app[STORE]
        async with store.write("seed") as conn:
            now = utc_now()
            await contractor_with_projects(
                conn, [PROJECT], district="330106", district_name="西湖区",
                gc_number="91330106MA2XXXXX0A", now=now, registered_at=now,
            )  # fmt: skip
            await place_gates(conn, [(EAST, PROJECT, "A1", "in", "东门1号")])
            await conn.execute(
                enterprises.insert().values(
                    id="ent-sup", number="91330106MA2XXXXX1B", name="监理", kind="supervision",
                    district="330106", local=True, created_at=now,
                )
            )  # fmt: skip
        project = {"enterprise_id": GC, "project_id": PROJECT}
        await create_account(store, role=Role.GC_PROJECT, username="gc-gates", **project)
        await create_account(
            store,
            role=Role.SUPERVISION_PROJECT,
            username="sup-gates",
            enterprise_id="ent-sup",
            project_id=PROJECT,
        )
        await create_account(store, role=Role.OPERATOR, username="ops-gates")
        try:
            yield Hub(client, browser)
        finally:
            for context in browser.contexts:  # the test's logins, before its hub goes
                await context.close()


async def _gate_rows(hub: Hub) -> dict[str, tuple[str, str | None]]:
    async with hub.client.app[STORE].read("test") as conn:
        rows = (await conn.execute(select(gates.c.name, gates.c.kind, gates.c.direction))).all()
    return {row.name: (row.kind, row.direction) for row in rows}


async def _add(page: Any, name: str, lane: str, kind: str, direction: str) -> None:
    await page.fill("#add input[name=name]", name)
    await page.fill("#add input[name=lane]", lane)
    await page.check(f"#add input[name=kind][value={kind}]")
    await page.select_option("#add select[name=direction]", direction)
    await page.click("#add-gate")


async def test_the_gc_department_adds_gates_and_both_is_refused_beside_the_field(hub: Hub) -> None:
    page = await hub.login("gc-gates")
    await page.goto(hub.base + GATES)
    assert await page.inner_text("h1") == f"闸机与通道 {PROJECT}"
    assert "东门1号" in await page.inner_text("#gates")
    assert "待签发注册令牌" in await page.inner_text(f"#gate-{EAST}")

    # the form offers 进场 and 离场 only; a forged 'both' is the registry's refusal, beside the field
    assert await page.eval_on_selector_all(
        "#add select[name=direction] option", "os => os.map(o => o.value)"
    ) == [
        "",
        "in",
        "out",
    ]
    await page.eval_on_selector("#add select[name=direction]", "s => s.add(new Option('both', 'both'))")
    await _add(page, "北门", "B1", "lane", "both")
    error = await page.inner_text("#error-direction")
    assert "不能是 both" in error and "a lane drives" not in error
    assert await page.input_value("#add input[name=name]") == "北门"  # what was typed is kept
    assert await page.get_attribute("#add select[name=direction]", "aria-invalid") == "true"
    await shot(page, "gates-both-refused")

    await page.fill("#add input[name=name]", "")
    await _add(page, "北门", "B1", "lane", "")
    assert "须选择方向" in await page.inner_text("#error-direction")

    await _add(page, "北门", "B1", "lane", "in")
    await _add(page, "项目部读卡器", "O1", "office_reader", "")
    table = await page.inner_text("#gates")
    assert "北门" in table and "项目部登记读卡器" in table
    assert await _gate_rows(hub) == {
        "东门1号": ("lane", "in"),
        "北门": ("lane", "in"),
        "项目部读卡器": ("office_reader", None),
    }
    device_ids = await page.eval_on_selector_all("#gates tbody tr", "rows => rows.map(r => r.id)")
    assert any(d.startswith("gate-office-p-0042-") for d in device_ids)  # minted, never typed
    await shot(page, "gates-gc")
    phone = await hub.login("gc-gates", phone=True)
    await phone.goto(hub.base + GATES)
    assert "闸机与通道" in await phone.inner_text("h1")
    await shot(phone, "gates-gc-phone")


async def test_in_english_the_refusal_is_the_registrys_english_half(hub: Hub) -> None:
    page = await hub.login("gc-gates", locale="en")
    await page.goto(hub.base + GATES)
    assert await page.inner_text("h1") == f"Gates and lanes {PROJECT}"
    assert "No token yet" in await page.inner_text(f"#gate-{EAST}")
    await page.eval_on_selector("#add select[name=direction]", "s => s.add(new Option('both', 'both'))")
    await _add(page, "North", "B1", "lane", "both")
    error = await page.inner_text("#error-direction")
    assert "a lane drives one direction" in error and "不能" not in error


async def test_a_token_comes_with_the_setup_command_and_its_qr_code(hub: Hub) -> None:
    page = await hub.login("gc-gates")
    await page.goto(hub.base + GATES)
    await page.click(f"#gate-{EAST} button[name=issue]")
    command = (await page.inner_text("#setup-command")).strip()
    words = shlex.split(command)
    assert words[:2] == ["sudo", SCRIPT]
    args = build_parser().parse_args(words[2:])  # what setup-lane.sh hands to sitegate provision
    assert args.hub == hub.base and hub_url_problem(args.hub) is None
    assert device_of_token(args.token) == EAST
    assert await page.locator("#setup-qr svg.qr path").count() == 1
    assert "二维码" in (await page.text_content("#setup-qr svg title") or "")
    assert "（北京时间）" in await page.inner_text("#token-expiry")
    assert "有效期至" in await page.inner_text("#token-expiry")
    await shot(page, "gates-token")

    # the token in the command enrols this very gate, once
    csr = make_csr(EAST, generate_key()).decode()
    enrolled = await hub.client.post("/api/v1/enrolments", json={"token": args.token, "csr": csr})
    assert enrolled.status == 201, await enrolled.text()
    assert (await enrolled.json())["lane"]["device_id"] == EAST
    await page.goto(hub.base + GATES)
    row = await page.inner_text(f"#gate-{EAST}")
    assert "已注册，尚未上线" in row and "证书" in row
    phone = await hub.login("gc-gates", phone=True)
    await phone.goto(hub.base + GATES)
    await phone.click(f"#gate-{EAST} button[name=issue]")
    assert await phone.locator("#setup-qr svg.qr").count() == 1
    await shot(phone, "gates-token-phone")


async def test_a_gate_is_renamed_moved_and_removed_after_a_confirmation(hub: Hub) -> None:
    page = await hub.login("gc-gates")
    await page.goto(hub.base + GATES)
    await page.click(f"#gate-{EAST} a[href*=edit]")
    await page.fill("#edit input[name=name]", "东门出口")
    await page.fill("#edit input[name=lane]", "A2")
    await page.select_option("#edit select[name=direction]", "out")
    await page.click("#edit button[type=submit]")
    assert await _gate_rows(hub) == {"东门出口": ("lane", "out")}
    assert "离场" in await page.inner_text(f"#gate-{EAST}")

    await page.click(f"#gate-{EAST} a[href*=remove]")
    warning = await page.inner_text("#remove")
    assert "吊销" in warning and EAST in warning
    assert await _gate_rows(hub) == {"东门出口": ("lane", "out")}  # asking removes nothing
    await shot(page, "gates-remove-confirm")
    await page.click("#confirm-remove")
    assert await _gate_rows(hub) == {}
    assert "本项目尚未登记闸机" in await page.inner_text("#gates")
    async with hub.client.app[STORE].read("test") as conn:
        revoked = await conn.scalar(select(devices.c.revoked_at).where(devices.c.device_id == EAST))
    assert revoked is not None  # the lane is revoked with its gate


async def test_supervision_reads_the_page_without_its_forms(hub: Hub) -> None:
    page = await hub.login("sup-gates")
    await page.goto(hub.base + GATES)
    assert "东门1号" in await page.inner_text("#gates")
    assert await page.locator("form[action*='/gates']").count() == 0
    assert await page.locator("#add, a[href*=edit], a[href*=remove], button[name=issue]").count() == 0
    await shot(page, "gates-supervision")
    await page.goto(hub.base + GATES + f"?remove={EAST}")
    assert await page.locator("#remove").count() == 0
    # a forged removal (with the session's own CSRF token) is the registry's refusal
    async with page.expect_navigation():
        await page.evaluate(
            """([action, csrf]) => { const f = document.createElement('form'); f.method = 'post';
            f.action = action; for (const [k, v] of [['csrf', csrf], ['confirmed', 'yes']]) {
            const i = document.createElement('input'); i.name = k; i.value = v; f.append(i); }
            document.body.append(f); f.submit(); }""",
            [f"{GATES}/{EAST}/removal", await page.input_value("form.who input[name=csrf]")],
        )
    assert "东门1号" in await _gate_rows(hub)


async def test_the_operator_places_gates_but_issues_no_token(hub: Hub) -> None:
    page = await hub.login("ops-gates")
    await page.goto(hub.base + GATES)
    assert "东门1号" in await page.inner_text("#gates")
    assert await page.locator("button[name=issue]").count() == 0
    await _add(page, "西门", "C1", "lane", "out")
    assert "西门" in await page.inner_text("#gates")
    await shot(page, "gates-operator")
