"""A lane commanded from its console page, in a real headless Chromium, on real parts (issue 14):
the hub's app with its MQTT ingest, a real mosquitto, a lane with an emulated GA/T 467 module on a
pty and gpiozero mock pins (``tests.integration.test_swipe_to_hub.site``). The GC project
department opens the lane remotely (远程开闸: the relay moves and the lane's answer appears on the
page), disables it (a card is then refused as lane_disabled) and enables it again, each behind a
confirmation; the lane's command history names the account. Supervision sees the page without
the buttons, and a forged command from it is refused.
"""

from __future__ import annotations

import shutil
from typing import Any

import pytest
from sqlalchemy import select

from hub.api.keys import STORE
from hub.auth.principal import Role
from hub.store.schema import device_commands, enterprises
from tests.console.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, PASSWORD, SHOTS_WANTED
from tests.integration.test_commands_end_to_end import connected
from tests.integration.test_swipe_to_hub import RELAY_IN, Site, present, site  # noqa: F401 - the running site
from tests.support.accounts import create_account
from tests.support.registry_rows import GC
from wire.models import utc_now

async_api = pytest.importorskip("playwright.async_api")
pytestmark = [pytest.mark.broker, pytest.mark.serial]

LANE = "/console/devices/lane-it-1"
GC_ACCOUNT = "gc-lanes"


async def _browser(playwright: Any) -> Any:
    if not CHROMIUM.exists() or shutil.which("mosquitto") is None:
        pytest.skip("needs Debian's chromium-headless-shell and mosquitto")
    return await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


async def _login(browser: Any, site: Site, username: str, *, phone: bool = False) -> Any:  # noqa: F811
    viewport = {"width": 390, "height": 844} if phone else {"width": 1280, "height": 900}
    context = await browser.new_context(viewport=viewport, locale="zh-CN", bypass_csp=True)
    page = await context.new_page()
    base = str(site.hub.make_url("")).rstrip("/")
    # the sign-in form posted by the context's request API (its cookies), the overview not
    # rendered: the lane's page is where the test goes (the form is test_console's)
    response = await page.request.post(
        f"{base}/console/login", form={"username": username, "password": PASSWORD}, max_redirects=0
    )
    assert response.status == 303, f"{username} was not logged in: {await response.text()}"
    await page.goto(base + LANE)
    return page


async def _shot(page: Any, name: str) -> None:
    if not SHOTS_WANTED:
        return
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


async def _command(page: Any, action: str) -> str:
    """Ask, confirm, and wait for the lane's answer on the page; the answer's text."""
    await page.click(f"#ask-{action}")
    assert f"confirm={action}" in page.url
    assert await page.locator("meta[http-equiv=refresh]").count() == 0  # a confirmation waits
    await page.click("#confirm-command")
    await page.wait_for_selector("#command.answered", timeout=15_000)  # the page refreshes until then
    return str(await page.inner_text("#command-answer"))


async def test_the_gc_department_opens_disables_and_enables_a_lane(site: Site) -> None:  # noqa: F811
    store = site.hub.app[STORE]
    await create_account(
        store, role=Role.GC_PROJECT, username=GC_ACCOUNT, enterprise_id=GC, project_id="P-IT"
    )
    await connected(site)
    async with async_api.async_playwright() as playwright:
        browser = await _browser(playwright)
        page = await _login(browser, site, GC_ACCOUNT)
        gate = await page.inner_text("#gate")  # its gate, linked to the project's gates page
        assert "gate lane-it-1" in gate and "闸机通道" in gate and "在线" in gate
        assert await page.get_attribute("#gate a", "href") == "/console/projects/P-IT/gates#gate-lane-it-1"
        assert [await b.inner_text() for b in await page.query_selector_all("#commands button")] == [
            "远程开闸",
            "停用通道",
            "启用通道",
            "重新同步名单",
        ]
        await page.click("#ask-remote_open")
        assert "远程开闸" in await page.inner_text("#confirm h2")
        assert True not in [state for _, state in site.pins.pin(RELAY_IN).states]  # asking sends nothing
        await _shot(page, "lane-confirm-remote-open")
        await page.click("#confirm-command")
        await page.wait_for_selector("#command.answered", timeout=15_000)
        assert "已开闸" in await page.inner_text("#command-answer")
        assert True in [state for _, state in site.pins.pin(RELAY_IN).states]  # the arm was released
        await _shot(page, "lane-remote-open-answered")

        await page.goto(str(site.hub.make_url(LANE)))
        assert "通道已停用" in await _command(page, "disable_lane")
        assert site.lane.disabled
        refused = await present(site, site.lane.registered)  # type: ignore[attr-defined]
        assert (refused.decision.value, refused.reason.value) == ("denied", "lane_disabled")
        assert "请先启用" in await _command(page, "remote_open")  # the lane's refusal, in words
        assert "通道已启用" in await _command(page, "enable_lane")
        assert not site.lane.disabled

        history = page.locator("#command-history tbody tr")
        assert await history.count() == 4
        assert set(await page.locator("#command-history td.operator").all_inner_texts()) == {GC_ACCOUNT}
        commands = sorted(await page.locator("#command-history td:nth-child(2)").all_inner_texts())
        assert commands == sorted(["远程开闸", "停用通道", "远程开闸", "启用通道"])
        async with store.read("test") as conn:
            operators = (await conn.scalars(select(device_commands.c.operator))).all()
        assert set(operators) == {GC_ACCOUNT}  # journaled as the account that confirmed
        await _shot(page, "lane-command-history")
        phone = await _login(browser, site, GC_ACCOUNT, phone=True)
        assert await phone.locator("#commands button").count() == 4
        await _shot(phone, "lane-commands-phone")
        await browser.close()


async def test_supervision_sees_the_lane_without_the_buttons(site: Site) -> None:  # noqa: F811
    store = site.hub.app[STORE]
    async with store.write("supervision firm") as conn:
        await conn.execute(
            enterprises.insert().values(
                id="ent-sup", number="91110199000000001X", name="监理", kind="supervision",
                district="110199", local=True, created_at=utc_now(),
            )
        )  # fmt: skip
    await create_account(
        store, role=Role.SUPERVISION_PROJECT, username="sup-lanes", enterprise_id="ent-sup", project_id="P-IT"
    )
    async with async_api.async_playwright() as playwright:
        browser = await _browser(playwright)
        page = await _login(browser, site, "sup-lanes")
        assert "通道 lane-it-1" in await page.inner_text("h1")
        assert await page.locator("#commands, #confirm-command").count() == 0
        await page.goto(str(site.hub.make_url(LANE + "?confirm=remote_open")))
        assert await page.locator("#confirm, #confirm-command").count() == 0
        # a forged confirmation (with the session's own CSRF token) is refused
        async with page.expect_navigation():
            await page.evaluate(
                """([action, csrf]) => { const f = document.createElement('form'); f.method = 'post';
                f.action = action; for (const [k, v] of [['csrf', csrf], ['action', 'remote_open'],
                ['confirmed', 'yes']]) { const i = document.createElement('input'); i.name = k;
                i.value = v; f.append(i); } document.body.append(f); f.submit(); }""",
                [LANE + "/commands", await page.input_value("form.who input[name=csrf]")],
            )
        assert "无权" in await page.inner_text("main")
        assert True not in [state for _, state in site.pins.pin(RELAY_IN).states]
        await _shot(page, "lane-supervision")
        await browser.close()
