"""Rectification orders over HTTP, on both stores: the whole life of an order, who may do what,
what each account sees, overdue and escalation computed from the deadline (a site's day: from
its midnight, Beijing time), the audit trail. "Today" is always the app's FakeClock's."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from hub.store.schema import audit_log
from hub.workflows import orders
from hub.workflows.models import OrderIn
from tests.hub.clocked import DAY_EDGES, midnight_after
from tests.hub.workflows.conftest import Api

ORDERS = "/api/v1/rectification-orders"
SECOND = timedelta(seconds=1)


def _order(api: Api, **fields: object) -> dict[str, object]:
    deadline = (api.clock.today() + timedelta(days=7)).isoformat()
    return {
        "subject": "实名制考勤不全",
        "requirements": "补录进出记录并整改闸机",
        "deadline": deadline,
        **fields,
    }


async def _visible_ids(api: Api, who: str, **params: str) -> set[int]:
    body = await api.ok(who, "GET", ORDERS, params=params)
    return {item["id"] for item in body["items"]}


async def test_an_order_is_issued_answered_sent_back_and_closed(api: Api) -> None:
    issued = await api.ok("district-xihu", "POST", ORDERS, 201, json=_order(api, project_id="proj-a"))
    order_id = issued["id"]
    assert (issued["status"], issued["district"], issued["overdue"], issued["escalated"]) == (
        "open", "330106", False, False,
    )  # fmt: skip
    assert issued["recipient_name"] == "测试工程 proj-a"
    path = f"{ORDERS}/{order_id}"

    # The recipient's accounts see it; a subcontractor's department, another district, another project do not.
    for who in ("city", "district-xihu", "gc-a", "sup-a", "ent-gc1"):
        assert order_id in await _visible_ids(api, who), who
    for who in ("sub-a", "district-gongshu", "gc-b"):
        assert await _visible_ids(api, who) == set(), who
        await api.error(who, "GET", path, 404, "not_found")
    await api.error("operator", "GET", ORDERS, 403, "forbidden")

    # Only the recipient responds; only the issuing side judges.
    await api.error("sub-a", "POST", f"{path}/response", 403, "forbidden", json={"response": "x"})
    await api.error("ent-sub1", "POST", f"{path}/response", 403, "forbidden", json={"response": "x"})
    await api.error("gc-a", "POST", f"{path}/review", 403, "forbidden", json={"accept": True})
    await api.error(
        "district-xihu", "POST", f"{path}/review", 409, "order_not_responded", json={"accept": True}
    )
    answered = await api.ok("gc-a", "POST", f"{path}/response", json={"response": "已补录, 闸机已修复"})
    assert answered["status"] == "responded" and answered["responded_at"]
    await api.error("gc-a", "POST", f"{path}/response", 409, "order_not_open", json={"response": "again"})

    # Sent back: a note is required, and a new deadline may come with it.
    await api.error("district-xihu", "POST", f"{path}/review", 422, "invalid_body", json={"accept": False})
    new_deadline = (api.clock.today() + timedelta(days=14)).isoformat()
    back = await api.ok(
        "district-xihu", "POST", f"{path}/review",
        json={"accept": False, "note": "考勤仍不全", "new_deadline": new_deadline},
    )  # fmt: skip
    assert (back["status"], back["deadline"]) == ("open", new_deadline)
    await api.error("district-gongshu", "POST", f"{path}/review", 404, "not_found", json={"accept": True})

    # The GC's enterprise account may answer for its project too; then the city closes it.
    await api.ok("ent-gc1", "POST", f"{path}/response", json={"response": "全部补录"})
    closed = await api.ok("city", "POST", f"{path}/review", json={"accept": True, "note": "同意销项"})
    assert closed["status"] == "closed" and closed["closed_at"]
    steps = [(s["action"], s["username"]) for s in closed["history"]]
    assert steps == [
        ("issue", "district-xihu"),
        ("respond", "gc-a"),
        ("reject", "district-xihu"),
        ("respond", "ent-gc1"),
        ("accept", "city"),
    ]
    async with api.store.read("test") as conn:
        actions = (
            await conn.execute(
                select(audit_log.c.action, audit_log.c.username)
                .where(audit_log.c.target == f"order:{order_id}")
                .order_by(audit_log.c.id)
            )
        ).all()
    assert [(a, u) for a, u in actions] == [(f"workflow.order.{a}", u) for a, u in steps]


async def test_orders_to_enterprises_and_what_is_refused(api: Api) -> None:
    # ent-sub1 is registered in Gongshu but works on proj-a in Xihu: both bureaus may order it.
    by_xihu = await api.ok("district-xihu", "POST", ORDERS, 201, json=_order(api, enterprise_id="ent-sub1"))
    assert by_xihu["district"] == "330106"
    by_gongshu = await api.ok(
        "district-gongshu", "POST", ORDERS, 201, json=_order(api, enterprise_id="ent-sub1")
    )
    assert await _visible_ids(api, "ent-sub1") == {by_xihu["id"], by_gongshu["id"]}
    assert await _visible_ids(api, "ent-gc1") == set()
    assert await _visible_ids(api, "district-xihu") == {by_xihu["id"]}
    await api.ok("ent-sub1", "POST", f"{ORDERS}/{by_xihu['id']}/response", json={"response": "done"})

    message = await api.error(
        "district-xihu", "POST", ORDERS, 403, "outside_district", json=_order(api, enterprise_id="ent-gc2")
    )
    assert "ent-gc2" in message
    await api.error(
        "district-gongshu", "POST", ORDERS, 403, "outside_district", json=_order(api, project_id="proj-a")
    )
    await api.error("gc-a", "POST", ORDERS, 403, "forbidden", json=_order(api, project_id="proj-a"))
    await api.error("city", "POST", ORDERS, 422, "unknown_project", json=_order(api, project_id="proj-nope"))
    await api.error(
        "city", "POST", ORDERS, 422, "unknown_enterprise", json=_order(api, enterprise_id="ent-nope")
    )
    both = _order(api, project_id="proj-a", enterprise_id="ent-gc1")
    assert "exactly one" in await api.error("city", "POST", ORDERS, 422, "invalid_body", json=both)
    yesterday = (api.clock.today() - timedelta(days=1)).isoformat()
    past = _order(api, project_id="proj-a", deadline=yesterday)
    await api.error("city", "POST", ORDERS, 422, "deadline_in_past", json=past)
    await api.error("city", "GET", f"{ORDERS}/999999", 404, "not_found")
    await api.error("city", "GET", f"{ORDERS}/abc", 404, "not_found")
    await api.error("city", "GET", ORDERS, 400, "invalid_parameter", params={"status": "lost"})


@pytest.mark.parametrize("clock", DAY_EDGES, indirect=True)
async def test_an_order_past_its_deadline_is_overdue_and_escalated(api: Api) -> None:
    now = api.clock.wall()
    data = OrderIn(
        project_id="proj-a",
        subject="逾期未整改",
        requirements="补录",
        deadline=api.clock.today() - timedelta(days=3),
    )
    late = await orders.Orders(api.store, api.principals["district-xihu"]).issue(
        data, now=now - timedelta(days=10)
    )
    on_time = await api.ok("district-xihu", "POST", ORDERS, 201, json=_order(api, project_id="proj-a"))
    got = await api.ok("city", "GET", f"{ORDERS}/{late.id}")
    assert (got["overdue"], got["escalated"]) == (True, True)
    assert await _visible_ids(api, "city", overdue="true") == {late.id}
    assert await _visible_ids(api, "gc-a", overdue="false") == {on_time["id"]}
    alerts = await api.ok("city", "GET", "/api/v1/alerts")
    overdue = [a for a in alerts["items"] if a["kind"] == "order_overdue"]
    assert [a["subject"] for a in overdue] == [f"order:{late.id}"]
    assert "escalated" in overdue[0]["message"]
    # A late response clears the flag (the order is no longer open), and the audit line says it was late.
    answered = await api.ok("gc-a", "POST", f"{ORDERS}/{late.id}/response", json={"response": "迟复"})
    assert (answered["status"], answered["overdue"]) == ("responded", False)
    async with api.store.read("test") as conn:
        detail = await conn.scalar(
            select(audit_log.c.detail).where(audit_log.c.action == "workflow.order.respond")
        )
    assert detail == {"late": True}


async def test_paging_is_newest_first_without_repeats(api: Api) -> None:
    made = [
        (await api.ok("city", "POST", ORDERS, 201, json=_order(api, project_id="proj-b")))["id"]
        for _ in range(5)
    ]
    seen: list[int] = []
    cursor = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = await api.ok("city", "GET", ORDERS, params=params)
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(made, reverse=True)
    await api.error("city", "GET", ORDERS, 400, "invalid_cursor", params={"cursor": "nonsense"})


@pytest.mark.parametrize("clock", DAY_EDGES, indirect=True)
async def test_an_order_due_today_is_overdue_from_the_sites_next_midnight(api: Api) -> None:
    """A deadline is a site day: due today is in time until 23:59:59 Beijing time, overdue (and
    escalated, and in the alerts) from 00:00, and that day is no longer a deadline one may set."""
    today = api.clock.today()
    yesterday = (today - timedelta(days=1)).isoformat()
    await api.error(
        "city",
        "POST",
        ORDERS,
        422,
        "deadline_in_past",
        json=_order(api, project_id="proj-a", deadline=yesterday),
    )
    due = await api.ok(
        "district-xihu",
        "POST",
        ORDERS,
        201,
        json=_order(api, project_id="proj-a", deadline=today.isoformat()),
    )
    path = f"{ORDERS}/{due['id']}"
    assert (due["deadline"], due["overdue"], due["escalated"]) == (today.isoformat(), False, False)

    midnight = midnight_after(today)
    api.clock.set(midnight - SECOND)  # the last second of the deadline's day
    got = await api.ok("city", "GET", path)
    assert (got["overdue"], got["escalated"]) == (False, False)
    assert await _visible_ids(api, "city", overdue="true") == set()
    alerts = await api.ok("city", "GET", "/api/v1/alerts")
    assert "order_overdue" not in {a["kind"] for a in alerts["items"]}

    api.clock.advance(SECOND)  # the site's midnight
    assert api.clock.today() == today + timedelta(days=1)
    got = await api.ok("city", "GET", path)
    assert (got["overdue"], got["escalated"]) == (True, True)
    assert await _visible_ids(api, "city", overdue="true") == {due["id"]}
    alerts = await api.ok("city", "GET", "/api/v1/alerts")
    assert [a["subject"] for a in alerts["items"] if a["kind"] == "order_overdue"] == [f"order:{due['id']}"]
    await api.error(
        "city", "POST", ORDERS, 422, "deadline_in_past",
        json=_order(api, project_id="proj-a", deadline=today.isoformat()),
    )  # fmt: skip
