"""``GET``/``PUT /api/v1/projects/{id}/site-rules`` on both stores: who may read and write whose
rules, the defaults before any write, a write stored, audited at the hub's clock and told to the
roster listeners, and a refused body answered in Chinese first with nothing stored."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from hub.api.keys import STORE
from hub.auth.principal import Principal
from hub.store.schema import audit_log, site_rules
from tests.hub.clocked import token_headers_at
from tests.hub.registry.conftest import Client, World
from tests.support.clock import FakeClock

RULES = {
    "anti_passback": "soft",
    "accept_uid_only": False,
    "working_hours": {"worker": "07:00-19:00", "visitor": "08:00-17:00"},
    "inside_expires_at": "21:00",
    "night_work": [
        {
            "permit": "杭夜施〔2026〕12号",
            "first_date": "2026-06-15",
            "last_date": "2026-06-20",
            "hours": "22:00-06:00",
            "roles": ["worker"],
        }
    ],
}
DEFAULTS = {
    "anti_passback": "hard",
    "accept_uid_only": False,
    "working_hours": {"worker": "06:00-20:00"},
    "inside_expires_at": None,
    "night_work": [],
}


def path(project_id: str) -> str:
    return f"/api/v1/projects/{project_id}/site-rules"


async def call(
    client: Client, clock: FakeClock, method: str, project_id: str, who: Principal, body: Any = None
) -> tuple[int, Any]:
    headers = await token_headers_at(client.app[STORE], who, clock)
    response = await client.request(method, path(project_id), json=body, headers=headers)
    return response.status, await response.json()


async def stored(client: Client) -> list[Any]:
    async with client.app[STORE].read("test") as conn:
        return list((await conn.execute(select(site_rules))).all())


async def test_unset_rules_read_as_the_lanes_defaults(
    client: Client, http_world: World, clock: FakeClock
) -> None:
    status, answer = await call(client, clock, "GET", "site-a", http_world.gc_project)
    assert status == 200
    assert answer == {"project_id": "site-a", **DEFAULTS, "updated_by": None, "updated_at": None}


async def test_the_department_sets_them_and_every_reader_in_scope_sees_them(
    client: Client, http_world: World, clock: FakeClock
) -> None:
    world = http_world
    status, answer = await call(client, clock, "PUT", "site-a", world.gc_project, RULES)
    assert status == 200, answer
    expected = {
        "project_id": "site-a",
        **RULES,
        "updated_by": world.gc_project.username,
        "updated_at": clock.wall().isoformat(),
    }
    assert answer == expected
    for reader in (world.supervision_project, world.city, world.district, world.operator, world.gc_project):
        assert await call(client, clock, "GET", "site-a", reader) == (200, expected), reader.role
    assert world.roster_calls == ["site-a"]  # the roster compiles again, with the rules
    async with client.app[STORE].read("test") as conn:
        [line] = (
            await conn.execute(select(audit_log).where(audit_log.c.action == "registry.site_rules.set"))
        ).all()
    assert (line.target, line.at, line.detail) == ("site-a", clock.wall(), RULES)


async def test_a_second_write_replaces_the_first_whole(
    client: Client, http_world: World, clock: FakeClock
) -> None:
    await call(client, clock, "PUT", "site-a", http_world.gc_project, RULES)
    clock.advance(60)
    status, answer = await call(
        client, clock, "PUT", "site-a", http_world.operator, {**DEFAULTS, "anti_passback": "off"}
    )
    assert status == 200
    assert answer == {
        "project_id": "site-a",
        **DEFAULTS,
        "anti_passback": "off",
        "updated_by": http_world.operator.username,
        "updated_at": clock.wall().isoformat(),
    }
    assert len(await stored(client)) == 1
    assert http_world.roster_calls == ["site-a", "site-a"]


async def test_who_may_not_write_changes_nothing(client: Client, http_world: World, clock: FakeClock) -> None:
    world = http_world
    for writer in (
        world.supervision_project,
        world.sub_project,
        world.city,
        world.district,
        world.gc_account,
    ):
        status, answer = await call(client, clock, "PUT", "site-a", writer, RULES)
        assert (status, answer["error"]["code"]) == (403, "forbidden"), writer.role
    status, answer = await call(client, clock, "PUT", "site-b", world.gc_project, RULES)  # not its project
    assert status == 403, answer
    assert await stored(client) == [] and world.roster_calls == []


async def test_readers_out_of_scope_are_told_the_project_does_not_exist(
    client: Client, http_world: World, clock: FakeClock
) -> None:
    world = http_world
    for reader, project_id in ((world.gc_project, "site-b"), (world.city, "site-nowhere")):
        status, answer = await call(client, clock, "GET", project_id, reader)
        assert (status, answer["error"]["code"]) == (404, "not_found"), reader.role
    for reader in (world.sub_project, world.gc_account):  # roles the table does not let in
        status, _ = await call(client, clock, "GET", "site-a", reader)
        assert status == 403
    status, _ = await call(client, clock, "PUT", "site-nowhere", world.operator, RULES)
    assert status == 404


async def test_a_refused_body_names_each_field_in_chinese_first(
    client: Client, http_world: World, clock: FakeClock
) -> None:
    bad = {**RULES, "working_hours": {"worker": "07:00-07:00"}, "anti_passback": "strict"}
    status, answer = await call(client, clock, "PUT", "site-a", http_world.gc_project, bad)
    assert (status, answer["error"]["code"]) == (422, "invalid_site_rules")
    message = answer["error"]["message"]
    assert message.startswith("anti_passback: 防反潜回模式应为 off、soft 或 hard (")
    assert "working_hours.worker: 时段的开始和结束不能相同 (" in message
    assert "strict" not in message
    assert await stored(client) == [] and http_world.roster_calls == []
