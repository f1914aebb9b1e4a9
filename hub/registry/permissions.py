"""Who may make which change: the notice's division of work, as pure checks on a Principal.

The role sets are used twice: the API answers 403 with them before reading a body
(:func:`hub.api.principal.require`), and the registry checks them again with the facts it reads
in the write's transaction (the project's district, the assignment's enterprise), so a caller
from Python is held to the same rules as one over HTTP.

What an account may *see* is not here: that is SQL, in :mod:`hub.auth.scope`.
"""

from __future__ import annotations

from typing import Final

from hub.auth.principal import Principal, Role
from hub.registry.errors import Forbidden

READERS: Final = frozenset(Role) - {Role.OPERATOR}
"""Every role that sees personal data reads the registry (each through its scope)."""
CREATE_DISTRICT: Final = frozenset({Role.CITY})
CREATE_ENTERPRISE: Final = frozenset({Role.CITY, Role.DISTRICT})
REGISTER_PERSON: Final = frozenset({Role.CITY, Role.DISTRICT, Role.ENTERPRISE})
"""Workers (作业人员备案) by a bureau or the city; managers also by their own enterprise."""
LOOKUP_PERSON: Final = frozenset(
    {Role.CITY, Role.DISTRICT, Role.ENTERPRISE, Role.GC_PROJECT, Role.SUB_PROJECT}
)
"""Those who register or assign people find an already registered one by ID number."""
WATCHLIST: Final = frozenset({Role.CITY, Role.DISTRICT})
CREATE_PROJECT: Final = frozenset({Role.CITY, Role.DISTRICT})
REGISTER_PROJECT: Final = frozenset({Role.ENTERPRISE})
"""报备: the general contractor, logged in with its enterprise number."""
ADD_PARTY: Final = frozenset({Role.GC_PROJECT})
ASSIGN: Final = frozenset({Role.GC_PROJECT, Role.SUB_PROJECT, Role.ENTERPRISE})
PLACE_GATE: Final = frozenset({Role.CITY, Role.DISTRICT, Role.GC_PROJECT, Role.OPERATOR})
READ_GATES: Final = frozenset(Role)
"""Gates are devices: the operator sees them too (but not the people behind them)."""
FILE_INSPECTION: Final = frozenset({Role.SUPERVISION_PROJECT})
READ_INSPECTIONS: Final = frozenset({Role.CITY, Role.DISTRICT, Role.GC_PROJECT, Role.SUPERVISION_PROJECT})


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
