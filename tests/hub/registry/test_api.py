"""The registry over HTTP with real tokens, on both stores: the notice's flow from permit to
inspection, each bad input with its exact code, masking per role, and no ID number in any log
line or audit detail."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from hub.api.keys import REGISTRY, STORE
from hub.auth.principal import Principal
from hub.registry.models import AccountIn, AssignmentIn, GateIn, ProjectIn, RegistrationIn
from hub.store.schema import audit_log
from tests.hub.registry.conftest import HOME, PASSWORD, Client, World, new_number, uscc
from tests.support.accounts import bearer, token_headers


async def call(
    client: Client,
    method: str,
    path: str,
    who: Principal | dict[str, str] | None,
    body: Any = None,
    status: int = 200,
) -> Any:
    headers = who if isinstance(who, dict) else (await token_headers(client.app[STORE], who) if who else {})
    response = await client.request(method, path, json=body, headers=headers)
    text = await response.text()
    assert response.status == status, text
    return await response.json() if text else None


async def error(client: Client, method: str, path: str, who: Any, body: Any, status: int, code: str) -> str:
    answer = await call(client, method, path, who, body, status)
    assert set(answer) == {"error"} and answer["error"]["code"] == code, answer
    return str(answer["error"]["message"])


def person_body(world: World, number: str | None = None, **changes: Any) -> dict[str, Any]:
    values = {
        "card_kind": "resident",
        "id_number": number or new_number(world.rng),
        "name": "陈静",
        "enterprise_id": world.sub.id,
        "category": "worker",
    }
    return {**values, **changes}


async def test_from_permit_to_inspection_over_http(client: Client, http_world: World) -> None:
    world = http_world
    # The city registers a general contractor from outside the city; its account is its number.
    number = uscc(20)
    enterprise = await call(
        client,
        "POST",
        "/api/v1/enterprises",
        world.city,
        {
            "number": number,
            "name": "外地总包",
            "kind": "general_contractor",
            "district": HOME,
            "local": False,
            "password": PASSWORD,
        },
        201,
    )
    assert enterprise["number"] == number and enterprise["local"] is False and "password" not in enterprise
    # The bureau records the permit; the GC logs in with its enterprise number and registers (报备).
    project = await call(
        client,
        "POST",
        "/api/v1/projects",
        world.district,
        {
            "id": "site-c",
            "permit_number": "330106202604040404",
            "name": "丰潭路项目",
            "district": HOME,
            "address": "丰潭路4号",
            "gc_enterprise_id": enterprise["id"],
            "permit_issued_on": "2026-04-04",
        },
        201,
    )
    assert project["registered_at"] is None
    gc = await bearer(client, number, PASSWORD)
    registered = await call(
        client,
        "POST",
        "/api/v1/projects/site-c/registration",
        gc,
        {"account": {"username": "site-c-gc", "password": PASSWORD}},
    )
    assert registered["registered_at"] is not None
    await error(
        client,
        "POST",
        "/api/v1/projects/site-c/registration",
        gc,
        {"account": {"username": "site-c-gc2", "password": PASSWORD}},
        409,
        "project_already_registered",
    )
    # The GC's project department registers the labour subcontractor's and the supervisor's departments.
    department = await bearer(client, "site-c-gc", PASSWORD)
    for enterprise_id, role, username in (
        (world.sub.id, "subcontractor", "site-c-labour"),
        (world.supervisor.id, "supervision", "site-c-supervision"),
    ):
        party = await call(
            client,
            "POST",
            "/api/v1/projects/site-c/parties",
            department,
            {
                "enterprise_id": enterprise_id,
                "role": role,
                "account": {"username": username, "password": PASSWORD},
            },
            201,
        )
        assert party["account"] == username
    parties = await call(client, "GET", "/api/v1/projects/site-c/parties", department)
    assert [p["role"] for p in parties["items"]] == ["general_contractor", "subcontractor", "supervision"]
    # The bureau registers a worker of the subcontractor (作业人员备案) and sees the whole number.
    id_number = new_number(world.rng)
    worker = await call(client, "POST", "/api/v1/persons", world.district, person_body(world, id_number), 201)
    assert worker["id_number"] == id_number and worker["id_number_masked"] is False
    # The subcontractor's department puts its worker on site (进场) and later takes them off (退场).
    labour = await bearer(client, "site-c-labour", PASSWORD)
    found = await call(client, "POST", "/api/v1/persons/lookup", labour, {"id_number": id_number})
    assert found == {"person_id": worker["id"]}
    assigned = await call(
        client,
        "POST",
        "/api/v1/projects/site-c/assignments",
        labour,
        {
            "person_id": worker["id"],
            "enterprise_id": world.sub.id,
            "role": "worker",
            "entry_date": "2026-04-10",
        },
        201,
    )
    mine = await call(client, "GET", "/api/v1/projects/site-c/assignments", labour)
    assert [a["id"] for a in mine["items"]] == [assigned["id"]] and mine["next_cursor"] is None
    ended = await call(
        client, "PATCH", f"/api/v1/assignments/{assigned['id']}", labour, {"exit_date": "2026-06-30"}
    )
    assert ended["exit_date"] == "2026-06-30" and ended["entry_date"] == "2026-04-10"
    # The operator places the lanes; the supervisor files an inspection the GC reads.
    gate = {"device_id": "lane-c1", "lane": "north-1", "direction": "in", "name": "北门"}
    assert (await call(client, "POST", "/api/v1/projects/site-c/gates", world.operator, gate, 201))[
        "lane"
    ] == "north-1"
    moved = await call(
        client, "POST", "/api/v1/projects/site-c/gates", world.operator, {**gate, "lane": "north-2"}, 200
    )
    assert moved["lane"] == "north-2"
    assert [
        g["device_id"]
        for g in (await call(client, "GET", "/api/v1/projects/site-c/gates", world.operator))["items"]
    ] == ["lane-c1"]
    supervision = await bearer(client, "site-c-supervision", PASSWORD)
    await call(
        client,
        "POST",
        "/api/v1/projects/site-c/inspections",
        supervision,
        {"inspected_on": "2026-04-20", "findings": "现场实名制运行正常"},
        201,
    )
    inspections = await call(client, "GET", "/api/v1/projects/site-c/inspections", department)
    assert [i["account"] for i in inspections["items"]] == ["site-c-supervision"]
    # The bureau flags the worker; every project the worker is on gets a new roster.
    flagged = await call(
        client,
        "PUT",
        f"/api/v1/persons/{worker['id']}/watchlist",
        world.district,
        {"flag": True, "reason": "证件冒用"},
    )
    assert flagged["watchlisted"] is True
    await call(client, "DELETE", "/api/v1/projects/site-c/gates/lane-c1", world.district, status=204)
    assert world.roster_calls == ["site-c"] * 6  # assign, exit, place, move, flag, remove


BAD_INPUTS = [
    # (method, path, who, body, status, code)
    ("POST", "/api/v1/persons", "city", {"id_number": "BAD"}, 422, "invalid_id_number"),
    ("POST", "/api/v1/persons", "city", {"id_number": "WORKER"}, 409, "person_already_registered"),
    ("POST", "/api/v1/persons", "city", {"enterprise_id": "ent-nobody"}, 422, "unknown_enterprise"),
    ("POST", "/api/v1/persons", "city", {"birth_date": "1950-01-01"}, 422, "birth_date_mismatch"),
    ("POST", "/api/v1/persons", "city", {"category": "manager"}, 422, "invalid_body"),
    ("POST", "/api/v1/enterprises", "city", {"number": "GC"}, 409, "enterprise_number_taken"),
    (
        "POST",
        "/api/v1/enterprises",
        "city",
        {"number": "91330106MA00000011"},
        422,
        "invalid_enterprise_number",
    ),
    ("POST", "/api/v1/enterprises", "city", {"district": "310101"}, 422, "unknown_district"),
    ("POST", "/api/v1/projects/site-a/assignments", "gc_project", {}, 409, "assignment_overlaps"),
    (
        "POST",
        "/api/v1/projects/site-a/assignments",
        "gc_project",
        {"entry_date": "2027-01-02", "exit_date": "2027-01-01"},
        422,
        "exit_before_entry",
    ),
    (
        "POST",
        "/api/v1/projects/site-a/assignments",
        "gc_project",
        {"person_id": "per-nobody"},
        422,
        "unknown_person",
    ),
    (
        "POST",
        "/api/v1/projects/site-a/assignments",
        "gc_project",
        {"enterprise_id": "OTHER_SUB"},
        422,
        "enterprise_not_party",
    ),
    ("POST", "/api/v1/projects/site-zz/gates", "city", {}, 404, "not_found"),
    ("POST", "/api/v1/projects/site-b/gates", "city", {}, 409, "project_not_registered"),
    (
        "POST",
        "/api/v1/projects/site-a/gates",
        "city",
        {"device_id": "lane-elsewhere"},
        409,
        "device_already_placed",
    ),
    ("POST", "/api/v1/enterprises", "sub_project", {}, 403, "forbidden"),
    ("GET", "/api/v1/persons", "operator", None, 403, "forbidden"),
    ("POST", "/api/v1/projects/site-a/inspections", "gc_project", {}, 403, "forbidden"),
    ("PATCH", "/api/v1/assignments/999999", "gc_project", {"exit_date": "2026-05-01"}, 404, "not_found"),
    ("PATCH", "/api/v1/assignments/abc", "gc_project", {"exit_date": "2026-05-01"}, 404, "not_found"),
    (
        "PATCH",
        "/api/v1/assignments/WORKER",
        "gc_project",
        {"exit_date": "2026-01-01"},
        422,
        "exit_before_entry",
    ),
    (
        "POST",
        "/api/v1/projects/site-a/parties",
        "gc_project",
        {"account": {"username": "site-a-gc", "password": PASSWORD}},
        409,
        "username_taken",
    ),
    (
        "POST",
        "/api/v1/projects/site-a/parties",
        "gc_project",
        {"account": {"username": "new-name", "password": "short"}},
        422,
        "invalid_body",
    ),
]


async def test_each_bad_input_has_its_own_code_and_stores_nothing(client: Client, http_world: World) -> None:
    """One world for every case: each is refused, so none changes what the next one meets."""
    world = http_world
    elsewhere = await world.registry.acting_for(world.city).create_project(
        ProjectIn(
            id="site-d",
            permit_number="330106202605050505",
            name="另一工地",
            district=HOME,
            address="x",
            gc_enterprise_id=world.gc.id,
            permit_issued_on=date(2026, 5, 5),
        ),
    )
    registration = RegistrationIn(account=AccountIn(username="site-d-gc", password=PASSWORD))
    await world.registry.acting_for(world.gc_account).register_project(elsewhere.id, registration)
    gate = GateIn(device_id="lane-elsewhere", lane="l1", direction="in", name="x")
    await world.registry.acting_for(world.city).place_gate(elsewhere.id, gate)
    worker_number = world.numbers[world.worker.id]
    assignment_id = (await world.registry.acting_for(world.city).assignments("site-a")).items[0].id
    before = await _audit_count(client)
    for method, path, who, changes, status, code in BAD_INPUTS:
        path = path.replace("WORKER", str(assignment_id))
        body = _body_for(world, path, changes, worker_number)
        message = await error(client, method, path, getattr(world, who), body, status, code)
        sent = body.get("id_number") if isinstance(body, dict) else None
        for number in [*world.numbers.values(), *([sent] if sent else [])]:
            assert number not in message, (code, message)
        # A refused write leaves no audit line (nor anything else: see test_flows).
        assert await _audit_count(client) == before, code


def _body_for(world: World, path: str, changes: Any, worker_number: str) -> Any:
    if changes is None:
        return None
    changes = dict(changes)
    if changes.get("id_number") == "BAD":
        changes["id_number"] = worker_number[:17] + ("0" if worker_number[17] != "0" else "1")
    elif changes.get("id_number") == "WORKER":
        changes["id_number"] = worker_number
    if changes.get("number") == "GC":
        changes["number"] = world.gc.number
    if changes.get("enterprise_id") == "OTHER_SUB":
        changes["enterprise_id"] = world.other_sub.id
    if path == "/api/v1/persons":
        return person_body(world, **changes)
    if path == "/api/v1/enterprises":
        return {
            "number": uscc(77),
            "name": "x",
            "kind": "supervision",
            "district": HOME,
            "local": True,
            "password": PASSWORD,
            **changes,
        }
    if path.endswith("/assignments"):
        return {
            "person_id": world.worker.id,
            "enterprise_id": world.sub.id,
            "role": "worker",
            "entry_date": "2027-01-01",
            **changes,
        }
    if path.endswith("/gates"):
        return {"device_id": "lane-x1", "lane": "l1", "direction": "in", "name": "门", **changes}
    if path.endswith("/parties"):
        return {"enterprise_id": world.other_sub.id, "role": "subcontractor", **changes}
    if path.endswith("/inspections"):
        return {"inspected_on": "2026-03-01", "findings": "x", **changes}
    return changes


async def _audit_count(client: Client) -> int:
    async with client.app[STORE].read("test") as conn:
        return len(
            (await conn.execute(select(audit_log.c.id).where(audit_log.c.action.like("registry.%")))).all()
        )


async def test_bodies_are_bounded_json_and_checked_field_by_field(client: Client, http_world: World) -> None:
    world = http_world
    headers = await token_headers(client.app[STORE], world.city)
    response = await client.post("/api/v1/districts", data=b"{" + b" " * (64 * 1024) + b"}", headers=headers)
    assert response.status == 413 and (await response.json())["error"]["code"] == "payload_too_large"
    for not_json in (b"{not json", b"\xff\xfe", b"[" * 60_000):
        response = await client.post("/api/v1/districts", data=not_json, headers=headers)
        assert response.status == 400 and (await response.json())["error"]["code"] == "invalid_json"
    message = await error(
        client,
        "POST",
        "/api/v1/districts",
        world.city,
        {"code": "33", "name": "x", "extra": 1},
        422,
        "invalid_body",
    )
    assert "code:" in message and "extra: Extra inputs are not permitted" in message
    message = await error(
        client,
        "POST",
        "/api/v1/projects/site-a/parties",
        world.gc_project,
        {
            "enterprise_id": world.other_sub.id,
            "role": "subcontractor",
            "account": {"username": "ok-name", "password": "short"},
        },
        422,
        "invalid_body",
    )
    assert message.startswith("account.password: a password needs")
    message = await error(
        client,
        "POST",
        "/api/v1/persons",
        world.city,
        person_body(world, "11010119900307777x"),
        422,
        "invalid_id_number",
    )
    assert message == "id_number: invalid ID number: lowercase x at position 18, cards print uppercase X"
    await error(client, "GET", "/api/v1/persons", None, None, 401, "unauthenticated")
    await error(client, "GET", "/api/v1/persons?limit=0", world.city, None, 400, "invalid_parameter")
    await error(client, "GET", "/api/v1/persons?cursor=abc", world.city, None, 400, "invalid_cursor")
    await error(client, "GET", "/api/v1/persons?bogus=1", world.city, None, 400, "unknown_parameter")


async def test_id_numbers_are_masked_except_for_the_registering_authorities(
    client: Client, http_world: World
) -> None:
    world = http_world
    number = world.numbers[world.worker.id]
    path = f"/api/v1/persons/{world.worker.id}"
    for who in (world.city, world.district):
        shown = await call(client, "GET", path, who)
        assert (shown["id_number"], shown["id_number_masked"]) == (number, False)
    masked = number[:6] + "********" + number[-4:]
    for who in (
        world.sub_account,
        world.gc_project,
        world.sub_project,
        world.supervision_project,
        world.gc_account,
    ):
        shown = await call(client, "GET", path, who)
        assert (shown["id_number"], shown["id_number_masked"]) == (masked, True), who.username
        listed = await call(client, "GET", "/api/v1/persons", who)
        assert number not in str(listed) and listed["items"][0]["id_number"] == masked
    await error(client, "GET", path, world.operator, None, 403, "forbidden")
    await error(client, "GET", path, world.other_district, None, 404, "not_found")


async def test_id_numbers_never_reach_logs_or_audit_details(
    client: Client, http_world: World, caplog: pytest.LogCaptureFixture
) -> None:
    world = http_world
    caplog.set_level(logging.DEBUG)

    async def boom(project_id: str) -> None:
        raise RuntimeError(f"listener broke on {world.numbers[world.worker.id]}")

    client.app[REGISTRY].subscribe(boom)
    numbers = [new_number(world.rng) for _ in range(2)]
    for number in numbers:
        person = await call(
            client, "POST", "/api/v1/persons", world.district, person_body(world, number), 201
        )
        world.numbers[person["id"]] = number
        await call(client, "POST", "/api/v1/persons", world.district, person_body(world, number), 409)
        await call(client, "POST", "/api/v1/persons/lookup", world.gc_project, {"id_number": number})
        await call(
            client,
            "POST",
            "/api/v1/projects/site-a/assignments",
            world.gc_project,
            {
                "person_id": person["id"],
                "enterprise_id": world.sub.id,
                "role": "worker",
                "entry_date": "2026-05-01",
            },
            201,
        )
        await call(
            client,
            "PUT",
            f"/api/v1/persons/{person['id']}/watchlist",
            world.city,
            {"flag": True, "reason": "核查"},
        )
    await call(
        client, "POST", "/api/v1/persons", world.district, person_body(world, numbers[0][:17] + "Y"), 422
    )
    assert "RuntimeError" in caplog.text  # the broken listener was logged ...
    async with client.app[STORE].read("test") as conn:
        audit = [(row.target, row.detail) for row in await conn.execute(select(audit_log))]
    assert len(audit) > 10
    for number in world.numbers.values():
        assert number not in caplog.text  # ... without its message
        assert number not in str(audit)


async def test_persons_and_assignments_page_over_http(client: Client, http_world: World) -> None:
    world = http_world
    for day in range(1, 6):
        person = await world.person()
        await world.registry.acting_for(world.gc_project).assign(
            "site-a",
            AssignmentIn(
                person_id=person.id, enterprise_id=world.sub.id, role="worker", entry_date=date(2026, 5, day)
            ),
        )
    for path, total in (("/api/v1/persons", 6), ("/api/v1/projects/site-a/assignments", 6)):
        seen: list[Any] = []
        query = "?limit=4"
        while True:
            page = await call(client, "GET", path + query, world.sub_project)
            seen += [item["id"] for item in page["items"]]
            if page["next_cursor"] is None:
                break
            query = f"?limit=4&cursor={page['next_cursor']}"
        assert len(seen) == len(set(seen)) == total, path


async def test_a_gate_for_both_directions_is_refused_up_front(client: Client, http_world: World) -> None:
    """A lane controller drives one direction: ``both`` is refused when the gate is placed or
    changed (naming the field, in Chinese first), not later when its lane enrols."""
    world = http_world
    gates = "/api/v1/projects/site-a/gates"
    gate = {"device_id": "lane-d1", "lane": "east-1", "direction": "both", "name": "东门"}
    message = await error(client, "POST", gates, world.operator, gate, 422, "gate_direction_both")
    assert message.startswith("direction: 一条通道只能是一个方向") and "one gate per lane" in message
    assert (await call(client, "GET", gates, world.operator))["items"] == []
    placed = await call(client, "POST", gates, world.operator, {**gate, "direction": "out"}, 201)
    assert placed["direction"] == "out"
    await error(client, "POST", gates, world.operator, {**gate, "lane": "east-2"}, 422, "gate_direction_both")
    [kept] = (await call(client, "GET", gates, world.operator))["items"]
    assert (kept["lane"], kept["direction"]) == ("east-1", "out")
