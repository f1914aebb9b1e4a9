"""班组 (teams) in the registry, on both stores: made, renamed, led, filled and removed by the
project departments that may, refused with the field named (Chinese first) otherwise, seen
through the account's scope, and counted (members, on site now, came today) by team."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from hub.refusals import (
    Forbidden,
    LeaderNotAssigned,
    Missing,
    NotAParty,
    TeamHasMembers,
    TeamNameTaken,
    TeamOfAnotherEnterprise,
    UnknownReference,
    WrongEnterpriseKind,
)
from hub.registry.models import AssignmentIn
from hub.registry.team_models import AssignmentTeamIn, TeamIn, TeamLeaderIn, TeamRename
from hub.store.schema import attendance, audit_log, presence
from tests.hub.registry.conftest import World
from wire.clock import SITE_ZONE


async def test_a_team_is_made_led_filled_and_counted(world: World) -> None:
    gc = world.registry.acting_for(world.gc_project)
    team = await gc.create_team(world.project.id, TeamIn(enterprise_id=world.sub.id, name="钢筋班"))
    assert (team.name, team.enterprise_id, team.enterprise_name, team.leader_person_id) == (
        "钢筋班",
        world.sub.id,
        "劳务分包公司",
        None,
    )
    [held] = (await gc.assignments(world.project.id, person_id=world.worker.id)).items
    moved = await gc.put_in_team(held.id, AssignmentTeamIn(team_id=team.id))
    assert moved.team_id == team.id
    led = await gc.set_team_leader(team.id, TeamLeaderIn(person_id=world.worker.id))
    assert (led.leader_person_id, led.leader_name) == (world.worker.id, "张伟")
    renamed = await gc.rename_team(team.id, TeamRename(name="钢筋一班"))
    assert renamed.name == "钢筋一班"

    now = datetime.now(UTC)
    today = now.astimezone(SITE_ZONE).date()
    async with world.store.write("test: on site") as conn:
        await conn.execute(
            presence.insert().values(
                project_id=world.project.id, person_id=world.worker.id, on_site=True,
                since=now - timedelta(hours=1), device_id="lane-1", event_time=now - timedelta(hours=1),
            )
        )  # fmt: skip
        await conn.execute(
            attendance.insert().values(
                project_id=world.project.id, person_id=world.worker.id, day=today,
                first_in=now - timedelta(hours=1), seconds_on_site=3600, passages=1,
            )
        )  # fmt: skip
    [count] = await gc.team_headcount(world.project.id, now)
    assert (count.team.id, count.members, count.on_site, count.came) == (team.id, 1, 1, 1)
    [yesterday] = await gc.team_headcount(world.project.id, now, today - timedelta(days=1))
    assert (yesterday.members, yesterday.came) == (1, 0)

    async with world.store.read("test") as conn:
        actions = set(await conn.scalars(select(audit_log.c.action).where(audit_log.c.target == team.id)))
    assert {"registry.team.create", "registry.team.leader", "registry.team.rename"} <= actions


async def test_a_subcontractor_keeps_to_its_own_teams(world: World) -> None:
    gc = world.registry.acting_for(world.gc_project)
    sub = world.registry.acting_for(world.sub_project)
    own = await sub.create_team(world.project.id, TeamIn(enterprise_id=world.sub.id, name="木工班"))
    gcs = await gc.create_team(world.project.id, TeamIn(enterprise_id=world.gc.id, name="总包班"))
    with pytest.raises(Forbidden):
        await sub.create_team(world.project.id, TeamIn(enterprise_id=world.gc.id, name="x"))
    assert [t.id for t in await sub.teams(world.project.id)] == [own.id]
    assert {t.id for t in await gc.teams(world.project.id)} == {own.id, gcs.id}
    with pytest.raises(Missing):
        await sub.rename_team(gcs.id, TeamRename(name="y"))
    supervision = world.registry.acting_for(world.supervision_project)
    assert {t.id for t in await supervision.teams(world.project.id)} == {own.id, gcs.id}
    with pytest.raises(Forbidden):
        await supervision.create_team(world.project.id, TeamIn(enterprise_id=world.sub.id, name="z"))
    with pytest.raises(Missing):
        await world.registry.acting_for(world.other_district).teams(world.project.id)


async def test_refusals_name_the_field_in_chinese_first(world: World) -> None:
    gc = world.registry.acting_for(world.gc_project)
    team = await gc.create_team(world.project.id, TeamIn(enterprise_id=world.sub.id, name="钢筋班"))
    with pytest.raises(TeamNameTaken) as taken:
        await gc.create_team(world.project.id, TeamIn(enterprise_id=world.sub.id, name="钢筋班"))
    assert taken.value.message.startswith("name: 该企业在本项目已有")
    other = await gc.create_team(world.project.id, TeamIn(enterprise_id=world.gc.id, name="钢筋班"))
    carpenters = await gc.create_team(world.project.id, TeamIn(enterprise_id=world.sub.id, name="木工班"))
    with pytest.raises(TeamNameTaken):
        await gc.rename_team(team.id, TeamRename(name="木工班"))
    with pytest.raises(WrongEnterpriseKind):
        await gc.create_team(world.project.id, TeamIn(enterprise_id=world.supervisor.id, name="监理班"))
    with pytest.raises(NotAParty):
        await gc.create_team(world.project.id, TeamIn(enterprise_id=world.other_sub.id, name="幕墙班"))
    stranger = await world.person(world.gc)
    with pytest.raises(LeaderNotAssigned) as leader:
        await gc.set_team_leader(team.id, TeamLeaderIn(person_id=stranger.id))
    assert leader.value.message.startswith("person_id: 班组长须是")
    [held] = (await gc.assignments(world.project.id, person_id=world.worker.id)).items
    with pytest.raises(TeamOfAnotherEnterprise) as elsewhere:
        await gc.put_in_team(held.id, AssignmentTeamIn(team_id=other.id))
    assert elsewhere.value.message.startswith("team_id: 班组")
    with pytest.raises(UnknownReference):
        await gc.put_in_team(held.id, AssignmentTeamIn(team_id="team-none"))
    await gc.put_in_team(held.id, AssignmentTeamIn(team_id=team.id))
    with pytest.raises(TeamHasMembers) as members:
        await gc.delete_team(team.id)
    assert members.value.message.startswith("team_id: 班组")
    await gc.put_in_team(held.id, AssignmentTeamIn(team_id=None))
    await gc.delete_team(team.id)
    assert {t.id for t in await gc.teams(world.project.id)} == {other.id, carpenters.id}


async def test_an_assignment_names_its_team_when_made(world: World) -> None:
    gc = world.registry.acting_for(world.gc_project)
    team = await gc.create_team(world.project.id, TeamIn(enterprise_id=world.sub.id, name="钢筋班"))
    person = await world.person()
    data = {"person_id": person.id, "role": "worker", "entry_date": date(2026, 3, 1), "team_id": team.id}
    with pytest.raises(TeamOfAnotherEnterprise):
        await gc.assign(world.project.id, AssignmentIn(enterprise_id=world.gc.id, **data))
    made = await gc.assign(world.project.id, AssignmentIn(enterprise_id=world.sub.id, **data))
    assert (made.team_id, made.entry_read_device) == (team.id, None)
