"""An enterprise's view of its project departments (the notice: the enterprise 检查、督促本企业项目部).

For each project the enterprise account is a party to (general contractor, subcontractor,
supervision): whether real-name registration is complete (报备 done, gates placed, every lane
enrolled), lanes online of lanes placed, people on site now, the four managers (四类人员) who came
today of those registered, open and overdue rectification orders, credit points deducted this year.

Each figure is one grouped read over all of the enterprise's projects (never one per project), and
each goes through the account's own scope clause: where the enterprise is a subcontractor it counts
its own people only, as its other pages do. Nothing here decides what the account may see.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, Final

from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.auth.principal import Principal, Role
from hub.auth.scope import deduction_clause, device_clause, order_clause, person_record_clause, project_clause
from hub.derive.days import local_day
from hub.oversight.queries import active_on, held_assignment, present
from hub.registry.models import GateKind, Position
from hub.store import Store
from hub.store.schema import (
    attendance,
    credit_deductions,
    devices,
    gates,
    persons,
    presence,
    project_parties,
    projects,
    rectification_orders,
)
from hub.workflows.models import OrderStatus
from hub.workflows.targets import MANAGER
from wire.clock import SITE_ZONE

FOUR_MANAGERS: Final = frozenset(
    p.value
    for p in (
        Position.PROJECT_MANAGER,
        Position.TECHNICAL_LEAD,
        Position.QUALITY_OFFICER,
        Position.SAFETY_OFFICER,
    )
)
"""四类人员: the positions whose presence on site the authorities check."""


class NotAnEnterprise(Exception):
    """The view is an enterprise account's: any other account has its own pages."""


@dataclass(frozen=True, slots=True)
class Department:
    """One of the enterprise's project departments, as its figures stand now."""

    project_id: str
    project_name: str
    district: str
    party_role: str
    """The enterprise's part in the project: general_contractor | subcontractor | supervision."""
    registered: bool
    """报备 done (the project's real-name registration)."""
    lanes: int = 0
    """Lanes placed at the project's gates (office readers are no lanes)."""
    lanes_enrolled: int = 0
    lanes_online: int = 0
    headcount: int = 0
    managers_registered: int = 0
    managers_present: int = 0
    open_orders: int = 0
    overdue_orders: int = 0
    deduction_points: int = 0

    @property
    def registration_complete(self) -> bool:
        """报备 done, gates placed, every lane enrolled."""
        return self.registered and self.lanes > 0 and self.lanes_enrolled == self.lanes


@dataclass(frozen=True, slots=True)
class EnterpriseView:
    departments: tuple[Department, ...]
    unattached_points: int
    """Points deducted this year from the enterprise or its staff, named with no project."""


