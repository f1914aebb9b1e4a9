"""What the oversight reads hand back: frozen values, never rows (no ID numbers in any of them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from hub.derive.days import AttendanceDay


@dataclass(frozen=True, slots=True)
class Count:
    """One group of a headcount: an enterprise (``key`` its id, ``name`` its name) or a role."""

    key: str
    name: str | None
    on_site: int


@dataclass(frozen=True, slots=True)
class Headcount:
    project_id: str
    as_of: datetime
    on_site: int
    by_enterprise: tuple[Count, ...]
    by_role: tuple[Count, ...]


@dataclass(frozen=True, slots=True)
class ManagerDay:
    person_id: str
    name: str
    position: str | None
    enterprise_id: str
    enterprise_name: str
    first_in: datetime | None
    last_out: datetime | None
    seconds_on_site: int
    passages: int

    @property
    def present(self) -> bool:
        return self.passages > 0


@dataclass(frozen=True, slots=True)
class AttendanceFilters:
    """Days ``since`` to ``until``, both included; every other filter given must hold."""

    since: date
    until: date
    project_id: str | None = None
    person_id: str | None = None
    enterprise_id: str | None = None


@dataclass(frozen=True, slots=True)
class AttendanceRow:
    record: AttendanceDay
    name: str | None


@dataclass(frozen=True, slots=True)
class AttendancePage:
    items: list[AttendanceRow]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class MonthlyPerson:
    person_id: str
    name: str | None
    enterprise_id: str | None
    enterprise_name: str | None
    days_present: int
    seconds_on_site: int
    passages: int


@dataclass(frozen=True, slots=True)
class MonthlyReport:
    project_id: str
    month: date
    """The first day of the month."""
    persons: tuple[MonthlyPerson, ...]

    @property
    def person_days(self) -> int:
        return sum(p.days_present for p in self.persons)

    @property
    def seconds_on_site(self) -> int:
        return sum(p.seconds_on_site for p in self.persons)


@dataclass(frozen=True, slots=True)
class DistrictRegistration:
    """One district's registration figures (the notice's 报备 and 登记 statistics)."""

    district: str
    name: str
    projects_with_permit: int
    """Every project the hub knows: a project is entered with its construction permit."""
    projects_registered: int
    """Of those, projects whose real-name registration (报备) has started."""
    workers_registered: int
    managers_registered: int
    enterprises: int

    @property
    def persons_registered(self) -> int:
        return self.workers_registered + self.managers_registered
