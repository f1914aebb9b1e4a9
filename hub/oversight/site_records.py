"""What the site's named reads hand back (:class:`hub.oversight.site_log.SiteLog`): people on site,
access-log rows and attendance rows with names, enterprise, team and gate instead of ids, and the
filters that narrow them. Frozen values, never rows.

An ID number in these is what the asking account may see of it: whole for the roles with the need
(:attr:`hub.auth.principal.Principal.sees_full_id_numbers`), masked for everyone else. The internal
person id rides along for keys and links only; no page or export shows it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Generic, TypeVar

from wire.models import Decision, Direction, Reason

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PersonFilter:
    """Narrows to people: ``name`` a part of the registered name, ``id_key`` the keyed blind index
    of an ID number (:meth:`hub.registry.vault.IdVault.blind_index`; never the number itself), an
    enterprise the person works for on the project. Each given must hold."""

    name: str | None = None
    id_key: str | None = None
    enterprise_id: str | None = None

    @property
    def empty(self) -> bool:
        return self.name is None and self.id_key is None and self.enterprise_id is None


NOBODY_IN_PARTICULAR = PersonFilter()


@dataclass(frozen=True, slots=True)
class OnSitePerson:
    person_id: str = field(repr=False)
    name: str
    id_number: str
    """Whole or masked, as the account may see it."""
    enterprise_id: str
    enterprise_name: str
    team_name: str | None
    role: str
    """wire.roles.RosterRole of the assignment."""
    since: datetime
    gate: str | None
    """The name of the gate the person came in through (None: a lane no longer placed)."""
    device_id: str
    id_key: str = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class GroupCount:
    """One group of the people on site: an enterprise or a team (``name`` None: no team)."""

    name: str | None
    on_site: int


@dataclass(frozen=True, slots=True)
class OnSite:
    project_id: str
    as_of: datetime
    people: tuple[OnSitePerson, ...]
    """Everybody on site (the headcount's rules), by enterprise, team and name."""
    by_enterprise: tuple[GroupCount, ...]
    by_team: tuple[GroupCount, ...]

    def narrowed(self, who: PersonFilter) -> tuple[OnSitePerson, ...]:
        """The people ``who`` names; the counts above stay those of the whole site."""
        return tuple(p for p in self.people if _matches(p, who))


def _matches(person: OnSitePerson, who: PersonFilter) -> bool:
    return (
        (who.name is None or who.name in person.name)
        and (who.id_key is None or who.id_key == person.id_key)
        and (who.enterprise_id is None or who.enterprise_id == person.enterprise_id)
    )


@dataclass(frozen=True, slots=True)
class Days:
    """Site-local days ``first`` to ``last``, both included."""

    first: date
    last: date


@dataclass(frozen=True, slots=True)
class LogFilters:
    project_id: str
    days: Days
    who: PersonFilter = NOBODY_IN_PARTICULAR
    direction: Direction | None = None
    decision: Decision | None = None
    reason: Reason | None = None


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One passage as a person reads it."""

    wall_time: datetime
    gate: str | None
    lane: str
    direction: str
    decision: str
    reason: str
    warnings: str
    person_id: str | None = field(repr=False)
    name: str | None
    """None: a card no registered person holds."""
    id_number: str | None
    enterprise_name: str | None
    team_name: str | None
    clock_suspect: bool
    flag: str | None
    cursor: str = field(repr=False, compare=False)

    @property
    def note(self) -> str | None:
        """What a reader must know of this row, as a code (hub.console.labels.RecordNote), None
        for a plain passage: ``clock_suspect`` first (it counts in no presence or attendance),
        else the hub's flag (``not_in_roster``: counted as any passage, and an alert)."""
        if self.clock_suspect:
            return "clock_suspect"
        return self.flag


@dataclass(frozen=True, slots=True)
class AttendanceEntry:
    day: date
    person_id: str = field(repr=False)
    name: str | None
    id_number: str | None
    enterprise_name: str | None
    team_name: str | None
    first_in: datetime | None
    last_out: datetime | None
    seconds_on_site: int
    passages: int
    cursor: str = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class MonthEntry:
    """One person's calendar month on the project."""

    month: date
    """Its first day."""
    person_id: str = field(repr=False)
    name: str | None
    id_number: str | None
    enterprise_name: str | None
    team_name: str | None
    days_present: int
    seconds_on_site: int
    passages: int


@dataclass(frozen=True, slots=True)
class AttendanceQuery:
    project_id: str
    days: Days
    who: PersonFilter = NOBODY_IN_PARTICULAR


@dataclass(frozen=True, slots=True)
class TwoWayPage(Generic[T]):
    """A page of a newest-first listing with both links: ``older`` continues after its last row,
    ``newer`` comes back before its first; None where there is nothing that way."""

    items: list[T]
    older: str | None
    newer: str | None


@dataclass(frozen=True, slots=True)
class EnterpriseChoice:
    """An enterprise of the project, for a picker by name."""

    id: str
    name: str
    role: str
    """Its party role on the project (hub.registry.models.PartyRole)."""
