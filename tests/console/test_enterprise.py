"""An enterprise account's project departments page (the notice: 检查、督促本企业项目部) in Chromium,
in Chinese, for the general contractor's enterprise (ent-gc1: proj-a and the unregistered proj-c)
and a subcontractor's (ent-sub1: proj-a, its own people only), each drilling down into the
project's page; and every alert link on the overview opened by every role (200, never a 404)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from hub.console import views_enterprise
from hub.derive.days import local_day
from hub.store import Store
from hub.store.schema import accounts, rectification_orders
from tests.console.conftest import AT, Console, shot
from tests.hub.oversight.world import XIHU
from tests.support.postgres import run_in_thread

pytestmark = [pytest.mark.broker, pytest.mark.timeout(300)]

ROLES = ("city", "operator", "district-xihu", "gc-a", "sub-a", "sup-a", "ent-gc1", "ent-sub1")


@pytest.fixture(scope="module", autouse=True)
def overdue_id(console: Console) -> int:
    """An overdue order to proj-a from 西湖区's bureau, added to the console's world (an alert that
    links to an order)."""
    assert console.database is not None
    return run_in_thread(_overdue_order(console.database))


async def _overdue_order(database: Path) -> int:
    async with await Store.open(f"sqlite+aiosqlite:///{database}") as store:
        async with store.read("bureau") as conn:
            bureau = (
                await conn.execute(select(accounts.c.id).where(accounts.c.username == "district-xihu"))
            ).scalar_one()
        async with store.write("overdue order") as conn:
            made = await conn.execute(
                rectification_orders.insert().values(
                    district=XIHU, project_id="proj-a", subject="四类人员到岗", requirements="项目经理每日到岗",
                    deadline=local_day(AT) - timedelta(days=2), status="open", issued_at=AT,
                    issuer_account_id=bureau, issued_by="district-xihu",
                )
            )  # fmt: skip
            return int(made.inserted_primary_key[0])


def cells(page: object, project_id: str) -> list[str]:
    row = page.locator(f"#departments tr[data-project={project_id}] td")  # type: ignore[attr-defined]
    return [text.strip() for text in row.all_inner_texts()]


def test_the_general_contractors_enterprise_oversees_its_departments(console: Console) -> None:
    page = console.login("ent-gc1")
    page.click("nav >> text=项目部")
    assert page.url.endswith(views_enterprise.PATH)
    assert page.locator("h1").inner_text() == "项目部"
    headers = page.locator("#departments thead th").all_inner_texts()
    assert headers == [
        "项目",
        "本企业角色",
        "实名制报备",
        "在线通道",
        "在场人员",
        "四类人员到岗",
        "未销项整改",
        "本年度扣分",
    ]
    a = cells(page, "proj-a")
    assert a[0].startswith("测试工程 proj-a") and "西湖区" in a[0]
    assert a[1] == "施工总包"
    assert a[4] == "3"  # 王伟, 刘静, 陈磊: on site at the world's noon
    assert (a[2], a[3]) == ("已注册通道 0 / 2", "1 / 2")  # lanes placed, not enrolled; lane-a-in heard
    assert a[6] == "3 逾期 1 件"  # the order to answer, the one answered, the overdue one
    assert a[7] == "2"  # the deduction from the order to proj-a
    c = cells(page, "proj-c")
    assert c[2] == "未报备"
    assert (c[3], c[4], c[6], c[7]) == ("0 / 0", "0", "0", "0")
    assert "未关联项目" not in page.locator("main").inner_text()
    shot(page, "enterprise-gc-departments")
    page.click("#departments >> text=测试工程 proj-a")
    assert page.url.endswith("/console/projects/proj-a")
    assert page.locator("#on-site").inner_text() == "3"
    page.context.close()


def test_a_subcontractors_enterprise_sees_its_own_people_there(console: Console) -> None:
    page = console.signed_in("ent-sub1")
    page.goto(console.base + views_enterprise.PATH)
    assert page.locator("#departments tbody tr").count() == 1
    a = cells(page, "proj-a")
    assert (a[1], a[4], a[5]) == ("分包", "1", "0 / 0")  # 王伟 only; the managers are not its people
    shot(page, "enterprise-sub-departments")
    page.click("#departments >> text=测试工程 proj-a")
    assert page.locator("#on-site").inner_text() == "1"
    page.context.close()


@pytest.mark.parametrize("username", ["city", "gc-a", "operator"])
def test_the_page_is_an_enterprise_accounts_only(console: Console, username: str) -> None:
    page = console.login(username)
    assert "项目部" not in page.locator("header nav").inner_text()
    response = page.goto(console.base + views_enterprise.PATH)
    assert response is not None and response.status == 403
    assert "项目部总览仅供企业账号使用" in page.locator("main").inner_text()
    page.context.close()


@pytest.mark.parametrize("username", ROLES)
def test_every_alert_link_opens_for_its_reader(console: Console, overdue_id: int, username: str) -> None:
    page = console.login(username)
    links = page.locator("ul.alerts a").evaluate_all(
        "(as) => as.map((a) => [a.dataset.link, a.getAttribute('href')])"
    )
    if username in ("operator", "city", "gc-a"):
        assert any(kind == "lane" for kind, _ in links), links  # the world's silent lane-a-out at least
    if username == "operator":
        assert not any(kind == "project" for kind, _ in links), links
        assert "proj-a" in page.locator("ul.alerts").inner_text()  # named, not linked
    if username in ("city", "district-xihu", "gc-a", "ent-gc1"):
        assert ("order", f"/console/orders/{overdue_id}") in {tuple(x) for x in links}, links
    for kind, href in sorted({tuple(link) for link in links}):
        response = page.goto(console.base + href)
        assert response is not None and response.status == 200, (username, kind, href)
    page.context.close()
