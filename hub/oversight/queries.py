"""The oversight reads over the derived tables: headcount, managers on duty, attendance.

Every read takes the asking :class:`~hub.auth.principal.Principal` and ANDs its scope into the
SQL (:func:`hub.auth.scope.person_record_clause` on the table's own project and person columns),
so a subcontractor's department counts only its own people and nobody reads a row outside their
view. A project the account may not see at all is reported as not existing
(:func:`project_visible`), so an id cannot be probed.

Headcount rules (why a forgotten swipe-out does not inflate it forever): a person counts as on
site when their latest passage on the project was an ``in`` *and* that passage is less than
:data:`PRESENCE_STALE_AFTER` old *and* they hold an assignment to the project that is active today
(entry date reached, exit date not passed). A person with two active assignments counts once,
under the one that started last.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.auth.principal import Principal
from hub.auth.scope import person_record_clause, project_clause
from hub.derive.days import AttendanceDay, local_day
from hub.oversight import cursor
from hub.oversight.records import (
    AttendanceFilters,
    AttendancePage,
    AttendanceRow,
    Count,
    Headcount,
    ManagerDay,
    MonthlyPerson,
    MonthlyReport,
)
from hub.store.schema import assignments, attendance, enterprises, persons, presence, projects

PRESENCE_STALE_AFTER = timedelta(hours=18)
"""Longer than any shift: an ``in`` older than this is a swipe-out that was never recorded."""
MANAGER_ROLE = "manager"


async def project_visible(conn: AsyncConnection, principal: Principal, project_id: str) -> bool:
    p = projects.c
    query = select(p.id).where(p.id == project_id, project_clause(principal, p.id))
    return (await conn.execute(query)).first() is not None


def active_on(a: Any, day: date) -> ColumnElement[bool]:
    """The assignment (columns ``a``) runs on ``day``: entry reached, exit not passed."""
    return and_(a.entry_date <= day, or_(a.exit_date.is_(None), a.exit_date >= day))


async def headcount(conn: AsyncConnection, principal: Principal, project_id: str, now: datetime) -> Headcount:
    held = _assignment()
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
            p.on_site.is_(True),
            p.event_time >= now - PRESENCE_STALE_AFTER,
            active_on(a, local_day(now)),
            person_record_clause(principal, p.project_id, p.person_id),
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


async def managers_on_duty(
    conn: AsyncConnection, principal: Principal, project_id: str, day: date
) -> list[ManagerDay]:
    """Every manager assigned to the project on ``day``, with that day's attendance or none."""
    held = _assignment()
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
            person_record_clause(principal, a.project_id, a.person_id),
        )
        .order_by(per.position, per.name, a.person_id, a.entry_date.desc())
    )
    seen: dict[str, ManagerDay] = {}
    for row in (await conn.execute(query)).all():
        seen.setdefault(row.person_id, ManagerDay(**row._mapping))
    return list(seen.values())


def _assignment() -> Any:
    """``assignments`` under another name: the scope's own EXISTS over ``assignments`` must not
    correlate with the assignment a query joins."""
    return assignments.alias("held")


def _attendance_where(principal: Principal, filters: AttendanceFilters) -> list[ColumnElement[bool]]:
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
    clauses.append(person_record_clause(principal, t.project_id, t.person_id))
    return clauses


async def attendance_page(
    conn: AsyncConnection,
    principal: Principal,
    filters: AttendanceFilters,
    after: str | None,
    limit: int,
) -> AttendancePage:
    """Per person per day, by (day, project, person); one more row than asked says a page follows."""
    t, per = attendance.c, persons.c
    clauses = _attendance_where(principal, filters)
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


def latest_enterprise(column: Any, project_id: Any, person_col: Any) -> Any:
    """A column of the enterprise the person's latest assignment to the project is for."""
    a, e = assignments.c, enterprises.c
    return (
        select(column)
        .select_from(assignments.join(enterprises, e.id == a.enterprise_id))
        .where(a.project_id == project_id, a.person_id == person_col)
        .order_by(a.entry_date.desc(), a.id.desc())
        .limit(1)
        .scalar_subquery()
    )


async def monthly(conn: AsyncConnection, principal: Principal, project_id: str, month: date) -> MonthlyReport:
    """Per person of the project: days present, time on site, passages in the calendar month."""
    t, per = attendance.c, persons.c
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    totals = (
        select(
            t.person_id,
            func.count().label("days_present"),
            func.sum(t.seconds_on_site).label("seconds_on_site"),
            func.sum(t.passages).label("passages"),
        )
        .where(
            t.project_id == project_id,
            t.day >= first,
            t.day < following,
            person_record_clause(principal, t.project_id, t.person_id),
        )
        .group_by(t.person_id)
        .subquery()
    )
    query = (
        select(
            totals.c.person_id,
            per.name,
            latest_enterprise(enterprises.c.id, project_id, totals.c.person_id).label("enterprise_id"),
            latest_enterprise(enterprises.c.name, project_id, totals.c.person_id).label("enterprise_name"),
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
