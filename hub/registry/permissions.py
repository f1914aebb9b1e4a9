"""Who may make which change: the notice's division of work, as pure checks on a Principal.

The role sets live in :mod:`hub.auth.permissions` (re-exported here for the registry's
``may.READERS`` and the like): the route table answers 403 with them before a handler reads a
body, and the registry checks them again here with the facts it reads in the write's transaction
(the project's district, the assignment's enterprise), so a caller from Python is held to the
same rules as one over HTTP.

What an account may *see* is not here: that is SQL, in :mod:`hub.auth.scope`.
"""

from __future__ import annotations

from hub.auth.permissions import (
    ADD_PARTY,
    ASSIGN,
    CREATE_DISTRICT,
    CREATE_ENTERPRISE,
    CREATE_PROJECT,
    FILE_INSPECTION,
    LOOKUP_PERSON,
    PLACE_GATE,
    READ_GATES,
    READ_INSPECTIONS,
    READERS,
    REGISTER_PERSON,
    REGISTER_PROJECT,
    TEAMS,
    WATCHLIST,
)
from hub.auth.principal import Principal, Role
from hub.refusals import Forbidden

__all__ = [
    "ADD_PARTY",
    "ASSIGN",
    "CREATE_DISTRICT",
    "CREATE_ENTERPRISE",
    "CREATE_PROJECT",
    "FILE_INSPECTION",
    "LOOKUP_PERSON",
    "PLACE_GATE",
    "READERS",
    "READ_GATES",
    "READ_INSPECTIONS",
    "REGISTER_PERSON",
    "REGISTER_PROJECT",
    "TEAMS",
    "WATCHLIST",
    "check_district",
    "check_own_enterprise",
    "check_own_project",
    "check_role",
]


def check_role(principal: Principal, allowed: frozenset[Role]) -> None:
    if principal.role not in allowed:
        names = ", ".join(sorted(role.value for role in allowed))
        raise Forbidden(f"a {principal.role.value} account may not do this (allowed: {names})")


def check_district(principal: Principal, district: str, what: str) -> None:
    """A bureau acts within its own district only."""
    if principal.role is Role.DISTRICT and principal.district != district:
        raise Forbidden(f"district {principal.district} may not {what} in district {district}")


def check_own_project(principal: Principal, project_id: str, what: str) -> None:
    """A project department acts on its own project only."""
    if principal.project_id is not None and principal.project_id != project_id:
        raise Forbidden(
            f"the account of project {principal.project_id} may not {what} on project {project_id}"
        )


def check_own_enterprise(principal: Principal, enterprise_id: str | None, what: str) -> None:
    """An enterprise account, or a subcontractor's department, acts for its own enterprise only."""
    if principal.role in (Role.ENTERPRISE, Role.SUB_PROJECT) and principal.enterprise_id != enterprise_id:
        raise Forbidden(
            f"the account of enterprise {principal.enterprise_id} may not {what} "
            f"for enterprise {enterprise_id}"
        )
