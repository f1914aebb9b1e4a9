"""The oversight endpoints over HTTP, logged in as accounts of several roles, on both stores.

The app runs on a FakeClock (``api.clock``) at NOON unless a test gives another instant; the world
is built at that instant, and "today" in an expectation is the same clock's."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from hub.app import create_app
from hub.auth.principal import Principal
from hub.config import HubConfig
from hub.oversight import export
from hub.store import Store
from sitegate.netutil import free_port
from tests.hub.clocked import DAY_EDGES, NOON, midnight_after, token_headers_at
from tests.hub.oversight import world as w
from tests.support.accounts import create_account
from tests.support.clock import FakeClock
from wire.clock import SITE_ZONE

Client = TestClient[web.Request, web.Application]

ACCOUNTS = {
    "city": w.CITY,
    "operator": w.OPERATOR,
    "district-xihu": w.DISTRICT_XIHU,
    "district-gongshu": w.DISTRICT_GONGSHU,
    "gc-a": w.GC_A,
    "sub-a": w.SUB_A,
    "gc-b": w.GC_B,
}
WINDOW = {"since": "2025-05-05T00:00:00+08:00", "until": "2025-05-07T00:00:00+08:00"}


@dataclass
class Api:
    client: Client
    headers: dict[str, dict[str, str]]
    world: w.World
    clock: FakeClock

    async def get(self, who: str, path: str, params: dict[str, str] | None = None) -> Any:
        return await self.client.get(path, params=params, headers=self.headers[who])

    async def json(self, who: str, path: str, params: dict[str, str] | None = None, status: int = 200) -> Any:
        response = await self.get(who, path, params)
        assert response.status == status, await response.text()
        assert response.content_type == "application/json"
        body = await response.json()
        if status >= 400:
            assert set(body) == {"error"}
            assert set(body["error"]) == {"code", "message"}
        return body


@pytest.fixture
def clock(request: pytest.FixtureRequest) -> FakeClock:
    """The app's clock: at NOON, or at the instant a test gives (indirect parametrisation)."""
    return FakeClock(getattr(request, "param", NOON))


@pytest.fixture
async def api(database_url: str, clock: FakeClock) -> AsyncIterator[Api]:
    async with await Store.open(database_url, clock=clock) as store:
        world = await w.build(store, clock.wall())
        headers = {}
        for username, p in ACCOUNTS.items():
            account: Principal = await create_account(
                store,
                role=p.role,
                username=username,
                district=p.district,
                enterprise_id=p.enterprise_id,
                project_id=p.project_id,
            )
            headers[username] = await token_headers_at(store, account, clock)
    app = create_app(HubConfig(database_url=database_url, mqtt_port=free_port()), clock=clock)
    async with TestClient(TestServer(app)) as client:
        yield Api(client, headers, world, clock)


ENDPOINTS = {
    "headcount": "/api/v1/projects/proj-a/headcount",
    "managers": "/api/v1/projects/proj-a/managers-on-duty?date=2025-05-05",
    "attendance": "/api/v1/attendance?project_id=proj-a&from=2025-05-05&to=2025-05-06",
    "monthly": "/api/v1/projects/proj-a/attendance/monthly?month=2025-05",
    "statistics": "/api/v1/statistics/registration",
    "export": "/api/v1/access-events/export.csv?since=2025-05-05T00:00:00%2B08:00&until=2025-05-07T00:00:00Z",
}
PROJECT_A = ("headcount", "managers", "attendance", "monthly")
EXPECTED = {
    "city": dict.fromkeys(ENDPOINTS, 200),
    "operator": dict.fromkeys(ENDPOINTS, 403),
    "district-xihu": dict.fromkeys(ENDPOINTS, 200),
    "district-gongshu": {**dict.fromkeys(PROJECT_A, 404), "statistics": 200, "export": 200},
    "gc-a": {**dict.fromkeys(PROJECT_A, 200), "statistics": 403, "export": 200},
    "sub-a": {**dict.fromkeys(PROJECT_A, 200), "statistics": 403, "export": 200},
    "gc-b": {**dict.fromkeys(PROJECT_A, 404), "statistics": 403, "export": 200},
}


