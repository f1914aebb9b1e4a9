"""Whether a project's lanes run its newest roster (and with it the site rules signed into it):
the version the hub last minted for the project, and what each lane of its gates last reported.

For the site rules page (issue 14): a site manager who changes the working hours sees which lanes
already decide by them. Read by the roles that read the rules, scoped like the rules themselves
(:func:`hub.auth.scope.site_rules_clause`: a project outside the account's view is "not found"),
its lanes like every device read (:func:`hub.auth.scope.device_clause`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from hub.auth.permissions import READ_SITE_RULES
from hub.auth.principal import Principal
from hub.auth.scope import device_clause, site_rules_clause
from hub.refusals import Forbidden, Missing
from hub.store import Store
from hub.store.schema import gates, projects, roster_status, roster_versions


@dataclass(frozen=True, slots=True)
class LaneRoster:
    """One lane at the project's gates and its last roster report (None: it has not reported)."""

    device_id: str
    gate: str
    lane: str
    applied_version: int | None
    problem: str | None
    reported_at: datetime | None


@dataclass(frozen=True, slots=True)
class Delivery:
    """The project's newest roster version (None: never minted) and its lanes' reports."""

    version: int | None
    minted_at: datetime | None
    lanes: tuple[LaneRoster, ...]

    @property
    def applied(self) -> tuple[LaneRoster, ...]:
        """The lanes that run the newest version."""
        return tuple(
            lane for lane in self.lanes if self.version is not None and lane.applied_version == self.version
        )

    @property
    def behind(self) -> tuple[LaneRoster, ...]:
        """The lanes that do not (yet), or never said."""
        return tuple(lane for lane in self.lanes if lane not in self.applied)


class RosterDelivery:
    """Roster delivery for the projects ``principal`` may read the site rules of."""

    def __init__(self, store: Store, principal: Principal) -> None:
        self._store = store
        self._principal = principal

    async def of_project(self, project_id: str) -> Delivery:
        """Forbidden to the roles that do not read site rules; Missing outside the account's scope."""
        if self._principal.role not in READ_SITE_RULES:
            raise Forbidden(f"a {self._principal.role.value} account may not read site rules")
        p, v, g, s = projects.c, roster_versions.c, gates.c, roster_status.c
        visible = select(p.id).where(p.id == project_id, site_rules_clause(self._principal, p.id))
        newest = select(v.version, v.minted_at).where(v.project_id == project_id)
        lanes = (
            select(g.device_id, g.name, g.lane, s.applied_version, s.problem, s.reported_at)
            .select_from(gates.outerjoin(roster_status, s.device_id == g.device_id))
            .where(g.project_id == project_id, device_clause(self._principal, g.device_id))
            .order_by(g.lane, g.device_id)
        )
        async with self._store.read("roster_delivery") as conn:
            if await conn.scalar(visible) is None:
                raise Missing("project", project_id)
            version = (await conn.execute(newest)).first()
            rows = (await conn.execute(lanes)).all()
        return Delivery(
            version=None if version is None else version.version,
            minted_at=None if version is None else version.minted_at,
            lanes=tuple(
                LaneRoster(
                    row.device_id, row.name, row.lane, row.applied_version, row.problem, row.reported_at
                )
                for row in rows
            ),
        )
