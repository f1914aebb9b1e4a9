"""A project's record with names, for the people who run and watch the site: who is on site now,
the access log and attendance, each row with the person's name, ID number (as the account may see
it), enterprise, team (班组) and gate, never an internal id; filters by person, enterprise, days,
direction, decision and reason; newest-first pages both ways; the exports' pages.

:class:`SiteLog` is built with the store, the asking principal (required, as for
:class:`hub.oversight.oversight.Oversight`) and the ID vault; every statement ANDs the account's
scope (:func:`hub.auth.scope.person_record_clause`), so a subcontractor's department reads its own
enterprise's people only. Names, enterprise, team and gate come by joins and scalar subqueries in
the page's one statement, never a read per row.

A person is searched for by an ID number through its keyed blind index, as the registry's lookup
does: the caller passes :meth:`IdVault.blind_index` of what was typed, and no number is compared
or stored anywhere. Whole ID numbers are opened only for the roles with the need.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any, Final, TypeVar

from sqlalchemy import ColumnElement, Select, and_, exists, literal, null, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.auth import audit
from hub.auth.principal import Principal, Role
from hub.auth.scope import enterprise_clause, person_record_clause, project_clause
from hub.errors import NotFound
from hub.events.queries import newer_page_query, page_query
from hub.events.records import EventFilters
from hub.oversight import cursor as attendance_cursor
from hub.oversight.queries import held_assignment, latest_enterprise, latest_team, month_totals, present
from hub.oversight.site_records import (
    NOBODY_IN_PARTICULAR,
    AttendanceEntry,
    AttendanceQuery,
    Days,
    EnterpriseChoice,
    GroupCount,
    LogEntry,
    LogFilters,
    MonthEntry,
    OnSite,
    OnSitePerson,
    PersonFilter,
    TwoWayPage,
)
from hub.registry.vault import IdVault
from hub.store import Store
from hub.store.cursor import encode_cursor
from hub.store.schema import (
    access_events,
    assignments,
    attendance,
    enterprises,
    gates,
    persons,
    presence,
    project_parties,
    projects,
    teams,
)
from wire.clock import SITE_ZONE

T = TypeVar("T")
EXPORT_PAGE: Final = 1000
"""Rows per read while an export runs: each page its own short read."""


def day_bounds(days: Days) -> tuple[datetime, datetime]:
    """The instants the site-local days span: midnight of the first, midnight after the last."""
    start = datetime.combine(days.first, time(0), tzinfo=SITE_ZONE)
    end = datetime.combine(days.last + timedelta(days=1), time(0), tzinfo=SITE_ZONE)
    return start, end


def _event_filters(filters: LogFilters) -> EventFilters:
    since, until = day_bounds(filters.days)
    return EventFilters(
        project_id=filters.project_id,
        enterprise_id=filters.who.enterprise_id,
        direction=filters.direction,
        decision=filters.decision,
        reason=filters.reason,
        since=since,
        until=until,
    )


def _person_clauses(who: PersonFilter) -> list[ColumnElement[bool]]:
    """Name and ID number, on ``persons`` (joined by the statement)."""
    per = persons.c
    clauses: list[ColumnElement[bool]] = []
    if who.name is not None:
        clauses.append(per.name.contains(who.name, autoescape=True))
    if who.id_key is not None:
        clauses.append(per.id_index == who.id_key)
    return clauses


def _works_for(enterprise_id: str, project_col: Any, person_col: Any) -> ColumnElement[bool]:
    a = assignments.c
    return exists().where(
        a.project_id == project_col, a.person_id == person_col, a.enterprise_id == enterprise_id
    )


class SiteLog:
    """What ``principal`` may read of a project's record, with names."""

    def __init__(self, store: Store, principal: Principal, vault: IdVault) -> None:
        self._store = store
        self._principal = principal
        self._vault = vault

    # -- who is on site --------------------------------------------------------------------------

    async def on_site(self, project_id: str, now: datetime) -> OnSite:
        """Everybody on site by the headcount's rules (hub.oversight.oversight: latest passage an
        ``in``, fresh, an assignment running today; a clock-suspect passage never made anyone
        present), each under their latest running assignment."""
        held = held_assignment()
        p, a, e, per, t, g = presence.c, held.c, enterprises.c, persons.c, teams.c, gates.c
        query = (
            select(
                p.person_id,
                per.name,
                per.id_masked,
                self._cipher(),
                per.id_index,
                a.enterprise_id,
                e.name.label("enterprise_name"),
                t.name.label("team_name"),
                a.role,
                p.since,
                g.name.label("gate"),
                p.device_id,
            )
            .select_from(
                presence.join(held, and_(a.project_id == p.project_id, a.person_id == p.person_id))
                .join(enterprises, e.id == a.enterprise_id)
                .join(persons, per.id == p.person_id)
                .outerjoin(teams, t.id == a.team_id)
                .outerjoin(gates, g.device_id == p.device_id)
            )
            .where(
                p.project_id == project_id,
                *present(p, a, now),
                self._scope(p.project_id, p.person_id),
            )
            .order_by(p.person_id, a.entry_date, a.id)  # latest assignment last: the dict keeps it
        )
        async with self._store.read("site_log.on_site") as conn:
            await self._need_project(conn, project_id)
            rows = (await conn.execute(query)).all()
        latest = {row.person_id: row for row in rows}
        people = sorted(
            (
                OnSitePerson(
                    person_id=row.person_id,
                    name=row.name,
                    id_number=self._id_number(row),
                    enterprise_id=row.enterprise_id,
                    enterprise_name=row.enterprise_name,
                    team_name=row.team_name,
                    role=row.role,
                    since=row.since,
                    gate=row.gate,
                    device_id=row.device_id,
                    id_key=row.id_index,
                )
                for row in latest.values()
            ),
            key=lambda one: (one.enterprise_name, one.team_name or "", one.name, one.person_id),
        )
        return OnSite(
            project_id=project_id,
            as_of=now,
            people=tuple(people),
            by_enterprise=_counts(person.enterprise_name for person in people),
            by_team=_counts(person.team_name for person in people),
        )

    # -- the access log --------------------------------------------------------------------------

    async def access_log(
        self, filters: LogFilters, *, older: str | None = None, newer: str | None = None, limit: int = 50
    ) -> TwoWayPage[LogEntry]:
        """Newest first. ``older``: the page after the row it names (a page's ``older``);
        ``newer``: the page before it (a page's ``newer``)."""
        events, scope = _event_filters(filters), self._log_scope(filters.who)
        if newer is not None:
            query = newer_page_query(access_events, events, newer, limit, scope)
        else:
            query = page_query(access_events, events, older, limit, scope)
        async with self._store.read("site_log.access_log") as conn:
            await self._need_project(conn, filters.project_id)
            rows = (await conn.execute(self._named_events(query))).all()
        return _two_way([self._log_entry(row) for row in rows], limit, older, newer)

    def access_log_pages(
        self, filters: LogFilters, page_rows: int = EXPORT_PAGE
    ) -> AsyncGenerator[list[LogEntry], None]:
        """Every row the filters match, newest first, a page per read (an export's rows)."""
        return _every_page(lambda after: self.access_log(filters, older=after, limit=page_rows))

    # -- attendance ------------------------------------------------------------------------------

    async def attendance(
        self, asked: AttendanceQuery, *, older: str | None = None, newer: str | None = None, limit: int = 100
    ) -> TwoWayPage[AttendanceEntry]:
        """Per person per day, the latest day first, people by id within a day; pages both ways."""
        t, per = attendance.c, persons.c
        clauses = [
            t.project_id == asked.project_id,
            t.day >= asked.days.first,
            t.day <= asked.days.last,
            self._scope(t.project_id, t.person_id),
            *_person_clauses(asked.who),
        ]
        if asked.who.enterprise_id is not None:
            clauses.append(_works_for(asked.who.enterprise_id, t.project_id, t.person_id))
        order: tuple[Any, ...] = (t.day.desc(), t.person_id.asc())
        if older is not None:
            day, _, person_id = attendance_cursor.decode(older)
            clauses.append(or_(t.day < day, and_(t.day == day, t.person_id > person_id)))
        elif newer is not None:
            day, _, person_id = attendance_cursor.decode(newer)
            clauses.append(or_(t.day > day, and_(t.day == day, t.person_id < person_id)))
            order = (t.day.asc(), t.person_id.desc())
        query = (
            select(
                t.project_id,
                t.day,
                t.person_id,
                per.name,
                per.id_masked,
                self._cipher(),
                latest_enterprise(enterprises.c.name, t.project_id, t.person_id).label("enterprise_name"),
                latest_team(t.project_id, t.person_id).label("team_name"),
                t.first_in,
                t.last_out,
                t.seconds_on_site,
                t.passages,
            )
            .select_from(attendance.join(persons, per.id == t.person_id))
            .where(*clauses)
            .order_by(*order)
            .limit(limit + 1)
        )
        async with self._store.read("site_log.attendance") as conn:
            await self._need_project(conn, asked.project_id)
            rows = (await conn.execute(query)).all()
        return _two_way([self._attendance_entry(row) for row in rows], limit, older, newer)

    async def monthly(
        self, project_id: str, month: date, who: PersonFilter = NOBODY_IN_PARTICULAR
    ) -> list[MonthEntry]:
        """Per person of the project: days present, time on site and passages in the calendar
        month of ``month``, by enterprise, team and name (a month's people fit one page)."""
        t, per = attendance.c, persons.c
        first = month.replace(day=1)
        totals = month_totals(project_id, first, self._scope(t.project_id, t.person_id))
        person_id = totals.c.person_id
        clauses = _person_clauses(who)
        if who.enterprise_id is not None:
            clauses.append(_works_for(who.enterprise_id, literal(project_id), person_id))
        e = enterprises.c
        enterprise_name = latest_enterprise(e.name, project_id, person_id).label("enterprise_name")
        team_name = latest_team(project_id, person_id).label("team_name")
        query = (
            select(
                person_id,
                per.name,
                per.id_masked,
                self._cipher(),
                enterprise_name,
                team_name,
                totals.c.days_present,
                totals.c.seconds_on_site,
                totals.c.passages,
            )
            .select_from(totals.join(persons, per.id == person_id))
            .where(*clauses)
            .order_by(enterprise_name, team_name.asc().nulls_last(), per.name, person_id)
        )
        async with self._store.read("site_log.monthly") as conn:
            await self._need_project(conn, project_id)
            rows = (await conn.execute(query)).all()
        return [
            MonthEntry(
                month=first,
                person_id=row.person_id,
                name=row.name,
                id_number=self._id_number(row),
                enterprise_name=row.enterprise_name,
                team_name=row.team_name,
                days_present=int(row.days_present),
                seconds_on_site=int(row.seconds_on_site),
                passages=int(row.passages),
            )
            for row in rows
        ]

    def attendance_pages(
        self, asked: AttendanceQuery, page_rows: int = EXPORT_PAGE
    ) -> AsyncGenerator[list[AttendanceEntry], None]:
        return _every_page(lambda after: self.attendance(asked, older=after, limit=page_rows))

    async def note_id_search(self, project_id: str, id_key: str, *, at: datetime) -> None:
        """An audit line for a search by ID number (its blind index, never the number), as the
        registry's lookup leaves one: a search tells whoever makes it whom a number belongs to."""
        async with self._store.write("site_log.id_search") as conn:
            await self._need_project(conn, project_id)
            detail = {"id_index": id_key}
            action = "site_log.id_search"
            await audit.record(conn, self._principal, action, at=at, target=project_id, detail=detail)

    # -- pickers ---------------------------------------------------------------------------------

    async def enterprises(self, project_id: str) -> list[EnterpriseChoice]:
        """The project's enterprises by name (a subcontractor's department: its own only)."""
        pp, e = project_parties.c, enterprises.c
        query = (
            select(e.id, e.name, pp.role)
            .select_from(project_parties.join(enterprises, e.id == pp.enterprise_id))
            .where(pp.project_id == project_id, enterprise_clause(self._principal, e.id))
            .order_by(e.name, e.id)
        )
        if self._principal.role is Role.SUB_PROJECT:
            query = query.where(e.id == self._principal.enterprise_id)
        async with self._store.read("site_log.enterprises") as conn:
            await self._need_project(conn, project_id)
            return [EnterpriseChoice(**row._mapping) for row in await conn.execute(query)]

    # -- pieces ----------------------------------------------------------------------------------

    def _scope(self, project_col: Any, person_col: Any) -> ColumnElement[bool]:
        return person_record_clause(self._principal, project_col, person_col)

    def _log_scope(self, who: PersonFilter) -> ColumnElement[bool]:
        a = access_events.c
        return and_(self._scope(a.project_id, a.person_id), *_person_clauses(who))

    def _cipher(self) -> Any:
        """The sealed number, selected only for an account that may see it whole."""
        if self._principal.sees_full_id_numbers:
            return persons.c.id_cipher
        return null().label("id_cipher")

    def _id_number(self, row: Any) -> str:
        if row.id_cipher is not None:
            return self._vault.open_id(row.person_id, row.id_cipher)
        return str(row.id_masked)

    def _named_events(self, query: Select[Any]) -> Select[Any]:
        a, g, per = access_events.c, gates.c, persons.c
        return query.with_only_columns(
            a.id,
            a.wall_time,
            g.name.label("gate"),
            a.lane,
            a.direction,
            a.decision,
            a.reason,
            a.warnings,
            a.person_id,
            per.name,
            per.id_masked,
            self._cipher(),
            latest_enterprise(enterprises.c.name, a.project_id, a.person_id).label("enterprise_name"),
            latest_team(a.project_id, a.person_id).label("team_name"),
            a.clock_suspect,
            a.flag,
        ).select_from(
            access_events.outerjoin(gates, g.device_id == a.device_id).outerjoin(
                persons, per.id == a.person_id
            )
        )

    def _log_entry(self, row: Any) -> LogEntry:
        return LogEntry(
            wall_time=row.wall_time,
            gate=row.gate,
            lane=row.lane,
            direction=row.direction,
            decision=row.decision,
            reason=row.reason,
            warnings=row.warnings,
            person_id=row.person_id,
            name=row.name,
            id_number=self._id_number(row) if row.person_id is not None and row.name is not None else None,
            enterprise_name=row.enterprise_name,
            team_name=row.team_name,
            clock_suspect=row.clock_suspect,
            flag=row.flag,
            cursor=encode_cursor(row.wall_time, row.id),
        )

    def _attendance_entry(self, row: Any) -> AttendanceEntry:
        return AttendanceEntry(
            day=row.day,
            person_id=row.person_id,
            name=row.name,
            id_number=self._id_number(row),
            enterprise_name=row.enterprise_name,
            team_name=row.team_name,
            first_in=row.first_in,
            last_out=row.last_out,
            seconds_on_site=row.seconds_on_site,
            passages=row.passages,
            cursor=attendance_cursor.encode((row.day, row.project_id, row.person_id)),
        )

    async def _need_project(self, conn: AsyncConnection, project_id: str) -> None:
        """404, the same whether the project does not exist or is outside the account's scope."""
        p = projects.c
        query = select(p.id).where(p.id == project_id, project_clause(self._principal, p.id))
        if (await conn.execute(query)).first() is None:
            raise NotFound(f"project {project_id!r} not found")


def _counts(names: Any) -> tuple[GroupCount, ...]:
    counted = Counter(names)
    return tuple(
        GroupCount(name, n) for name, n in sorted(counted.items(), key=lambda item: (-item[1], item[0] or ""))
    )


async def _every_page(
    read: Callable[[str | None], Awaitable[TwoWayPage[T]]],
) -> AsyncGenerator[list[T], None]:
    """Each page ``read`` gives, following its ``older`` links from the first to the last."""
    after: str | None = None
    while True:
        found = await read(after)
        yield found.items
        if found.older is None:
            return
        after = found.older


def _two_way(entries: Sequence[Any], limit: int, older: str | None, newer: str | None) -> TwoWayPage[Any]:
    """One more row than asked for says more lie that way. Going newer, the rows came oldest first."""
    more = len(entries) > limit
    items = list(entries[:limit])
    if newer is not None:
        items.reverse()
        return TwoWayPage(
            items, older=items[-1].cursor if items else newer, newer=items[0].cursor if more else None
        )
    return TwoWayPage(
        items,
        older=items[-1].cursor if more else None,
        newer=None if older is None else (items[0].cursor if items else older),
    )