async def test_every_endpoint_by_role(api: Api) -> None:
    """Inside scope 200; a project outside it 404 (as if it did not exist); the operator 403."""
    got = {
        who: {name: (await api.get(who, path)).status for name, path in ENDPOINTS.items()} for who in EXPECTED
    }
    assert got == EXPECTED
    for path in ENDPOINTS.values():
        response = await api.client.get(path)
        assert response.status == 401
    missing = await api.json("city", "/api/v1/projects/proj-nope/headcount", status=404)
    hidden = await api.json("gc-b", "/api/v1/projects/proj-a/headcount", status=404)
    assert missing["error"]["code"] == hidden["error"]["code"] == "not_found"
    assert "proj-nope" in missing["error"]["message"]


async def test_headcount(api: Api) -> None:
    body = await api.json("city", ENDPOINTS["headcount"])
    assert body["on_site"] == 3
    assert body["by_enterprise"] == [
        {"enterprise_id": "ent-gc1", "enterprise_name": "西湖建工集团", "on_site": 1},
        {"enterprise_id": "ent-sub1", "enterprise_name": "拱墅劳务有限公司", "on_site": 1},
        {"enterprise_id": "ent-sup1", "enterprise_name": "钱塘监理公司", "on_site": 1},
    ]
    assert body["by_role"] == [{"role": "manager", "on_site": 2}, {"role": "worker", "on_site": 1}]
    assert body["as_of"].endswith("+08:00")
    mine = await api.json("sub-a", ENDPOINTS["headcount"])
    assert (mine["on_site"], mine["by_role"]) == (1, [{"role": "worker", "on_site": 1}])


async def test_managers_on_duty(api: Api) -> None:
    body = await api.json("gc-a", ENDPOINTS["managers"])
    assert (body["date"], body["present"], body["absent"]) == ("2025-05-05", 1, 1)
    m1 = body["managers"][1]
    assert (m1["person_id"], m1["position"], m1["present"]) == ("per-m1", "项目经理", True)
    assert (m1["first_in"], m1["last_out"], m1["hours"]) == (
        "2025-05-05T07:30:00+08:00",
        "2025-05-05T18:30:00+08:00",
        11.0,
    )
    assert body["managers"][0]["first_in"] is None
    assert (await api.json("sub-a", ENDPOINTS["managers"]))["managers"] == []
    # Without a date: the site's today.
    today = await api.json("city", "/api/v1/projects/proj-a/managers-on-duty")
    assert today["date"] == api.clock.today().isoformat()
    assert today["present"] + today["absent"] == 2


async def test_attendance_pages(api: Api) -> None:
    base = {"project_id": "proj-a", "from": "2025-05-05", "to": "2025-05-06"}
    first = await api.json("city", "/api/v1/attendance", {**base, "limit": "3"})
    rest = await api.json(
        "city", "/api/v1/attendance", {**base, "limit": "3", "cursor": first["next_cursor"]}
    )
    rows = first["items"] + rest["items"]
    assert rest["next_cursor"] is None
    assert [(r["day"], r["person_id"], r["hours"], r["passages"]) for r in rows] == [
        ("2025-05-05", "per-m1", 11.0, 2),
        ("2025-05-05", "per-w1", 8.0, 4),
        ("2025-05-05", "per-w2", 0.0, 1),
        ("2025-05-06", "per-w1", 8.0, 2),
    ]
    assert rows[1]["first_in"] == "2025-05-05T08:00:00+08:00"
    assert rows[1]["name"] == "王伟"
    mine = await api.json("sub-a", "/api/v1/attendance", base)
    assert {r["person_id"] for r in mine["items"]} == {"per-w1", "per-w2"}
    person_month = await api.json(
        "city", "/api/v1/attendance", {"person_id": "per-w1", "from": "2025-04-01", "to": "2025-05-31"}
    )
    assert [r["day"] for r in person_month["items"]] == ["2025-04-30", "2025-05-05", "2025-05-06"]


