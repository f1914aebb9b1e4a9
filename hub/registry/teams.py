"""Registry writes about 班组 (teams, issue 14): a team under a subcontractor (or the general
contractor) on one project, its name, its leader (班组长), and the assignments in it.

Who: the GC's project department for every party enterprise of its project, a subcontractor's
department for its own enterprise only (:data:`hub.auth.permissions.TEAMS`); supervision firms
have no teams. A team's members are assignments of its own enterprise on its own project, and its
leader a person assigned there through that enterprise whose assignment has not ended. Refusals
name the field, Chinese first (:mod:`hub.refusals`). Teams are not in the lanes' roster: no
roster change follows these writes.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.auth.scope import team_clause
from hub.refusals import (
    LeaderNotAssigned,
    Missing,
    NotAParty,
    TeamHasMembers,
    TeamNameTaken,
    TeamOfAnotherEnterprise,
    UnknownReference,
    WrongEnterpriseKind,
)
from hub.registry import permissions as may
from hub.registry import rows
from hub.registry.base import RegistryBase, mint
from hub.registry.records import Assignment
from hub.registry.team_models import AssignmentTeamIn, TeamIn, TeamLeaderIn, TeamRename
from hub.registry.team_reads import Team, team, team_query
from hub.store.schema import assignments, teams
from wire.clock import SITE_ZONE

TEAM_PARTY_ROLES = frozenset({"general_contractor", "subcontractor"})
"""The parties whose people work in teams: not the supervision firm."""


async def check_team(conn: AsyncConnection, team_id: str, project_id: str, enterprise_id: str) -> None:
    """``team_id`` is a team of ``enterprise_id`` on ``project_id`` (an assignment's team)."""
    t = teams.c
    row = (
        await conn.execute(select(t.enterprise_id).where(t.id == team_id, t.project_id == project_id))
    ).first()
    if row is None:
        raise UnknownReference("team_id", "team", team_id)
    if row.enterprise_id != enterprise_id:
        raise TeamOfAnotherEnterprise(team_id, enterprise_id)


class TeamWrites(RegistryBase):
    async def create_team(self, project_id: str, data: TeamIn) -> Team:
        may.check_role(self._principal, may.TEAMS)
        may.check_own_project(self._principal, project_id, "make teams")
        may.check_own_enterprise(self._principal, data.enterprise_id, "make teams")
        team_id = mint("team")
        async with self._store.write("registry.create_team") as conn:
            await self._registered_project(conn, project_id)
            enterprise = await rows.need_enterprise(conn, "enterprise_id", data.enterprise_id)
            role = await self._party_role(conn, project_id, enterprise.id)
            if role is None:
                raise NotAParty(enterprise.id, project_id)
            if role not in TEAM_PARTY_ROLES:
                raise WrongEnterpriseKind("enterprise_id", enterprise.id, enterprise.kind, "a contractor")
            await self._need_free_name(conn, project_id, enterprise.id, data.name)
            values = {
                "id": team_id,
                "project_id": project_id,
                "enterprise_id": enterprise.id,
                "name": data.name,
                "leader_person_id": None,
                "created_at": self._clock.wall(),
            }
            await rows.insert_unique(
                conn, teams.insert().values(**values), lambda _: TeamNameTaken(data.name)
            )
            await self._audit(
                conn, "team.create", team_id, {"project_id": project_id, "enterprise_id": enterprise.id}
            )
            return await _read_team(conn, team_id)

    async def rename_team(self, team_id: str, data: TeamRename) -> Team:
        async with self._store.write("registry.rename_team") as conn:
            row = await self._team_to_change(conn, team_id, "rename teams")
            if data.name != row.name:
                await self._need_free_name(conn, row.project_id, row.enterprise_id, data.name)
                update = teams.update().where(teams.c.id == team_id).values(name=data.name)
                await rows.insert_unique(conn, update, lambda _: TeamNameTaken(data.name))
                await self._audit(conn, "team.rename", team_id, {"was": row.name})
            return await _read_team(conn, team_id)

    async def delete_team(self, team_id: str) -> None:
        """Only an empty team goes: its members are moved out (or to another team) first."""
        async with self._store.write("registry.delete_team") as conn:
            row = await self._team_to_change(conn, team_id, "remove teams")
            members = await conn.scalar(
                select(func.count()).select_from(assignments).where(assignments.c.team_id == team_id)
            )
            if members:
                raise TeamHasMembers(team_id, int(members))
            await conn.execute(teams.delete().where(teams.c.id == team_id))
            await self._audit(conn, "team.delete", team_id, {"project_id": row.project_id, "name": row.name})

    async def set_team_leader(self, team_id: str, data: TeamLeaderIn) -> Team:
        async with self._store.write("registry.set_team_leader") as conn:
            row = await self._team_to_change(conn, team_id, "set team leaders")
            if data.person_id is not None:
                await self._need_assigned(conn, row, data.person_id)
            await conn.execute(
                teams.update().where(teams.c.id == team_id).values(leader_person_id=data.person_id)
            )
            await self._audit(conn, "team.leader", team_id, {"person_id": data.person_id})
            return await _read_team(conn, team_id)

    async def put_in_team(self, assignment_id: int, data: AssignmentTeamIn) -> Assignment:
        """An assignment into a team of its own enterprise on its own project, or out of any."""
        may.check_role(self._principal, may.TEAMS)
        async with self._store.write("registry.put_in_team") as conn:
            row = await self._assignment_to_change(conn, assignment_id)
            may.check_own_project(self._principal, row.project_id, "put people in teams")
            may.check_own_enterprise(self._principal, row.enterprise_id, "put people in teams")
            if data.team_id is not None:
                await check_team(conn, data.team_id, row.project_id, row.enterprise_id)
            await conn.execute(
                assignments.update().where(assignments.c.id == assignment_id).values(team_id=data.team_id)
            )
            await self._audit(
                conn, "assignment.team", str(assignment_id), {"team_id": data.team_id, "was": row.team_id}
            )
        return Assignment(**{**row._mapping, "team_id": data.team_id})

    async def _team_to_change(self, conn: AsyncConnection, team_id: str, what: str) -> Row[Any]:
        may.check_role(self._principal, may.TEAMS)
        t = teams.c
        visible = team_clause(self._principal, t.project_id, t.enterprise_id)
        row = (await conn.execute(select(teams).where(t.id == team_id, visible).with_for_update())).first()
        if row is None:
            raise Missing("team", team_id)
        may.check_own_project(self._principal, row.project_id, what)
        may.check_own_enterprise(self._principal, row.enterprise_id, what)
        return row

    @staticmethod
    async def _need_free_name(conn: AsyncConnection, project_id: str, enterprise_id: str, name: str) -> None:
        t = teams.c
        taken = select(t.id).where(
            t.project_id == project_id, t.enterprise_id == enterprise_id, t.name == name
        )
        if await conn.scalar(taken) is not None:
            raise TeamNameTaken(name)

    async def _need_assigned(self, conn: AsyncConnection, team_row: Row[Any], person_id: str) -> None:
        a = assignments.c
        today = self._clock.wall().astimezone(SITE_ZONE).date()
        query = select(a.id).where(
            a.project_id == team_row.project_id,
            a.enterprise_id == team_row.enterprise_id,
            a.person_id == person_id,
            or_(a.exit_date.is_(None), a.exit_date >= today),
        )
        if await conn.scalar(query.limit(1)) is None:
            raise LeaderNotAssigned(person_id, team_row.enterprise_id)


async def _read_team(conn: AsyncConnection, team_id: str) -> Team:
    return team((await conn.execute(team_query().where(teams.c.id == team_id))).one())
