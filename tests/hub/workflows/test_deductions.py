"""Credit deductions over HTTP, on both stores: against enterprises and project leaders, tied to
the order they come from, refused where they do not fit, and seen only in scope."""

from __future__ import annotations

from datetime import timedelta

from tests.hub.workflows.conftest import Api

DEDUCTIONS = "/api/v1/credit-deductions"


async def _order(api: Api, **target: str) -> int:
    deadline = (api.clock.today() + timedelta(days=5)).isoformat()
    body = {"subject": "整改", "requirements": "按期整改", "deadline": deadline, **target}
    return int((await api.ok("district-xihu", "POST", "/api/v1/rectification-orders", 201, json=body))["id"])


async def _seen(api: Api, who: str, **params: str) -> set[int]:
    return {item["id"] for item in (await api.ok(who, "GET", DEDUCTIONS, params=params))["items"]}


async def test_deductions_from_an_order_and_who_sees_them(api: Api) -> None:
    to_project = await _order(api, project_id="proj-a")
    against_gc = await api.ok(
        "district-xihu", "POST", DEDUCTIONS, 201,
        json={"enterprise_id": "ent-gc1", "points": 3, "reason": "考勤不全", "order_id": to_project},
    )  # fmt: skip
    assert (against_gc["project_id"], against_gc["enterprise_name"], against_gc["district"]) == (
        "proj-a", "西湖建工集团", "330106",
    )  # fmt: skip
    against_leader = await api.ok(
        "city", "POST", DEDUCTIONS, 201,
        json={"person_id": "per-m1", "project_id": "proj-a", "points": 2, "reason": "项目经理长期不在岗"},
    )  # fmt: skip
    assert (against_leader["person_name"], against_leader["deducted_by"]) == ("刘静", "city")
    against_sub = await api.ok(
        "district-gongshu", "POST", DEDUCTIONS, 201,
        json={"enterprise_id": "ent-sub1", "points": 1, "reason": "未登记人员进场"},
    )  # fmt: skip
    both_a = {against_gc["id"], against_leader["id"]}

    assert await _seen(api, "city") == {*both_a, against_sub["id"]}
    assert await _seen(api, "district-xihu") == both_a
    assert await _seen(api, "district-gongshu") == {against_sub["id"]}
    assert await _seen(api, "ent-gc1") == both_a  # itself, and its manager per-m1
    assert await _seen(api, "ent-sub1") == {against_sub["id"]}
    assert await _seen(api, "gc-a") == both_a
    assert await _seen(api, "sup-a") == both_a
    assert await _seen(api, "sub-a") == set()
    assert await _seen(api, "gc-b") == set()
    assert await _seen(api, "city", order_id=str(to_project)) == {against_gc["id"]}
    assert await _seen(api, "city", person_id="per-m1") == {against_leader["id"]}
    await api.error("operator", "GET", DEDUCTIONS, 403, "forbidden")


async def test_what_a_deduction_is_refused_for(api: Api) -> None:
    to_project = await _order(api, project_id="proj-a")
    to_enterprise = await _order(api, enterprise_id="ent-sub1")

    async def refused(who: str, status: int, code: str, **body: object) -> str:
        return await api.error(
            who, "POST", DEDUCTIONS, status, code, json={"points": 1, "reason": "r", **body}
        )

    assert "per-w1" in await refused(
        "city", 422, "not_a_project_leader", person_id="per-w1", project_id="proj-a"
    )
    await refused("city", 422, "not_a_project_leader", person_id="per-b1", project_id="proj-a")
    await refused("city", 422, "unknown_person", person_id="per-nope", project_id="proj-a")
    await refused("city", 422, "invalid_body", person_id="per-m1")  # no project
    await refused(
        "city", 422, "invalid_body", enterprise_id="ent-gc1", person_id="per-m1", project_id="proj-a"
    )
    await refused("city", 422, "invalid_body", enterprise_id="ent-gc1", points=0)
    await refused("city", 422, "order_target_mismatch", enterprise_id="ent-gc2", order_id=to_project)
    await refused("city", 422, "order_target_mismatch", enterprise_id="ent-gc1", order_id=to_enterprise)
    await refused(
        "city", 422, "order_target_mismatch", person_id="per-b1", project_id="proj-b", order_id=to_project
    )
    await refused("city", 422, "unknown_order", enterprise_id="ent-gc1", order_id=999999)
    # An order another bureau cannot see is no order at all to it.
    await refused("district-gongshu", 422, "unknown_order", enterprise_id="ent-sub1", order_id=to_project)
    await refused("district-gongshu", 403, "outside_district", person_id="per-m1", project_id="proj-a")
    await refused("gc-a", 403, "forbidden", enterprise_id="ent-gc1")
    # From an order to an enterprise: one of its own people may bear it (per-w1 works for ent-sub1) only
    # if a project leader; the enterprise itself may.
    ok = await api.ok(
        "district-xihu", "POST", DEDUCTIONS, 201,
        json={"enterprise_id": "ent-sub1", "points": 5, "reason": "逾期", "order_id": to_enterprise},
    )  # fmt: skip
    assert ok["order_id"] == to_enterprise and ok["project_id"] is None
    assert await _seen(api, "city") == {ok["id"]}  # nothing refused was stored
