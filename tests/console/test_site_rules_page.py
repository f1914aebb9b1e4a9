"""The site rules page (现场规则) in Chromium, per role: the GC project department and the hub's
operator change them, supervision and the authorities read them, a subcontractor is refused, another
district sees no such project. Errors stand beside their fields in Chinese with what was typed still
there. End to end: hours changed in the console are what the API reads back, and the hub mints a
roster version that carries them to the project's lanes (read off the broker as a lane would); the
lane's report that it applied it shows on the page."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import aiomqtt
import pytest

from hub.console.i18n import Locale
from hub.console.times import local
from tests.console.conftest import AT, PASSWORD, Console, shot
from wire.roles import RosterRole
from wire.roster import RosterDelta, RosterManifest, RosterStatus, decode_roster, encode_roster
from wire.topics import Channel, topic_for

pytestmark = [pytest.mark.broker, pytest.mark.timeout(300)]

RULES = "/console/projects/proj-a/site-rules"
LANE = "lane-a-in"
T = TypeVar("T")


def run_apart(coroutine: Coroutine[Any, Any, T]) -> T:
    """``coroutine`` run to its end on a thread of its own (playwright's sync API holds this
    thread's event loop)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def rules_page(console: Console, username: str, *, phone: bool = False) -> Any:
    page = console.signed_in(username, phone=phone)
    page.goto(console.base + RULES)
    return page


def error_beside(page: Any, field: str) -> str:
    """The complaint shown in the field's own label (not at the top of the page)."""
    return str(page.locator(f"label:has([name={field}]) .field-error").inner_text())


def add_permit(page: Any, permit: str, first: str, last: str, hours: str) -> None:
    """The night-work form filled and sent (opened first if closed)."""
    if not page.locator("#add-night-work").is_visible():
        page.click("#night-work summary")
    for name, value in (("permit", permit), ("first_date", first), ("last_date", last), ("hours", hours)):
        page.fill(f"input[name=night_{name}]", value)
    page.click("#add-night-work button[type=submit]")


def test_the_gc_department_reads_the_rules_in_chinese_and_a_wrong_form_keeps_what_was_typed(
    console: Console,
) -> None:
    page = rules_page(console, "gc-a")
    main = page.locator("main").inner_text()
    for words in (
        "现场规则",
        "各类人员作业时间",
        "作业人员",
        "防反潜回",
        "夜间施工",
        "下发至各通道",
        "东门进",
    ):
        assert words in main, words
    options = page.locator("select[name=anti_passback] option").all_inner_texts()
    assert options == ["硬防反潜回：未出场不得再次进场", "软防反潜回：放行但记录违规", "关闭"]
    assert page.locator("a[href$='/site-rules']").inner_text() == "现场规则"  # the project's menu
    shot(page, "site-rules-desktop")

    page.fill("input[name=hours_worker]", "25:00-26:00")
    page.fill("input[name=hours_manager]", "07:00-07:00")
    page.fill("input[name=inside_expires_at]", "晚上九点")
    page.select_option("select[name=anti_passback]", "soft")
    page.click("#general button[type=submit]")
    assert error_beside(page, "hours_worker") == "时段应写作 HH:MM-HH:MM（北京时间）"
    assert error_beside(page, "hours_manager") == "时段的开始和结束不能相同"
    assert error_beside(page, "inside_expires_at") == "时间应写作 HH:MM（北京时间）"
    assert page.locator("input[name=hours_worker]").input_value() == "25:00-26:00"
    assert page.locator("input[name=inside_expires_at]").input_value() == "晚上九点"
    assert page.locator("select[name=anti_passback]").input_value() == "soft"
    assert page.locator("input[name=hours_worker]").get_attribute("aria-invalid") == "true"
    assert page.locator("label:has([name=hours_supervisor]) .field-error").count() == 0
    shot(page, "site-rules-refused")


def test_a_night_work_permit_is_added_refused_beside_its_field_and_removed(console: Console) -> None:
    page = rules_page(console, "gc-a")
    permit = "夜施许字-2026-0615"
    page.click("#night-work summary")
    page.check("input[name=night_role_worker]")
    add_permit(page, permit, "2026-06-20", "2026-06-16", "22:00-05:00")
    assert error_beside(page, "night_last_date") == "夜间施工的结束日期早于开始日期"
    assert page.locator("input[name=night_permit]").input_value() == permit
    assert page.locator("input[name=night_role_worker]").is_checked()

    page.fill("input[name=night_last_date]", "2026-06-21")
    page.click("#add-night-work button[type=submit]")
    row = page.locator("#permits tbody tr", has_text=permit)
    assert row.locator("td").all_inner_texts()[:4] == [
        permit,
        "2026年6月20日 – 2026年6月21日",
        "22:00-05:00",
        "作业人员",
    ]

    add_permit(page, permit, "2026-07-01", "2026-07-02", "21:00-23:00")
    assert error_beside(page, "night_permit") == "夜间施工许可证号重复"

    page.goto(console.base + RULES)
    page.locator("#permits tbody tr", has_text=permit).locator("button").click()
    assert page.locator("#permits tbody tr", has_text=permit).count() == 0


def _workers_hours(announced: object) -> str | None:
    """The workers' hours in a roster announcement's signed rules (None: it carries none)."""
    if isinstance(announced, RosterManifest | RosterDelta) and announced.rules is not None:
        return announced.rules.working_hours.get(RosterRole.WORKER)
    return None


async def _roster_on_the_lanes_topic(console: Console, hours: str) -> int:
    """The version whose signed rules give workers ``hours``, as the lane's retained roster
    announcement carries it (a manifest, or a delta naming the rules it changes)."""
    assert console.broker is not None
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        async with aiomqtt.Client(
            console.broker.host, console.broker.port, protocol=aiomqtt.ProtocolVersion.V5
        ) as client:
            await client.subscribe(topic_for(LANE, Channel.ROSTER), qos=1)
            try:
                async with asyncio.timeout(2):
                    async for message in client.messages:
                        announced = decode_roster(bytes(message.payload))  # type: ignore[arg-type]
                        if _workers_hours(announced) == hours:
                            assert isinstance(announced, RosterManifest | RosterDelta)
                            return (
                                announced.version
                                if isinstance(announced, RosterManifest)
                                else announced.to_version
                            )
            except TimeoutError:
                pass
        await asyncio.sleep(0.3)
    raise AssertionError(f"no roster announcing workers' hours {hours} on {LANE}'s topic")


async def _lane_reports(console: Console, version: int) -> None:
    assert console.broker is not None
    status = RosterStatus(device_id=LANE, project_id="proj-a", applied_version=version)
    async with aiomqtt.Client(
        console.broker.host, console.broker.port, protocol=aiomqtt.ProtocolVersion.V5
    ) as client:
        await client.publish(topic_for(LANE, Channel.ROSTER_STATUS), encode_roster(status), qos=1)


def test_hours_changed_in_the_console_reach_the_api_and_a_signed_roster_version(console: Console) -> None:
    page = rules_page(console, "gc-a")
    page.fill("input[name=hours_worker]", "07:00-19:00")
    page.click("#general button[type=submit]")
    when = local(AT, Locale.ZH_CN, "datetime")
    assert page.locator("#changed").inner_text() == f"最近修改：gc-a，{when}。"
    assert page.locator("input[name=hours_worker]").input_value() == "07:00-19:00"

    login = page.request.post(
        f"{console.base}/api/v1/auth/login", data={"username": "gc-a", "password": PASSWORD}
    )
    token = login.json()["token"]
    api = page.request.get(
        f"{console.base}/api/v1/projects/proj-a/site-rules", headers={"Authorization": f"Bearer {token}"}
    )
    assert api.ok
    assert (api.json()["working_hours"]["worker"], api.json()["updated_by"]) == ("07:00-19:00", "gc-a")

    version = run_apart(_roster_on_the_lanes_topic(console, "07:00-19:00"))
    run_apart(_lane_reports(console, version))
    for _ in range(50):
        page.goto(console.base + RULES)
        if page.locator("#lanes tbody tr.applied").count():
            break
        time.sleep(0.2)
    delivery = page.locator("#delivery").inner_text()
    assert f"已随人员名单第 {version} 版签名下发至各通道" in delivery
    assert "已应用的通道：1 / 2" in delivery
    applied = page.locator("#lanes tbody tr.applied")
    assert applied.locator("td").all_inner_texts()[:3] == ["东门进", "A1", str(version)]
    assert page.locator("#lanes tbody tr.behind", has_text="东门出").count() == 1
    shot(page, "site-rules-delivered")
    devices = page.request.get(f"{console.base}/api/v1/devices", headers={"Authorization": f"Bearer {token}"})
    lane = next(d for d in devices.json()["devices"] if d["device_id"] == LANE)
    assert (lane["roster"]["current_version"], lane["roster"]["applied_version"]) == (version, version)


@pytest.mark.parametrize("username", ["sup-a", "district-xihu"])
def test_supervision_and_the_district_read_the_rules_and_cannot_change_them(
    console: Console, username: str
) -> None:
    page = rules_page(console, username)
    assert page.locator("#general form, #night-work form").count() == 0
    facts = page.locator("dl#rules").inner_text()
    assert "作业人员" in facts and "防反潜回" in facts
    assert "仅总包项目部可修改这些规则" in page.locator("main").inner_text()
    csrf = page.locator("form.who input[name=csrf]").get_attribute("value")
    refused = page.request.post(
        console.base + RULES, form={"csrf": csrf, "anti_passback": "off", "accept_uid_only": "0"}
    )
    assert refused.status == 403
    shot(page, f"site-rules-{username}")


def test_the_operator_changes_a_projects_rules_and_others_are_refused(console: Console) -> None:
    page = rules_page(console, "operator")
    assert page.locator("h1 small").inner_text() == "proj-a"  # the operator reads no project records
    assert page.locator("#general form").count() == 1
    page.select_option("select[name=anti_passback]", "hard")
    page.click("#general button[type=submit]")
    assert re.match(r"^最近修改：operator，", page.locator("#changed").inner_text())

    sub = console.signed_in("sub-a")
    assert sub.goto(console.base + RULES).status == 403
    elsewhere = console.signed_in("district-gongshu")
    assert elsewhere.goto(console.base + RULES).status == 404


def test_the_page_in_english_for_an_english_account(console: Console) -> None:
    page = rules_page(console, "gc-a-en")
    assert page.locator("h1").inner_text().startswith("Site rules")
    assert "Hard: no second entry before an exit" in page.locator("select[name=anti_passback]").inner_text()
    page.fill("input[name=hours_visitor]", "9-17")
    page.click("#general button[type=submit]")
    assert error_beside(page, "hours_visitor") == "hours must be HH:MM-HH:MM, site-local"


def test_on_a_phone(console: Console) -> None:
    page = rules_page(console, "gc-a", phone=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "site-rules-phone")
