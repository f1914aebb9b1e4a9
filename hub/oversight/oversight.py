"""The oversight reads, on behalf of one account: headcount, managers on duty, attendance, monthly
reports, registration statistics, entries per hour, and the access record as CSV.

:class:`Oversight` is built with the store and the asking :class:`~hub.auth.principal.Principal`
(required: there is no "everything" default) and ANDs that account's scope into every statement
(:func:`hub.auth.scope.person_record_clause` on the table's own project and person columns), so a
subcontractor's department counts only its own people and nobody reads a row outside their view.
A project the account may not see at all is reported as not existing, so an id cannot be probed.

Headcount rules (why a forgotten swipe-out does not inflate it forever): a person counts as on
site when their latest passage on the project was an ``in`` *and* that passage is less than
:data:`PRESENCE_STALE_AFTER` old *and* they hold an assignment to the project that is active today
(entry date reached, exit date not passed). A person with two active assignments counts once,
under the one that started last.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import AsyncGenerator
from datetime import date, datetime, time, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.auth.principal import Principal, Role
from hub.auth.scope import person_record_clause, project_clause
from hub.derive.days import AttendanceDay
from hub.errors import NotFound
from hub.events.records import EventFilters
from hub.oversight import cursor, export, statistics
from hub.oversight.queries import (
    MANAGER_ROLE,
    PRESENCE_STALE_AFTER,
    active_on,
    held_assignment,
    latest_enterprise,
    month_totals,
    present,
)
from hub.oversight.records import (
    AttendanceFilters,
    AttendancePage,
    AttendanceRow,
    Count,
    DistrictRegistration,
    Headcount,
    ManagerDay,
    MonthlyPerson,
    MonthlyReport,
)
from hub.store import Store
from hub.store.cursor import encode_cursor
from hub.store.schema import access_events, assignments, attendance, enterprises, persons, presence, projects
from wire.clock import SITE_ZONE

__all__ = ["PRESENCE_STALE_AFTER", "Oversight"]

_JUST_AFTER = timedelta(microseconds=1)


class Oversight:
    """What ``principal`` may read of the record; every method is one short read."""

    def __init__(self, store: Store, principal: Principal) -> None:
        self._store = store
        self._principal = principal

    async def project_visible(self, project_id: str) -> bool:
        async with self._store.read("project_visible") as conn:
            return await self._visible(conn, project_id)

    async def headcount(self, project_id: str, now: datetime) -> Headcount:
        async with self._store.read("headcount") as conn:
            await self._need_project(conn, project_id)
            return await self._headcount(conn, project_id, now)

    async def managers_on_duty(self, project_id: str, day: date) -> list[ManagerDay]:
        """Every manager assigned to the project on ``day``, with that day's attendance or none."""
        async with self._store.read("managers_on_duty") as conn:
            await self._need_project(conn, project_id)
            return await self._managers_on_duty(conn, project_id, day)

    async def attendance(self, filters: AttendanceFilters, after: str | None, limit: int) -> AttendancePage:
        """Per person per day, by (day, project, person); ``next_cursor`` None on the last page."""
        async with self._store.read("attendance") as conn:
            if filters.project_id is not None:
                await self._need_project(conn, filters.project_id)
            return await self._attendance_page(conn, filters, after, limit)

    async def monthly(self, project_id: str, month: date) -> MonthlyReport:
        """Per person of the project: days present, time on site, passages in the calendar month."""
        async with self._store.read("monthly_attendance") as conn:
            await self._need_project(conn, project_id)
            return await self._monthly(conn, project_id, month)

    async def registration(self, district: str | None = None) -> list[DistrictRegistration]:
        """Registration figures per district (counts, no personal data): every district or one;
        a district bureau's own district whatever it asks."""
        if self._principal.role is Role.DISTRICT:
            district = self._principal.district
        async with self._store.read("registration_statistics") as conn:
            return await statistics.registration(conn, district)

    async def entries_per_hour(self, project_id: str, day: date) -> list[int]:
        """Granted ``in`` passages per site-local hour of ``day`` (24 values) the account may see;
        a ``clock_suspect`` event is not a passage (hub.events.time_bounds)."""
        a = access_events.c
        start = datetime.combine(day, time(0), tzinfo=SITE_ZONE)
        query = select(a.wall_time).where(
            a.project_id == project_id,
            a.direction == "in",
            a.decision == "granted",
            a.wall_time >= start,
            a.wall_time < start + timedelta(days=1),
            a.clock_suspect.is_(False),
            self._person_records(a.project_id, a.person_id),
        )
        async with self._store.read("entries_per_hour") as conn:
            rows = await conn.execute(query)
            hours = Counter(row.wall_time.astimezone(SITE_ZONE).hour for row in rows)
        return [hours.get(hour, 0) for hour in range(24)]

    async def export_pages(
        self, filters: EventFilters, *, page_rows: int = export.PAGE_ROWS
    ) -> AsyncGenerator[str, None]:
        """The access record as CSV text, a page at a time, header first (even when nothing
        matches); newest first. Each page is its own short read: a slow download holds no
        transaction open."""
        a = access_events.c
        scope = self._person_records(a.project_id, a.person_id)
        after: str | None = None
        header = True
        while True:
            async with self._store.read("export_access_events") as conn:
                rows = (await conn.execute(export.page_statement(filters, after, scope, page_rows))).all()
            yield export.to_csv(rows[:page_rows], header=header)
            header = False
            if len(rows) <= page_rows:
                return
            last = rows[page_rows - 1]
            after = encode_cursor(last.wall_time, last.id)
            # The cursor's OR (earlier, or as early with a lower id) does not bound an index range
            # by itself; an upper bound does, so each page starts where the last one ended instead
            # of walking every row above it again (quadratic over a million rows).
            filters = dataclasses.replace(filters, until=last.wall_time + _JUST_AFTER)

    # -- the statements, under this account's scope ----------------------------------------------

    def _person_records(
        self, project_col: ColumnElement[str], person_col: ColumnElement[str | None]
    ) -> ColumnElement[bool]:
        return person_record_clause(self._principal, project_col, person_col)

    async def _visible(self, conn: AsyncConnection, project_id: str) -> bool:
        p = projects.c
        query = select(p.id).where(p.id == project_id, project_clause(self._principal, p.id))
        return (await conn.execute(query)).first() is not None

    async def _need_project(self, conn: AsyncConnection, project_id: str) -> None:
        """404, the same whether the project does not exist or is outside the account's scope."""
        if not await self._visible(conn, project_id):
            raise NotFound(f"project {project_id!r} not found")

    async def _headcount(self, conn: AsyncConnection, project_id: str, now: datetime) -> Headcount:
        held = held_assignment()
        p, a, e = presence.c, held.c, enterprises.c
        query = (
            select(p.person_id, a.enterprise_id, e.name.label("enterprise_name"), a.role)
            .select_from(
                presence.join(held, and_(a.project_id == p.project_id, a.person_id == p.person_id)).join(
                    enterprises, e.id == a.enterprise_id
                )
            )
            .where(
                p.project_id == project_id,
                *present(p, a, now),
                self._person_records(p.project_id, p.person_id),
            )
            # Latest assignment last: the dict below keeps it.
            .order_by(p.person_id, a.entry_date, a.id)
        )
        on_site = {row.person_id: row for row in (await conn.execute(query)).all()}
        by_enterprise = Counter((row.enterprise_id, row.enterprise_name) for row in on_site.values())
        by_role = Counter(row.role for row in on_site.values())
        return Headcount(
            project_id=project_id,
            as_of=now,
            on_site=len(on_site),
            by_enterprise=tuple(Count(key, name, n) for (key, name), n in sorted(by_enterprise.items())),
            by_role=tuple(Count(role, None, n) for role, n in sorted(by_role.items())),
        )

    async def _managers_on_duty(self, conn: AsyncConnection, project_id: str, day: date) -> list[ManagerDay]:
        held = held_assignment()
        a, per, e, att = held.c, persons.c, enterprises.c, attendance.c
        query = (
            select(
                a.person_id,
                per.name,
                per.position,
                a.enterprise_id,
                e.name.label("enterprise_name"),
                att.first_in,
                att.last_out,
                func.coalesce(att.seconds_on_site, 0).label("seconds_on_site"),
                func.coalesce(att.passages, 0).label("passages"),
            )
            .select_from(
                held.join(persons, per.id == a.person_id)
                .join(enterprises, e.id == a.enterprise_id)
                .outerjoin(
                    attendance,
                    and_(att.project_id == a.project_id, att.person_id == a.person_id, att.day == day),
                )
            )
            .where(
                a.project_id == project_id,
                a.role == MANAGER_ROLE,
                active_on(a, day),
                self._person_records(a.project_id, a.person_id),
            )
            .order_by(per.position, per.name, a.person_id, a.entry_date.desc())
        )
        seen: dict[str, ManagerDay] = {}
        for row in (await conn.execute(query)).all():
            seen.setdefault(row.person_id, ManagerDay(**row._mapping))
        return list(seen.values())

    def _attendance_where(self, filters: AttendanceFilters) -> list[ColumnElement[bool]]:
        t = attendance.c
        clauses = [t.day >= filters.since, t.day <= filters.until]
        if filters.project_id is not None:
            clauses.append(t.project_id == filters.project_id)
        if filters.person_id is not None:
            clauses.append(t.person_id == filters.person_id)
        if filters.enterprise_id is not None:
            a = assignments.c
            clauses.append(
                select(a.id)
                .where(
                    a.project_id == t.project_id,
                    a.person_id == t.person_id,
                    a.enterprise_id == filters.enterprise_id,
                )
                .exists()
            )
        clauses.append(self._person_records(t.project_id, t.person_id))
        return clauses

    async def _attendance_page(
        self, conn: AsyncConnection, filters: AttendanceFilters, after: str | None, limit: int
    ) -> AttendancePage:
        """One more row than asked says a page follows."""
        t, per = attendance.c, persons.c
        clauses = self._attendance_where(filters)
        if after is not None:
            day, project_id, person_id = cursor.decode(after)
            clauses.append(
                or_(
                    t.day > day,
                    and_(t.day == day, t.project_id > project_id),
                    and_(t.day == day, t.project_id == project_id, t.person_id > person_id),
                )
            )
        query = (
            select(
                t.project_id,
                t.person_id,
                per.name,
                t.day,
                t.first_in,
                t.last_out,
                t.seconds_on_site,
                t.passages,
            )
            .select_from(attendance.outerjoin(persons, per.id == t.person_id))
            .where(*clauses)
            .order_by(t.day, t.project_id, t.person_id)
            .limit(limit + 1)
        )
        rows = [
            AttendanceRow(AttendanceDay(**{k: v for k, v in row._mapping.items() if k != "name"}), row.name)
            for row in (await conn.execute(query)).all()
        ]
        items = rows[:limit]
        next_cursor = None
        if len(rows) > limit:
            last = items[-1].record
            next_cursor = cursor.encode((last.day, last.project_id, last.person_id))
        return AttendancePage(items=items, next_cursor=next_cursor)

    async def _monthly(self, conn: AsyncConnection, project_id: str, month: date) -> MonthlyReport:
        t, per = attendance.c, persons.c
        first = month.replace(day=1)
        totals = month_totals(project_id, first, self._person_records(t.project_id, t.person_id))
        e, person_id = enterprises.c, totals.c.person_id
        query = (
            select(
                person_id,
                per.name,
                latest_enterprise(e.id, project_id, person_id).label("enterprise_id"),
                latest_enterprise(e.name, project_id, person_id).label("enterprise_name"),
                totals.c.days_present,
                totals.c.seconds_on_site,
                totals.c.passages,
            )
            .select_from(totals.outerjoin(persons, per.id == totals.c.person_id))
            .order_by(totals.c.person_id)
        )
        rows = (await conn.execute(query)).all()
        people = tuple(
            MonthlyPerson(
                **{**row._mapping, "seconds_on_site": int(row.seconds_on_site), "passages": int(row.passages)}
            )
            for row in rows
        )
        return MonthlyReport(project_id=project_id, month=first, persons=people)