@pytest.mark.parametrize(
    ("params", "code", "names"),
    [
        ({"from": "2025-01-01", "to": "2025-04-03"}, "invalid_parameter", "92 days"),
        ({"from": "2025-05-06", "to": "2025-05-05"}, "invalid_parameter", "'to'"),
        ({"from": "2025-5-6"}, "invalid_parameter", "YYYY-MM-DD"),
        ({"from": "2025-02-30"}, "invalid_parameter", "'from'"),
        ({"cursor": "bm9wZQ"}, "invalid_cursor", "cursor"),
        ({"limit": "0"}, "invalid_parameter", "'limit'"),
        ({"projectid": "proj-a"}, "unknown_parameter", "projectid"),
    ],
)
async def test_attendance_refuses_bad_queries(
    api: Api, params: dict[str, str], code: str, names: str
) -> None:
    body = await api.json("city", "/api/v1/attendance", params, status=400)
    assert body["error"]["code"] == code
    assert names in body["error"]["message"]


async def test_monthly(api: Api) -> None:
    body = await api.json("city", ENDPOINTS["monthly"])
    assert body["month"] == "2025-05"
    assert body["totals"] == {"persons": 3, "person_days": 4, "hours": 27.0, "seconds_on_site": 27 * 3600}
    w1 = body["persons"][1]
    assert (w1["person_id"], w1["enterprise_name"], w1["days_present"], w1["hours"]) == (
        "per-w1",
        "拱墅劳务有限公司",
        2,
        16.0,
    )
    bad = await api.json("city", "/api/v1/projects/proj-a/attendance/monthly?month=2025-13", status=400)
    assert "YYYY-MM" in bad["error"]["message"]
    # Digits int() refuses though str.isdigit() takes them (the API fuzzer's month=³ was a 500).
    for month in ("%C2%B3", "%D9%A3%D9%A3%D9%A3%D9%A3-05", "²⁰²⁵-05"):
        bad = await api.json("city", f"/api/v1/summaries/districts?month={month}", status=400)
        assert bad["error"]["code"], bad


async def test_registration_statistics(api: Api) -> None:
    path = "/api/v1/statistics/registration"
    every = await api.json("city", path)
    assert [d["district"] for d in every["districts"]] == [w.GONGSHU, w.XIHU, w.YUHANG]
    assert every["totals"] == {
        "projects_with_permit": 3,
        "projects_registered": 2,
        "workers_registered": 5,
        "managers_registered": 2,
        "persons_registered": 7,
        "enterprises": 4,
    }
    own = await api.json("district-xihu", path)
    assert [(d["district"], d["name"], d["projects_with_permit"]) for d in own["districts"]] == [
        (w.XIHU, "西湖区", 2)
    ]
    assert (await api.json("city", path, {"district": w.GONGSHU}))["totals"]["workers_registered"] == 2
    await api.json("district-xihu", path, {"district": w.GONGSHU}, status=403)
    await api.json("city", path, {"district": "999999"}, status=404)


async def test_csv_export_streams_scoped_rows(api: Api) -> None:
    response = await api.get("city", "/api/v1/access-events/export.csv", WINDOW)
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Transfer-Encoding"] == "chunked"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="access-events_20250505T000000_20250507T000000.csv"'
    )
    text = (await response.read()).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == export.HEADER
    assert len(rows) == 1 + 10  # the fixed days' passages, both projects
    assert rows[1][0] == "2025-05-06T16:00:00+08:00"
    for secret in [
        *api.world.id_numbers,
        *api.world.id_masked,
        *(e.credential_hash for e in api.world.events),
    ]:
        assert secret not in text
    mine = await api.get("sub-a", "/api/v1/access-events/export.csv", WINDOW)
    mine_rows = list(csv.reader(io.StringIO((await mine.read()).decode("utf-8-sig"))))
    assert {row[9] for row in mine_rows[1:]} == {"per-w1", "per-w2"}
    filtered = await api.get("city", "/api/v1/access-events/export.csv", {**WINDOW, "person_id": "per-m1"})
    assert len((await filtered.read()).decode("utf-8-sig").splitlines()) == 1 + 2


