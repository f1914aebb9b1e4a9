"""Monthly summaries over HTTP, on both stores: each figure against the world's passages, scope
per account, CSV as a spreadsheet reads it."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

import pytest

from hub.workflows import deductions, orders
from hub.workflows.models import DeductionIn, OrderIn
from hub.workflows.summary import Summaries
from tests.hub.clocked import DAY_EDGES, midnight_after
from tests.hub.oversight import world as w
from tests.hub.workflows.conftest import Api

MAY = {"month": "2025-05"}


async def _in_may(api: Api) -> None:
    """An order issued in May 2025 and due then, never answered (overdue), and a deduction."""
    xihu = api.principals["district-xihu"]
    issued = w.at(w.DAY, 10)
    data = OrderIn(project_id="proj-a", subject="s", requirements="r", deadline=w.DAY + timedelta(days=3))
    order = await orders.Orders(api.store, xihu).issue(data, now=issued)
    data2 = DeductionIn(enterprise_id="ent-gc1", points=4, reason="r", order_id=order.id)
    await deductions.Deductions(api.store, xihu).deduct(data2, now=issued + timedelta(days=5))


async def test_project_month_figures(api: Api) -> None:
    await _in_may(api)
    body = await api.ok("city", "GET", "/api/v1/summaries/projects", params=MAY)
    assert body["month"] == "2025-05"
    rows = {row["project_id"]: row for row in body["items"]}
    assert set(rows) == {"proj-a", "proj-b", "proj-c"}
    a = rows["proj-a"]
    # w1 on the 5th (8 h) and 6th (8 h), m1 on the 5th (11 h), w2 on the 5th (never out: 0 h);
    # w1's 30 April passage is not May.
    assert {k: a[k] for k in ("persons_attended", "person_days", "seconds_on_site", "hours")} == {
        "persons_attended": 3, "person_days": 4, "seconds_on_site": 27 * 3600, "hours": 27.0,
    }  # fmt: skip
    assert {k: a[k] for k in ("persons_assigned", "new_assignments", "managers_assigned")} == {
        "persons_assigned": 6, "new_assignments": 0, "managers_assigned": 2,
    }  # fmt: skip
    assert (a["managers_present"], a["manager_days"]) == (1, 1)
    assert (a["orders_issued"], a["orders_open_overdue"], a["deductions"], a["points_deducted"]) == (
        1,
        1,
        1,
        4,
    )
    assert (rows["proj-c"]["registered"], rows["proj-c"]["person_days"]) == (False, 0)
    assert rows["proj-b"]["person_days"] == 1

    june = await api.ok("city", "GET", "/api/v1/summaries/projects", params={"month": "2025-06"})
    assert {row["project_id"]: row["person_days"] for row in june["items"]}["proj-a"] == 0

    gc = await api.ok("gc-a", "GET", "/api/v1/summaries/projects", params=MAY)
    assert [row["project_id"] for row in gc["items"]] == ["proj-a"] and gc["items"][0] == a
    sub = (await api.ok("sub-a", "GET", "/api/v1/summaries/projects", params=MAY))["items"]
    assert [(r["project_id"], r["persons_assigned"], r["person_days"], r["orders_issued"]) for r in sub] == [
        ("proj-a", 2, 3, 0)  # its own two workers; orders to the project are the GC's
    ]
    xihu = await api.ok("district-xihu", "GET", "/api/v1/summaries/projects", params=MAY)
    assert [row["project_id"] for row in xihu["items"]] == ["proj-a", "proj-c"]
    await api.error("operator", "GET", "/api/v1/summaries/projects", 403, "forbidden")
    await api.error(
        "city", "GET", "/api/v1/summaries/projects", 400, "invalid_parameter", params={"month": "May"}
    )


async def test_district_month_and_csv(api: Api) -> None:
    await _in_may(api)
    body = await api.ok("city", "GET", "/api/v1/summaries/districts", params=MAY)
    rows = {row["district"]: row for row in body["items"]}
    assert set(rows) == {w.XIHU, w.GONGSHU, w.YUHANG}
    xihu = rows[w.XIHU]
    assert (xihu["projects_with_permit"], xihu["projects_registered"]) == (2, 1)
    assert (xihu["person_days"], xihu["manager_days"], xihu["hours"]) == (4, 1, 27.0)
    assert (xihu["orders_issued"], xihu["orders_open_overdue"], xihu["points_deducted"]) == (1, 1, 4)
    assert rows[w.GONGSHU]["person_days"] == 1 and rows[w.YUHANG]["person_days"] == 0

    own = await api.ok("district-xihu", "GET", "/api/v1/summaries/districts", params=MAY)
    assert [row["district"] for row in own["items"]] == [w.XIHU]
    await api.error(
        "district-gongshu", "GET", "/api/v1/summaries/districts", 403, "forbidden",
        params={**MAY, "district": w.XIHU},
    )  # fmt: skip
    await api.error("gc-a", "GET", "/api/v1/summaries/districts", 403, "forbidden")
    # Below the API too: a bureau's summary is its own district's, whichever it names.
    bureau = Summaries(api.store, api.principals["district-gongshu"])
    asked = await bureau.districts_month(date(2025, 5, 1), today=api.clock.wall().date(), district=w.XIHU)
    assert [row.district for row in asked] == [w.GONGSHU]
    await api.error(
        "city", "GET", "/api/v1/summaries/districts", 404, "not_found", params={"district": "999999"}
    )

    response = await api.client.get(
        "/api/v1/summaries/districts.csv", params=MAY, headers=api.headers["city"]
    )
    assert response.status == 200 and response.content_type == "text/csv"
    assert "districts-summary_2025-05.csv" in response.headers["Content-Disposition"]
    text = await response.text()
    assert text.startswith("\ufeff")
    table = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert {row["district"]: row["person_days"] for row in table} == {
        w.XIHU: "4",
        w.GONGSHU: "1",
        w.YUHANG: "0",
    }
    status, projects_csv = await api.call("gc-a", "GET", "/api/v1/summaries/projects.csv", params=MAY)
    assert status == 200
    lines = list(csv.reader(io.StringIO(projects_csv.lstrip("\ufeff"))))
    assert lines[0][:2] == ["project_id", "name"] and [line[0] for line in lines[1:]] == ["proj-a"]


def _projects(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["project_id"]: row for row in body["items"]}


@pytest.mark.parametrize("clock", DAY_EDGES, indirect=True)
async def test_the_month_turns_at_the_sites_midnight(api: Api) -> None:
    """Without a month, the summary is of the site's current month; an order due on its last day
    counts as overdue in it only from the next month's first midnight (Beijing time)."""
    today = api.clock.today()
    first = today.replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    data = OrderIn(project_id="proj-a", subject="s", requirements="r", deadline=last)
    await orders.Orders(api.store, api.principals["district-xihu"]).issue(data, now=api.clock.wall())
    path = "/api/v1/summaries/projects"

    async def current(month: date) -> dict[str, Any]:
        body = await api.ok("city", "GET", path)
        assert body["month"] == month.strftime("%Y-%m")
        return _projects(body)["proj-a"]

    row = await current(first)
    assert (row["orders_issued"], row["orders_open_overdue"]) == (1, 0)
    api.clock.set(midnight_after(last) - timedelta(seconds=1))
    row = await current(first)
    assert (row["orders_issued"], row["orders_open_overdue"]) == (1, 0)

    api.clock.advance(timedelta(seconds=1))
    following = last + timedelta(days=1)
    assert following.day == 1
    row = await current(following)
    assert (row["orders_issued"], row["orders_open_overdue"]) == (0, 0)
    asked = _projects(await api.ok("city", "GET", path, params={"month": first.strftime("%Y-%m")}))
    assert (asked["proj-a"]["orders_issued"], asked["proj-a"]["orders_open_overdue"]) == (1, 1)
