"""班组 over HTTP with real tokens, on both stores: make, lead, fill, count, rename and remove a
team; each refusal with its own code and the field named Chinese first."""

from __future__ import annotations

from tests.hub.registry.conftest import Client, World
from tests.hub.registry.test_api import call, error


async def test_teams_over_http(client: Client, http_world: World) -> None:
    world = http_world
    project = f"/api/v1/projects/{world.project.id}"
    team = await call(
        client,
        "POST",
        f"{project}/teams",
        world.sub_project,
        {"enterprise_id": world.sub.id, "name": "钢筋班"},
        201,
    )
    assert (team["name"], team["enterprise_name"], team["leader_person_id"]) == (
        "钢筋班",
        "劳务分包公司",
        None,
    )
    message = await error(
        client, "POST", f"{project}/teams", world.gc_project, {"enterprise_id": world.sub.id, "name": "钢筋班"},
        409, "team_name_taken",
    )  # fmt: skip
    assert message.startswith("name: ")
    await error(
        client, "POST", f"{project}/teams", world.sub_project, {"enterprise_id": world.gc.id, "name": "x"}, 403,
        "forbidden",
    )  # fmt: skip
    await error(
        client,
        "POST",
        f"{project}/teams",
        world.city,
        {"enterprise_id": world.sub.id, "name": "x"},
        403,
        "forbidden",
    )

    [held] = (
        await call(client, "GET", f"{project}/assignments?person_id={world.worker.id}", world.gc_project)
    )["items"]
    moved = await call(
        client, "PUT", f"/api/v1/assignments/{held['id']}/team", world.gc_project, {"team_id": team["id"]}
    )
    assert moved["team_id"] == team["id"]
    led = await call(
        client, "PUT", f"/api/v1/teams/{team['id']}/leader", world.sub_project, {"person_id": world.worker.id}
    )
    assert (led["leader_person_id"], led["leader_name"]) == (world.worker.id, "张伟")
    await error(
        client, "PUT", f"/api/v1/teams/{team['id']}/leader", world.gc_project, {"person_id": "per-nobody"}, 422,
        "leader_not_assigned",
    )  # fmt: skip

    [counted] = (await call(client, "GET", f"{project}/teams", world.supervision_project))["items"]
    assert (counted["id"], counted["members"], counted["on_site"], counted["came"]) == (team["id"], 1, 0, 0)
    assert (await call(client, "GET", f"{project}/teams?date=2026-03-01", world.city))["items"][0][
        "members"
    ] == 1
    assert (await call(client, "GET", f"{project}/teams?date=2026-02-28", world.city))["items"][0][
        "members"
    ] == 0
    await error(client, "GET", f"{project}/teams?date=soon", world.city, None, 400, "invalid_query")
    await error(client, "GET", f"{project}/teams", world.other_district, None, 404, "not_found")

    renamed = await call(
        client, "PATCH", f"/api/v1/teams/{team['id']}", world.gc_project, {"name": "钢筋一班"}
    )
    assert renamed["name"] == "钢筋一班"
    assert (await call(client, "GET", f"/api/v1/teams/{team['id']}", world.district))["name"] == "钢筋一班"
    await error(
        client, "DELETE", f"/api/v1/teams/{team['id']}", world.gc_project, None, 409, "team_has_members"
    )
    await call(client, "PUT", f"/api/v1/assignments/{held['id']}/team", world.sub_project, {"team_id": None})
    await call(client, "DELETE", f"/api/v1/teams/{team['id']}", world.sub_project, None, 204)
    await error(client, "GET", f"/api/v1/teams/{team['id']}", world.gc_project, None, 404, "not_found")