@pytest.mark.parametrize(
    ("params", "names"),
    [
        ({"until": WINDOW["until"]}, "'since' is required"),
        ({"since": WINDOW["since"]}, "'until' is required"),
        ({"since": "2025-05-01T00:00:00+08:00", "until": "2025-06-02T00:00:00+08:00"}, "31 days"),
        ({**WINDOW, "decision": "maybe"}, "'decision'"),
        ({**WINDOW, "limit": "10"}, "'limit'"),
    ],
)
async def test_csv_export_refuses_unbounded_or_bad_queries(
    api: Api, params: dict[str, str], names: str
) -> None:
    body = await api.json("city", "/api/v1/access-events/export.csv", params, status=400)
    assert names in body["error"]["message"]


def _on_site_day(world: w.World, project: str, day: date) -> dict[str, int]:
    """Person -> passages on ``project`` on the site's calendar ``day`` (Beijing time), from the
    world's own events: the oracle the hub's day-by-day figures are held to."""
    found: dict[str, int] = {}
    for event in world.events:
        if event.project_id == project and event.wall_time.astimezone(SITE_ZONE).date() == day:
            assert event.person_id is not None
            found[event.person_id] = found.get(event.person_id, 0) + 1
    return found


async def _today_as_the_hub_says(api: Api, day: date) -> None:
    expected = _on_site_day(api.world, "proj-a", day)
    managers = await api.json("city", "/api/v1/projects/proj-a/managers-on-duty")
    assert managers["date"] == day.isoformat()
    present = {m["person_id"] for m in managers["managers"] if m["present"]}
    assert present == {"per-m1", "per-m2"} & set(expected)
    rows = await api.json("city", "/api/v1/attendance", {"project_id": "proj-a"})
    assert {r["day"] for r in rows["items"]} <= {day.isoformat()}
    assert {r["person_id"]: r["passages"] for r in rows["items"]} == expected


# Who has passages on proj-a on the clock's day, by the world's recent passages (w1 in 2 h ago,
# w2 in 3 h and out 1 h ago, w3 in 20 h ago, m1 and x in 1 h ago, m2 in 30 min ago).
TODAYS_PEOPLE = {
    "23:59:59": {"per-w1", "per-w2", "per-w3", "per-m1", "per-m2", "per-x"},
    "00:30": {"per-m2"},  # in at 00:00:00 sharp; every other passage was before midnight
    "29-Feb": {"per-w1", "per-w2", "per-m1", "per-m2", "per-x"},  # w3's in was at 16:00 on the 28th
}


@pytest.mark.parametrize(
    ("clock", "people"),
    [pytest.param(*edge.values, TODAYS_PEOPLE[str(edge.id)], id=edge.id) for edge in DAY_EDGES],
    indirect=["clock"],
)
async def test_without_a_date_the_day_is_the_sites_today(api: Api, people: set[str]) -> None:
    """Managers on duty and attendance default to the site's calendar day (Beijing time), whatever
    the UTC date; from the site's next midnight they are of a new, empty day."""
    today = api.clock.today()
    assert set(_on_site_day(api.world, "proj-a", today)) == people
    await _today_as_the_hub_says(api, today)
    api.clock.set(midnight_after(today))
    assert _on_site_day(api.world, "proj-a", today + timedelta(days=1)) == {}
    await _today_as_the_hub_says(api, today + timedelta(days=1))
