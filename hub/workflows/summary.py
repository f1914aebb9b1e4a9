"""Monthly summaries (按月汇总) per project and per district: registrations, attendance, managers'
presence, orders and deductions, for one calendar month on the site calendar (Asia/Shanghai).

Each figure is one grouped query through the account's scope (people through
:func:`person_record_clause`, orders and deductions through :mod:`hub.auth.scope` too), merged
here by project, as :mod:`hub.oversight.statistics` does: one query joining them would multiply
rows. A district's figures are its projects' figures added up, beside its registrations.

"Overdue" in a month: orders whose deadline fell in the month (and has passed) without a response
by the end of that day, whatever happened after.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.auth.principal import Principal, Role
from hub.auth.scope import deduction_clause, order_clause, person_record_clause, project_clause
from hub.derive.days import local_day
from hub.oversight.statistics import registration
from hub.store import Store
from hub.store.schema import (
    assignments,
    attendance,
    credit_deductions,
    persons,
    projects,
    rectification_orders,
)
from hub.workflows.records import DistrictMonth, ProjectMonth
from hub.workflows.targets import MANAGER
from wire.clock import SITE_ZONE

_PROJECT_FIGURES = (
    "persons_assigned",
    "new_assignments",
    "persons_attended",
    "person_days",
    "seconds_on_site",
    "managers_assigned",
    "managers_present",
    "manager_days",
    "orders_issued",
    "orders_open_overdue",
    "deductions",
    "points_deducted",
)
SUMMED_INTO_DISTRICT = (
    "person_days",
    "seconds_on_site",
    "manager_days",
)


def month_bounds(month: date) -> tuple[date, date, datetime, datetime]:
    """First day, first day of the next month, and the same as site-local instants."""
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    start = datetime.combine(first, time(0), tzinfo=SITE_ZONE)
    end = datetime.combine(following, time(0), tzinfo=SITE_ZONE)
    return first, following, start, end


def _grouped(rows: Iterable[Any]) -> dict[str, dict[str, int]]:
    return {
        row.project_id: {k: int(v or 0) for k, v in row._mapping.items() if k != "project_id"} for row in rows
    }


def _late(deadline: date, responded_at: datetime | None, today: date) -> bool:
    if deadline >= today:
        return False
    return responded_at is None or local_day(responded_at) > deadline


class Summaries:
    """The month's figures as ``principal`` may see them (its scope chosen inside)."""

    def __init__(self, store: Store, principal: Principal) -> None:
        self._store = store
        self._principal = principal

    async def _people(self, conn: AsyncConnection, first: date, following: date) -> dict[str, dict[str, int]]:
        held = assignments.alias("held")  # the scope's own EXISTS over assignments must not correlate with it
        h = held.c
        in_month = and_(h.entry_date < following, or_(h.exit_date.is_(None), h.exit_date >= first))
        scoped = person_record_clause(self._principal, h.project_id, h.person_id)
        query = (
            select(
                h.project_id,
                func.count(func.distinct(h.person_id)).label("persons_assigned"),
                func.sum(case((and_(h.entry_date >= first, h.entry_date < following), 1), else_=0)).label(
                    "new_assignments"
                ),
            )
            .where(in_month, scoped)
            .group_by(h.project_id)
        )
        managers = (
            select(h.project_id, func.count(func.distinct(h.person_id)).label("managers_assigned"))
            .where(in_month, scoped, h.role == MANAGER)
            .group_by(h.project_id)
        )
        figures = _grouped(await conn.execute(query))
        for project_id, values in _grouped(await conn.execute(managers)).items():
            figures.setdefault(project_id, {}).update(values)
        return figures

    async def _attendance(
        self, conn: AsyncConnection, first: date, following: date
    ) -> dict[str, dict[str, int]]:
        t = attendance.c
        held = assignments.alias("held")
        h = held.c
        where = [
            t.day >= first,
            t.day < following,
            person_record_clause(self._principal, t.project_id, t.person_id),
        ]
        everyone = select(
            t.project_id,
            func.count(func.distinct(t.person_id)).label("persons_attended"),
            func.count().label("person_days"),
            func.sum(t.seconds_on_site).label("seconds_on_site"),
        ).where(*where)
        is_manager = exists().where(
            h.project_id == t.project_id, h.person_id == t.person_id, h.role == MANAGER
        )
        managers = select(
            t.project_id,
            func.count(func.distinct(t.person_id)).label("managers_present"),
            func.count().label("manager_days"),
        ).where(*where, is_manager)
        figures = _grouped(await conn.execute(everyone.group_by(t.project_id)))
        for project_id, values in _grouped(await conn.execute(managers.group_by(t.project_id))).items():
            figures.setdefault(project_id, {}).update(values)
        return figures

    async def _orders(
        self,
        conn: AsyncConnection,
        first: date,
        following: date,
        start: datetime,
        end: datetime,
        today: date,
    ) -> tuple[Counter[str], Counter[str], Counter[str], Counter[str]]:
        """(issued, overdue) per project and per district."""
        o = rectification_orders.c
        rows = await conn.execute(
            select(o.project_id, o.district, o.issued_at, o.deadline, o.responded_at).where(
                order_clause(self._principal),
                or_(
                    and_(o.issued_at >= start, o.issued_at < end),
                    and_(o.deadline >= first, o.deadline < following),
                ),
            )
        )
        issued_p: Counter[str] = Counter()
        overdue_p: Counter[str] = Counter()
        issued_d: Counter[str] = Counter()
        overdue_d: Counter[str] = Counter()
        for row in rows:
            issued = start <= row.issued_at < end
            overdue = first <= row.deadline < following and _late(row.deadline, row.responded_at, today)
            for counter, key, hit in (
                (issued_p, row.project_id, issued),
                (overdue_p, row.project_id, overdue),
                (issued_d, row.district, issued),
                (overdue_d, row.district, overdue),
            ):
                if hit and key is not None:
                    counter[key] += 1
        return issued_p, overdue_p, issued_d, overdue_d

    async def _deductions(
        self, conn: AsyncConnection, start: datetime, end: datetime, by: ColumnElement[Any]
    ) -> dict[str, tuple[int, int]]:
        d = credit_deductions.c
        rows = await conn.execute(
            select(by.label("key"), func.count().label("n"), func.sum(d.points).label("points"))
            .where(
                deduction_clause(self._principal),
                d.deducted_at >= start,
                d.deducted_at < end,
                by.is_not(None),
            )
            .group_by(by)
        )
        return {row.key: (int(row.n), int(row.points or 0)) for row in rows}

    async def projects_month(
        self, month: date, *, today: date, district: str | None = None
    ) -> list[ProjectMonth]:
        """Every project the account sees (in ``district`` if given), by id."""
        async with self._store.read("summaries.projects") as conn:
            return await self._projects_month(conn, month, today=today, district=district)

    async def districts_month(
        self, month: date, *, today: date, district: str | None = None
    ) -> list[DistrictMonth]:
        """Per district (the authorities' view): registrations in the month and its projects' figures;
        a district bureau's own district whatever it asks (registrations are counted unscoped)."""
        if self._principal.role is Role.DISTRICT:
            district = self._principal.district
        async with self._store.read("summaries.districts") as conn:
            return await self._districts_month(conn, month, today=today, district=district)

    async def _projects_month(
        self, conn: AsyncConnection, month: date, *, today: date, district: str | None
    ) -> list[ProjectMonth]:
        first, following, start, end = month_bounds(month)
        p = projects.c
        where = [project_clause(self._principal, p.id)]
        if district is not None:
            where.append(p.district == district)
        rows = (
            await conn.execute(select(p.id, p.name, p.district, p.registered_at).where(*where).order_by(p.id))
        ).all()
        people = await self._people(conn, first, following)
        present = await self._attendance(conn, first, following)
        issued, overdue, _, _ = await self._orders(conn, first, following, start, end, today)
        deducted = await self._deductions(conn, start, end, credit_deductions.c.project_id)
        result = []
        for row in rows:
            figures: dict[str, int] = dict.fromkeys(_PROJECT_FIGURES, 0)
            figures.update(people.get(row.id, {}))
            figures.update(present.get(row.id, {}))
            figures["orders_issued"] = issued[row.id]
            figures["orders_open_overdue"] = overdue[row.id]
            figures["deductions"], figures["points_deducted"] = deducted.get(row.id, (0, 0))
            result.append(
                ProjectMonth(
                    project_id=row.id,
                    name=row.name,
                    district=row.district,
                    registered=row.registered_at is not None,
                    **figures,
                )
            )
        return result

    async def _districts_month(
        self, conn: AsyncConnection, month: date, *, today: date, district: str | None
    ) -> list[DistrictMonth]:
        first, following, start, end = month_bounds(month)
        per = persons.c
        registered = {
            row.registered_district: int(row.n)
            for row in await conn.execute(
                select(per.registered_district, func.count().label("n"))
                .where(per.created_at >= start, per.created_at < end, per.registered_district.is_not(None))
                .group_by(per.registered_district)
            )
        }
        sums: defaultdict[str, Counter[str]] = defaultdict(Counter)
        for project in await self._projects_month(conn, month, today=today, district=district):
            for key in SUMMED_INTO_DISTRICT:
                sums[project.district][key] += getattr(project, key)
        _, _, issued, overdue = await self._orders(conn, first, following, start, end, today)
        deducted = await self._deductions(conn, start, end, credit_deductions.c.district)
        return [
            DistrictMonth(
                district=figures.district,
                name=figures.name,
                projects_with_permit=figures.projects_with_permit,
                projects_registered=figures.projects_registered,
                persons_registered=registered.get(figures.district, 0),
                **{key: sums[figures.district][key] for key in SUMMED_INTO_DISTRICT},
                orders_issued=issued[figures.district],
                orders_open_overdue=overdue[figures.district],
                deductions=deducted.get(figures.district, (0, 0))[0],
                points_deducted=deducted.get(figures.district, (0, 0))[1],
            )
            for figures in await registration(conn, district)
        ]
