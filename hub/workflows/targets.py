"""Whom an order or a deduction is about, and which bureau oversees it: read in the write's
transaction, so a project moved or a party added meanwhile cannot slip past the check.

A district bureau acts on the projects built in its district, and on the enterprises registered
there or working on one of those projects (an enterprise from elsewhere registers with the bureau
where it works); the city station on everything. The row's ``district`` is the overseeing
bureau's: the project's district; for an enterprise, the issuing bureau's, or the enterprise's
own when the city issues.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.auth.principal import Principal, Role
from hub.refusals import NotAProjectLeader, OutsideDistrict, UnknownReference
from hub.registry.rows import need_enterprise
from hub.store import Store
from hub.store.schema import assignments, persons, project_parties, projects

MANAGER = "manager"


@dataclass(frozen=True, slots=True)
class Target:
    district: str
    name: str


class TargetChecks:
    """What :class:`~hub.workflows.orders.Orders` and :class:`~hub.workflows.deductions.Deductions`
    share: the store, the account they act for, and its checks on whom a write is about."""

    def __init__(self, store: Store, principal: Principal) -> None:
        self._store = store
        self._principal = principal

    async def _project_target(self, conn: AsyncConnection, project_id: str, what: str) -> Target:
        p = projects.c
        row = (await conn.execute(select(p.district, p.name).where(p.id == project_id))).first()
        if row is None:
            raise UnknownReference("project_id", "project", project_id)
        principal = self._principal
        if principal.role is Role.DISTRICT and row.district != principal.district:
            raise OutsideDistrict(principal.district, what, f"project {project_id}")
        return Target(row.district, row.name)

    async def _enterprise_target(self, conn: AsyncConnection, enterprise_id: str, what: str) -> Target:
        principal = self._principal
        enterprise = await need_enterprise(conn, "enterprise_id", enterprise_id)
        if principal.role is not Role.DISTRICT or enterprise.district == principal.district:
            return Target(enterprise.district, enterprise.name)
        pp, p = project_parties.c, projects.c
        works_here = await conn.scalar(
            select(pp.project_id)
            .join(projects, p.id == pp.project_id)
            .where(pp.enterprise_id == enterprise_id, p.district == principal.district)
            .limit(1)
        )
        if works_here is None:
            raise OutsideDistrict(principal.district, what, f"enterprise {enterprise_id}")
        return Target(str(principal.district), enterprise.name)


async def leader_target(conn: AsyncConnection, person_id: str, project_id: str) -> str:
    """The name of ``person_id`` if they are a manager assigned to ``project_id``."""
    per, a = persons.c, assignments.c
    person = (await conn.execute(select(per.name, per.category).where(per.id == person_id))).first()
    if person is None:
        raise UnknownReference("person_id", "person", person_id)
    assigned = await conn.scalar(
        select(a.id).where(a.person_id == person_id, a.project_id == project_id, a.role == MANAGER).limit(1)
    )
    if person.category != MANAGER or assigned is None:
        raise NotAProjectLeader(person_id, project_id)
    return str(person.name)


async def employer_of(conn: AsyncConnection, person_id: str) -> str | None:
    employer: str | None = await conn.scalar(select(persons.c.enterprise_id).where(persons.c.id == person_id))
    return employer


async def is_party(conn: AsyncConnection, project_id: str, enterprise_id: str) -> bool:
    pp = project_parties.c
    found = await conn.scalar(
        select(pp.role).where(pp.project_id == project_id, pp.enterprise_id == enterprise_id)
    )
    return found is not None
