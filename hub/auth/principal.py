"""Who is asking: the account behind a request, as every query and permission check sees it.

The notice's hierarchy (城市监督站 → 区建设局 → enterprises → project departments) becomes seven
roles. A project account belongs to one enterprise on one project; which part of that project it
sees depends on the enterprise's part in it (general contractor, subcontractor, supervision).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    CITY = "city"
    """The city supervision station: everything."""
    DISTRICT = "district"
    """A district bureau: the projects, enterprises and people of its district."""
    ENTERPRISE = "enterprise"
    """An enterprise (username = its enterprise number): its own staff and its projects."""
    GC_PROJECT = "gc_project"
    """The general contractor's project department: its whole project."""
    SUB_PROJECT = "sub_project"
    """A subcontractor's project department: its own people on that project."""
    SUPERVISION_PROJECT = "supervision_project"
    """The supervision firm's project department: reads its project's whole record, files inspections."""
    OPERATOR = "operator"
    """Runs the hub: device health, commands; no personal data."""


PROJECT_ROLES = frozenset({Role.GC_PROJECT, Role.SUB_PROJECT, Role.SUPERVISION_PROJECT})
WHOLE_PROJECT_ROLES = frozenset({Role.GC_PROJECT, Role.SUPERVISION_PROJECT})
FULL_ID_ROLES = frozenset({Role.CITY, Role.DISTRICT})
"""The registering authorities, who must read whole ID numbers; everyone else sees them masked."""


@dataclass(frozen=True, slots=True)
class Principal:
    account_id: int
    username: str
    role: Role
    district: str | None = None
    """For DISTRICT: the district it governs."""
    enterprise_id: str | None = None
    """For ENTERPRISE and the project roles: the enterprise the account belongs to."""
    project_id: str | None = None
    """For the project roles: the one project."""

    def __post_init__(self) -> None:
        needs = {
            "district": self.role is Role.DISTRICT,
            "enterprise_id": self.role is Role.ENTERPRISE or self.role in PROJECT_ROLES,
            "project_id": self.role in PROJECT_ROLES,
        }
        for field, needed in needs.items():
            if needed != (getattr(self, field) is not None):
                raise ValueError(f"a {self.role.value} account {'needs' if needed else 'has no'} {field}")

    @property
    def sees_personal_data(self) -> bool:
        return self.role is not Role.OPERATOR

    @property
    def sees_full_id_numbers(self) -> bool:
        return self.role in FULL_ID_ROLES

    def label(self) -> str:
        """How the account appears in journals and audit lines: its username, never a person's data."""
        return self.username
