"""The registry's reads: every listing and lookup ANDs the account's scope into its SQL.

Scope is :mod:`hub.auth.scope`'s clauses, never a filter applied to rows after the query, so a
page cannot hold a row a later filter would have dropped. A person's ID number is decrypted only
for the roles that need it whole (:attr:`Principal.sees_full_id_numbers`); everyone else gets the
masked form stored beside it. A project the account cannot see is "not found", like one that
does not exist.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Row, select

from hub.auth.principal import PROJECT_ROLES, Role
from hub.auth.scope import (
    device_clause,
    enterprise_clause,
    person_clause,
    person_record_clause,
    project_clause,
)
from hub.page import Page
from hub.refusals import Missing
from hub.registry import permissions as may
from hub.registry import rows
from hub.registry.base import RegistryBase
from hub.registry.paging import decode_key, encode_key
from hub.registry.records import (
    Assignment,
    District,
    Enterprise,
    GateRecord,
    Inspection,
    Party,
    Person,
    Project,
)
from hub.store.schema import (
    accounts,
    districts,
    enterprises,
    gates,
    inspections,
    persons,
    project_parties,
    projects,
)

MAX_PAGE = 500


class RegistryReads(RegistryBase):
    async def districts(self) -> list[District]:
        may.check_role(self._principal, may.READERS)
        async with self._store.read("registry.districts") as conn:
            result = await conn.execute(select(districts).order_by(districts.c.code))
        return [rows.district(row) for row in result]

    async def enterprises(self, *, cursor: str | None = None, limit: int = 100) -> Page[Enterprise]:
        may.check_role(self._principal, may.READERS)
        e = enterprises.c
        query = select(*rows.ENTERPRISE_COLUMNS).where(enterprise_clause(self._principal, e.id))
        found = await self._page("registry.enterprises", query, e.id, str, cursor, limit)
        return Page([rows.enterprise(row) for row in found.items], found.next_cursor)

    async def enterprise(self, enterprise_id: str) -> Enterprise:
        may.check_role(self._principal, may.READERS)
        e = enterprises.c
        query = select(*rows.ENTERPRISE_COLUMNS).where(
            e.id == enterprise_id, enterprise_clause(self._principal, e.id)
        )
        return rows.enterprise(await self._one("registry.enterprise", query, "enterprise", enterprise_id))

    async def persons(
        self,
        *,
        enterprise_id: str | None = None,
        watchlisted: bool | None = None,
        cursor: str | None = None,
        limit: int = 100,
    ) -> Page[Person]:
        may.check_role(self._principal, may.READERS)
        p = persons.c
        query = select(persons).where(person_clause(self._principal, p.id))
        if enterprise_id is not None:
            query = query.where(p.enterprise_id == enterprise_id)
        if watchlisted is not None:
            query = query.where(p.watchlisted.is_(watchlisted))
        found = await self._page("registry.persons", query, p.id, str, cursor, limit)
        return Page([self._person(row) for row in found.items], found.next_cursor)

    async def person(self, person_id: str) -> Person:
        may.check_role(self._principal, may.READERS)
        query = select(persons).where(persons.c.id == person_id, person_clause(self._principal, persons.c.id))
        return self._person(await self._one("registry.person", query, "person", person_id))

    async def projects(self, *, registered: bool | None = None, district: str | None = None) -> list[Project]:
        may.check_role(self._principal, may.READERS)
        p = projects.c
        query = select(*rows.PROJECT_COLUMNS).where(project_clause(self._principal, p.id)).order_by(p.id)
        if registered is not None:
            query = query.where(p.registered_at.is_not(None) if registered else p.registered_at.is_(None))
        if district is not None:
            query = query.where(p.district == district)
        async with self._store.read("registry.projects") as conn:
            return [rows.project(row) for row in await conn.execute(query)]

    async def project(self, project_id: str) -> Project:
        may.check_role(self._principal, may.READERS)
        p = projects.c
        query = select(*rows.PROJECT_COLUMNS).where(p.id == project_id, project_clause(self._principal, p.id))
        return rows.project(await self._one("registry.project", query, "project", project_id))

    async def parties(self, project_id: str) -> list[Party]:
        may.check_role(self._principal, may.READERS)
        pp, acc = project_parties.c, accounts.c
        department = (
            (acc.project_id == pp.project_id)
            & (acc.enterprise_id == pp.enterprise_id)
            & acc.role.in_([role.value for role in PROJECT_ROLES])
        )
        query = (
            select(pp.project_id, pp.enterprise_id, pp.role, pp.joined_at, acc.username.label("account"))
            .select_from(project_parties.outerjoin(accounts, department))
            .where(pp.project_id == project_id)
            .order_by(pp.joined_at, pp.enterprise_id)
        )
        async with self._store.read("registry.parties") as conn:
            await self._need_visible_project(conn, project_id)
            return [Party(**row._mapping) for row in await conn.execute(query)]

    async def assignments(
        self,
        project_id: str,
        *,
        person_id: str | None = None,
        cursor: str | None = None,
        limit: int = 100,
    ) -> Page[Assignment]:
        may.check_role(self._principal, may.READERS)
        a = rows.ASSIGNMENT.c
        query = select(*rows.ASSIGNMENT_COLUMNS).where(
            a.project_id == project_id, person_record_clause(self._principal, a.project_id, a.person_id)
        )
        if person_id is not None:
            query = query.where(a.person_id == person_id)
        async with self._store.read("registry.assignments") as conn:
            await self._need_visible_project(conn, project_id)
        found = await self._page("registry.assignments", query, a.id, int, cursor, limit)
        return Page([rows.assignment(row) for row in found.items], found.next_cursor)

    async def gates(self, project_id: str) -> list[GateRecord]:
        """A project's lanes; the operator sees every project's (devices, not people)."""
        may.check_role(self._principal, may.READ_GATES)
        g = gates.c
        query = (
            select(*rows.GATE_COLUMNS)
            .where(g.project_id == project_id, device_clause(self._principal, g.device_id))
            .order_by(g.lane, g.device_id)
        )
        async with self._store.read("registry.gates") as conn:
            if self._principal.role is Role.OPERATOR:
                await rows.project_row(conn, project_id)
            else:
                await self._need_visible_project(conn, project_id)
            return [rows.gate(row) for row in await conn.execute(query)]

    async def inspections(self, project_id: str) -> list[Inspection]:
        may.check_role(self._principal, may.READ_INSPECTIONS)
        query = (
            rows.inspections_query()
            .where(inspections.c.project_id == project_id)
            .order_by(inspections.c.inspected_on.desc(), inspections.c.id.desc())
        )
        async with self._store.read("registry.inspections") as conn:
            await self._need_visible_project(conn, project_id)
            return [rows.inspection(row) for row in await conn.execute(query)]

    async def _one(self, operation: str, query: Any, what: str, ident: str) -> Row[Any]:
        async with self._store.read(operation) as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            raise Missing(what, ident)
        return row

    async def _page(
        self,
        operation: str,
        query: Any,
        key: ColumnElement[Any],
        kind: type[str] | type[int],
        cursor: str | None,
        limit: int,
    ) -> Page[Row[Any]]:
        """Rows in ``key`` order after the cursor's key; one extra row says whether more follow."""
        if not 1 <= limit <= MAX_PAGE:
            raise ValueError(f"limit must be 1 to {MAX_PAGE}")
        if cursor is not None:
            query = query.where(key > decode_key(cursor, kind))
        async with self._store.read(operation) as conn:
            found = list(await conn.execute(query.order_by(key).limit(limit + 1)))
        more = len(found) > limit
        items = found[:limit]
        return Page(items, encode_key(items[-1]._mapping[key]) if more else None)
