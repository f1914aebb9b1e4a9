"""What a regulator's rectification-order and credit-deduction forms may name, as the pickers'
candidates (:mod:`hub.console.pickers`), read through the account's scoped registry: the
enterprises and projects the workflows would accept from this account (hub.workflows.targets:
a district bureau acts on its district's projects and on the enterprises registered in it or
working on them), and the project leaders (managers) assigned to one project.

What the account may not act on is no candidate, so it is "not found" in the form rather than a
refusal after the fact.
"""

from __future__ import annotations

from collections.abc import Callable

from hub.auth.principal import Principal, Role
from hub.console.pickers import Candidate
from hub.registry import Enterprise, Project, Registry

MANAGER = "manager"
"""The roster role of a project leader (hub.workflows.targets.leader_target's)."""


async def _every_enterprise(registry: Registry) -> list[Enterprise]:
    found: list[Enterprise] = []
    cursor: str | None = None
    while True:
        page = await registry.enterprises(cursor=cursor, limit=500)
        found += page.items
        if page.next_cursor is None:
            return found
        cursor = page.next_cursor


def enterprise_candidate(enterprise: Enterprise) -> Candidate:
    return Candidate(enterprise.id, enterprise.name, (enterprise.number,), enterprise.number)


def project_candidate(project: Project) -> Candidate:
    return Candidate(project.id, project.name, (project.permit_number,), project.permit_number)


async def enterprises(registry: Registry, who: Principal, projects: list[Project]) -> list[Candidate]:
    """The enterprises ``who`` may issue an order to or deduct from, by name. ``projects``: the
    account's projects (a district's enterprises include those working on them)."""
    every = await _every_enterprise(registry)
    if who.role is Role.DISTRICT:
        working = {party.enterprise_id for p in projects for party in await registry.parties(p.id)}
        every = [e for e in every if e.district == who.district or e.id in working]
    return sorted((enterprise_candidate(e) for e in every), key=_by_name)


def projects_of(projects: list[Project]) -> list[Candidate]:
    return sorted((project_candidate(p) for p in projects), key=_by_name)


async def leaders(
    registry: Registry, project_id: str, position: Callable[[str | None], str]
) -> list[Candidate]:
    """The managers ever assigned to ``project_id``, told apart by their position (in words,
    ``position``) and enterprise."""
    found: dict[str, Candidate] = {}
    cursor: str | None = None
    while True:
        page = await registry.assignments(project_id, cursor=cursor, limit=500)
        for a in page.items:
            if a.role == MANAGER and a.person_id not in found:
                person = await registry.person(a.person_id)
                employer = await registry.enterprise(a.enterprise_id)
                told = (position(person.position) if person.position else "", employer.name)
                detail = " · ".join(x for x in told if x)
                found[a.person_id] = Candidate(a.person_id, person.name, (), detail)
        if page.next_cursor is None:
            return sorted(found.values(), key=_by_name)
        cursor = page.next_cursor


def _by_name(candidate: Candidate) -> tuple[str, str]:
    return (candidate.name, candidate.key)
