"""A project's completion date over the API (``GET``/``PUT /api/v1/projects/{id}/completion``) and on
its console page (hub.console.views_completion), through aiohttp's client, HTML asserted: who sets
it (the city, the project's bureau), who reads it, the site's today as the latest date by the
hub's clock, the 400s Chinese first, the audit line, the form's complaints beside their fields and
the confirmation a clearing needs. Every role × scope is in the scope matrix
(tests/hub/scope_matrix/); this module holds what the matrix does not: the answers' words.

One world for the module (SQLite; the matrix runs both stores): two projects of a Xihu contractor.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from hub.app import create_app
from hub.auth.principal import Role
from hub.config import HubConfig
from hub.retention.completion import AUDIT_ACTION
from hub.store import Store
from hub.store.schema import audit_log, districts
from sitegate.netutil import free_port
from tests.hub.clocked import token_headers_at
from tests.support.accounts import TEST_PASSWORD, create_account
from tests.support.clock import FakeClock
from tests.support.registry_rows import GC, contractor_with_projects

pytestmark = pytest.mark.asyncio(loop_scope="module")

NOW = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
"""11:00 on 7 December 2026 at the site."""
LATE = datetime(2026, 12, 7, 16, 30, tzinfo=UTC)
"""00:30 on 8 December at the site, still the 7th in UTC."""
PROJECT, OTHER = "proj-1", "proj-2"
PATH = f"/api/v1/projects/{PROJECT}/completion"
PAGE = f"/console/projects/{PROJECT}"
ACCOUNTS: dict[str, dict[str, Any]] = {
    "city": {"role": Role.CITY},
    "xihu": {"role": Role.DISTRICT, "district": "330106"},
    "gongshu": {"role": Role.DISTRICT, "district": "330105"},
    "gc-dept": {"role": Role.GC_PROJECT, "enterprise_id": GC, "project_id": PROJECT},
    "sub-dept": {"role": Role.SUB_PROJECT, "enterprise_id": GC, "project_id": PROJECT},
    "operator": {"role": Role.OPERATOR},
}


@dataclass
class Hub:
    client: TestClient[web.Request, web.Application]
    store: Store
    clock: FakeClock
    headers: dict[str, dict[str, str]]

    async def call(self, who: str, method: str, path: str = PATH, **kw: Any) -> tuple[int, Any]:
        response = await self.client.request(method, path, headers=self.headers[who], **kw)
        return response.status, await response.json()

    async def login(self, who: str) -> None:
        self.client.session.cookie_jar.clear()
        response = await self.client.post(
            "/console/login", data={"username": who, "password": TEST_PASSWORD}, allow_redirects=False
        )
        assert response.status == 303

    async def page(self, status: int = 200) -> str:
        response = await self.client.get(PAGE)
        text = await response.text()
        assert response.status == status, text[:500]
        return text

    async def post(self, html: str, **form: str) -> tuple[int, str, str]:
        token = re.search(r'name="csrf" value="([^"]+)"', html)
        assert token
        response = await self.client.post(
            f"{PAGE}/completion", data={"csrf": token.group(1), **form}, allow_redirects=False
        )
        return response.status, response.headers.get("Location", ""), await response.text()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def hub(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> AsyncIterator[Hub]:
    directory = tmp_path_factory.mktemp("completion")
    shutil.copyfile(sqlite_template, directory / "hub.db")
    url = f"sqlite+aiosqlite:///{directory / 'hub.db'}"
    clock = FakeClock(NOW)
    async with await Store.open(url, clock=clock) as store:
        async with store.write("world") as conn:
            await contractor_with_projects(
                conn, [PROJECT, OTHER], district="330106", district_name="西湖区", gc_number="91330100GC",
                now=NOW, registered_at=NOW,
            )  # fmt: skip
            await conn.execute(districts.insert().values(code="330105", name="拱墅区"))
        headers = {}
        for who, scope in ACCOUNTS.items():
            headers[who] = await token_headers_at(
                store, await create_account(store, username=who, **scope), clock
            )
        config = HubConfig(database_url=url, mqtt_port=free_port(), data_key_file=directory / "data.key")
        async with TestClient(TestServer(create_app(config, clock=clock))) as client:
            yield Hub(client, store, clock, headers)


async def test_the_bureau_sets_corrects_and_clears_it_and_the_departments_read_it(hub: Hub) -> None:
    assert await hub.call("xihu", "PUT", json={"completed_on": "2024-02-29"}) == (
        200,
        {
            "project_id": PROJECT,
            "completed_on": "2024-02-29",
            "kept_until": "2027-03-01",
            "retention_years": 3,
        },
    )  # 29 February three years on is 1 March: never a day less
    assert (await hub.call("city", "PUT", json={"completed_on": "2026-12-07"}))[1][
        "kept_until"
    ] == "2029-12-07"
    for who in ("city", "xihu", "gc-dept"):
        assert (await hub.call(who, "GET"))[1]["completed_on"] == "2026-12-07"
    assert (await hub.call("gongshu", "GET"))[0] == 404  # another district's project: not there
    status, body = await hub.call("gongshu", "PUT", json={"completed_on": "2026-01-01"})
    assert (status, body["error"]["code"]) == (403, "forbidden")
    for who in ("sub-dept", "operator"):
        assert (await hub.call(who, "GET"))[0] == 403
    assert (await hub.call("gc-dept", "PUT", json={"completed_on": "2026-01-01"}))[0] == 403
    assert (await hub.call("xihu", "PUT", json={"completed_on": None}))[1]["kept_until"] is None
    async with hub.store.read("test") as conn:
        lines = (
            await conn.execute(
                select(audit_log.c.username, audit_log.c.target, audit_log.c.detail)
                .where(audit_log.c.action == AUDIT_ACTION)
                .order_by(audit_log.c.id)
            )
        ).all()
    assert [tuple(line) for line in lines] == [
        ("xihu", PROJECT, {"completed_on": "2024-02-29"}),
        ("city", PROJECT, {"completed_on": "2026-12-07"}),
        ("xihu", PROJECT, {"completed_on": None}),
    ]


@pytest.mark.parametrize(
    ("body", "code", "words"),
    [
        (
            {"completed_on": "2026-12-08"},
            "completion_in_future",
            "completed_on: 竣工日期不能晚于今天 2026-12-07",
        ),
        ({"completed_on": "2026-13-01"}, "invalid_completion", "completed_on: 须为日期 YYYY-MM-DD"),
        ({"completed_on": "20261201"}, "invalid_completion", "completed_on: 须为日期 YYYY-MM-DD"),
        ({"completed_on": 1780000000}, "invalid_completion", "completed_on: 须为日期 YYYY-MM-DD"),
        ({}, "invalid_completion", "completed_on: 必填"),
        ({"completed_on": None, "by": "x"}, "invalid_completion", "by: 不接受此字段"),
        ([], "invalid_completion", "body: 须为 JSON 对象"),
    ],
    ids=["tomorrow", "no-such-day", "digits", "a-timestamp", "empty", "extra", "not-an-object"],
)
async def test_a_wrong_body_or_a_day_to_come_is_a_400_in_chinese_first(
    hub: Hub, body: Any, code: str, words: str
) -> None:
    status, answer = await hub.call("city", "PUT", json=body)
    assert (status, answer["error"]["code"]) == (400, code)
    assert answer["error"]["message"].startswith(words) or f"; {words}" in answer["error"]["message"]


async def test_today_is_the_sites_day_by_the_hubs_clock(hub: Hub) -> None:
    hub.clock.set(LATE)
    try:
        assert (await hub.call("city", "PUT", json={"completed_on": "2026-12-08"}))[0] == 200
        assert (await hub.call("city", "PUT", json={"completed_on": "2026-12-09"}))[0] == 400
    finally:
        hub.clock.set(NOW)


async def test_the_bureau_sets_and_clears_it_on_the_projects_page(hub: Hub) -> None:
    assert (await hub.call("city", "PUT", json={"completed_on": None}))[0] == 200
    await hub.login("xihu")
    html = await hub.page()
    assert "竣工日期" in html and "记录保存至" in html and 'id="completion-form"' in html
    assert 'id="clear-completion"' not in html  # nothing to clear yet
    status, _, refused = await hub.post(html, action="set", completed_on="2026-12-08")
    assert status == 422 and re.search(
        r'name="completed_on" value="2026-12-08"[^>]*aria-invalid="true"', refused
    )
    assert re.search(r'id="error-completed_on" role="alert">竣工日期不能晚于今天', refused)
    status, _, refused = await hub.post(html, action="set", completed_on="")
    assert status == 422 and 'id="error-completed_on"' in refused
    status, where, _ = await hub.post(html, action="set", completed_on="2024-02-29")
    assert (status, where) == (303, f"{PAGE}#completion")
    html = await hub.page()
    assert re.search(r'id="completed-on">2024年2月29日<', html) and re.search(
        r'id="kept-until">2027年3月1日<', html
    )
    status, _, refused = await hub.post(html, action="clear")  # not confirmed
    assert status == 422 and re.search(r'id="error-confirmed" role="alert">请勾选', refused)
    assert (await hub.call("city", "GET"))[1]["completed_on"] == "2024-02-29"
    status, _, _ = await hub.post(html, action="clear", confirmed="yes")
    assert status == 303 and (await hub.call("city", "GET"))[1]["completed_on"] is None


async def test_the_departments_read_it_and_the_others_do_not_see_it(hub: Hub) -> None:
    assert (await hub.call("city", "PUT", json={"completed_on": "2025-06-30"}))[0] == 200
    await hub.login("gc-dept")
    html = await hub.page()
    assert re.search(r'id="completed-on">2025年6月30日<', html) and 'id="completion-form"' not in html
    status, _, _ = await hub.post(html, action="set", completed_on="2025-01-01")
    assert status == 403 and (await hub.call("city", "GET"))[1]["completed_on"] == "2025-06-30"
    await hub.login("sub-dept")
    assert 'id="completion"' not in await hub.page()
