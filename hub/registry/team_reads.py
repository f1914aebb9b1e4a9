"""班组 (teams) as one account reads them: a project's teams with their leader, and each team's
members, who of them is on site now and who came on a day (headcount and attendance by team).

Teams are seen through :func:`hub.auth.scope.team_clause` (a subcontractor's department its own
enterprise's), the people counted through :func:`hub.auth.scope.person_record_clause`, and the
counts follow the oversight's rules (:mod:`hub.oversight.queries`): a member holds an assignment
in the team that runs on the day; on site is a latest passage ``in`` younger than
:data:`~hub.oversight.queries.PRESENCE_STALE_AFTER` (clock-suspect passages never make presence);
came is an attendance row for the day. Three grouped reads per project, never one per team.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.auth.scope import person_record_clause, team_clause
from hub.oversight.queries import PRESENCE_STALE_AFTER, active_on, held_assignment
from hub.refusals import Missing
from hub.registry import permissions as may
from hub.registry.base import RegistryBase
from hub.store.schema import attendance, enterprises, persons, presence, teams
from wire.clock import SITE_ZONE


@dataclass(frozen=True, slots=True)
class Team:
    id: str
    project_id: str
    enterprise_id: str
    enterprise_name: str
    name: str
    leader_person_id: str | None
    leader_name: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class TeamCount:
    """One team's people on ``day``: members (assignments in the team running that day), on site
    now, and came (an attendance row that day)."""

    team: Team
    day: date
    members: int
    on_site: int
    came: int


def team_query() -> Select[Any]:
    t, e, p = teams.c, enterprises.c, persons.c
    return select(
        t.id,
        t.project_id,
        t.enterprise_id,
        e.name.label("enterprise_name"),
        t.name,
        t.leader_person_id,
        p.name.label("leader_name"),
        t.created_at,
    ).select_from(
        teams.join(enterprises, e.id == t.enterprise_id).outerjoin(persons, p.id == t.leader_person_id)
    )


def team(row: Any) -> Team:
    return Team(**row._mapping)


class TeamReads(RegistryBase):
    def _visible_team(self) -> ColumnElement[bool]:
        return team_clause(self._principal, teams.c.project_id, teams.c.enterprise_id)

    async def teams(self, project_id: str) -> list[Team]:
        """The project's teams the account sees, by enterprise and name; 404 for a project it does not."""
        may.check_role(self._principal, may.READERS)
        t = teams.c
        query = (
            team_query()
            .where(t.project_id == project_id, self._visible_team())
            .order_by(t.enterprise_id, t.name, t.id)
        )
        async with self._store.read("registry.teams") as conn:
            await self._need_visible_project(conn, project_id)
            return [team(row) for row in (await conn.execute(query)).all()]

    async def team(self, team_id: str) -> Team:
        may.check_role(self._principal, may.READERS)
        query = team_query().where(teams.c.id == team_id, self._visible_team())
        async with self._store.read("registry.team") as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            raise Missing("team", team_id)
        return team(row)

    async def team_headcount(
        self, project_id: str, now: datetime, day: date | None = None
    ) -> list[TeamCount]:
        """Each visible team of the project with its members, on site now and came on ``day``
        (the site's today at ``now`` when not given)."""
        may.check_role(self._principal, may.READERS)
        day = day or now.astimezone(SITE_ZONE).date()
        found = await self.teams(project_id)
        async with self._store.read("registry.team_headcount") as conn:
            members = await self._members(conn, project_id, day)
            on_site = await self._on_site(conn, project_id, now)
            came = await self._came(conn, project_id, day)
        return [
            TeamCount(t, day, members.get(t.id, 0), on_site.get(t.id, 0), came.get(t.id, 0)) for t in found
        ]

    async def _grouped(self, conn: AsyncConnection, query: Select[Any]) -> dict[str, int]:
        return {row.team_id: row.n for row in (await conn.execute(query)).all()}

    async def _members(self, conn: AsyncConnection, project_id: str, day: date) -> dict[str, int]:
        a = held_assignment().c
        query = (
            select(a.team_id, func.count(func.distinct(a.person_id)).label("n"))
            .where(
                a.project_id == project_id,
                a.team_id.is_not(None),
                active_on(a, day),
                person_record_clause(self._principal, a.project_id, a.person_id),
            )
            .group_by(a.team_id)
        )
        return await self._grouped(conn, query)

    async def _on_site(self, conn: AsyncConnection, project_id: str, now: datetime) -> dict[str, int]:
        held = held_assignment()
        a, p = held.c, presence.c
        today = now.astimezone(SITE_ZONE).date()
        query = (
            select(a.team_id, func.count(func.distinct(p.person_id)).label("n"))
            .select_from(presence.join(held, and_(a.project_id == p.project_id, a.person_id == p.person_id)))
            .where(
                p.project_id == project_id,
                p.on_site.is_(True),
                p.event_time >= now - PRESENCE_STALE_AFTER,
                a.team_id.is_not(None),
                active_on(a, today),
                person_record_clause(self._principal, p.project_id, p.person_id),
            )
            .group_by(a.team_id)
        )
        return await self._grouped(conn, query)

    async def _came(self, conn: AsyncConnection, project_id: str, day: date) -> dict[str, int]:
        held = held_assignment()
        a, d = held.c, attendance.c
        query = (
            select(a.team_id, func.count(func.distinct(d.person_id)).label("n"))
            .select_from(
                attendance.join(held, and_(a.project_id == d.project_id, a.person_id == d.person_id))
            )
            .where(
                d.project_id == project_id,
                d.day == day,
                d.passages > 0,
                a.team_id.is_not(None),
                active_on(a, day),
                person_record_clause(self._principal, d.project_id, d.person_id),
            )
            .group_by(a.team_id)
        )
        return await self._grouped(conn, query)