class EnterpriseOversight:
    """What an enterprise account ``principal`` sees of its project departments."""

    def __init__(self, store: Store, principal: Principal, *, gate_offline_after: timedelta) -> None:
        if principal.role is not Role.ENTERPRISE:
            raise NotAnEnterprise(principal.role.value)
        self._store = store
        self._principal = principal
        self._offline_after = gate_offline_after

    async def departments(self, now: datetime) -> EnterpriseView:
        today = local_day(now)
        async with self._store.read("enterprise_departments") as conn:
            found = await self._projects(conn)
            ids = [d.project_id for d in found]
            figures: dict[str, dict[str, Any]] = defaultdict(dict)
            if ids:
                reads = (self._lanes(ids, now), self._headcount(ids, now), self._managers(ids, today))
                for query in (*reads, self._orders(ids, today)):
                    for row in (await conn.execute(query)).all():
                        counts = {k: int(v or 0) for k, v in row._mapping.items() if k != "project_id"}
                        figures[row.project_id].update(counts)
            points = await self._points(conn, today)
        departments = tuple(
            replace(d, **figures.get(d.project_id, {}), deduction_points=points.pop(d.project_id, 0))
            for d in found
        )
        return EnterpriseView(departments, sum(points.values()))

    async def _projects(self, conn: AsyncConnection) -> list[Department]:
        p, pp = projects.c, project_parties.c
        query = (
            select(p.id, p.name, p.district, p.registered_at, pp.role)
            .select_from(projects.join(project_parties, pp.project_id == p.id))
            .where(pp.enterprise_id == self._principal.enterprise_id, project_clause(self._principal, p.id))
            .order_by(p.district, p.name, p.id)
        )
        return [
            Department(row.id, row.name, row.district, row.role, row.registered_at is not None)
            for row in (await conn.execute(query)).all()
        ]

    def _lanes(self, ids: list[str], now: datetime) -> Select[Any]:
        g, d = gates.c, devices.c
        enrolled = and_(d.enrolled_at.is_not(None), d.revoked_at.is_(None))
        online = and_(d.revoked_at.is_(None), d.last_seen_at >= now - self._offline_after)  # as the alerts
        return (
            select(
                g.project_id,
                func.count(g.device_id).label("lanes"),
                func.sum(case((enrolled, 1), else_=0)).label("lanes_enrolled"),
                func.sum(case((online, 1), else_=0)).label("lanes_online"),
            )
            .select_from(gates.outerjoin(devices, d.device_id == g.device_id))
            .where(
                g.project_id.in_(ids),
                g.kind != GateKind.OFFICE_READER.value,
                device_clause(self._principal, g.device_id),
            )
            .group_by(g.project_id)
        )

    def _headcount(self, ids: list[str], now: datetime) -> Select[Any]:
        held = held_assignment()
        p, a = presence.c, held.c
        return (
            select(p.project_id, func.count(func.distinct(p.person_id)).label("headcount"))
            .select_from(presence.join(held, and_(a.project_id == p.project_id, a.person_id == p.person_id)))
            .where(
                p.project_id.in_(ids),
                *present(p, a, now),
                person_record_clause(self._principal, p.project_id, p.person_id),
            )
            .group_by(p.project_id)
        )

    def _managers(self, ids: list[str], today: date) -> Select[Any]:
        held = held_assignment()
        a, per, att = held.c, persons.c, attendance.c
        came = case((att.first_in.is_not(None), a.person_id))
        return (
            select(
                a.project_id,
                func.count(func.distinct(a.person_id)).label("managers_registered"),
                func.count(func.distinct(came)).label("managers_present"),
            )
            .select_from(
                held.join(persons, per.id == a.person_id).outerjoin(
                    attendance,
                    and_(att.project_id == a.project_id, att.person_id == a.person_id, att.day == today),
                )
            )
            .where(
                a.project_id.in_(ids),
                a.role == MANAGER,
                per.position.in_(FOUR_MANAGERS),
                active_on(a, today),
                person_record_clause(self._principal, a.project_id, a.person_id),
            )
            .group_by(a.project_id)
        )

    def _orders(self, ids: list[str], today: date) -> Select[Any]:
        o = rectification_orders.c
        overdue = and_(o.status == OrderStatus.OPEN.value, o.deadline < today)
        return (
            select(
                o.project_id,
                func.count(o.id).label("open_orders"),
                func.sum(case((overdue, 1), else_=0)).label("overdue_orders"),
            )
            .where(o.project_id.in_(ids), o.status != OrderStatus.CLOSED.value, order_clause(self._principal))
            .group_by(o.project_id)
        )

    async def _points(self, conn: AsyncConnection, today: date) -> dict[str | None, int]:
        """Points deducted since 1 January (Beijing) by project; ``None``: named with no project,
        or a project the enterprise is no party to."""
        d = credit_deductions.c
        year_start = datetime(today.year, 1, 1, tzinfo=SITE_ZONE)
        query = (
            select(d.project_id, func.sum(d.points).label("points"))
            .where(d.deducted_at >= year_start, deduction_clause(self._principal))
            .group_by(d.project_id)
        )
        return {row.project_id: int(row.points or 0) for row in (await conn.execute(query)).all()}
