"""The roster as the core sees it: an immutable index from credential hash to a person's pass.

The storage adapter builds a :class:`Roster` once per version and swaps it whole, so a decision
never sees half of one roster and half of the next. The watchlist travels with it: a set of
credential hashes the hub has flagged, checked before anything else.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from types import MappingProxyType


class Role(StrEnum):
    WORKER = "worker"
    MANAGER = "manager"
    SUPERVISOR = "supervisor"
    VISITOR = "visitor"


@dataclass(frozen=True, slots=True)
class RosterEntry:
    """One person's assignment to this lane's project (进场 ``entry_date`` to 退场 ``exit_date``).

    A visitor's temporary pass has its own window (``pass_from`` to ``pass_until``, aware
    datetimes) instead of the role's working hours.
    """

    person_id: str
    role: Role
    entry_date: date | None = None
    exit_date: date | None = None
    pass_from: datetime | None = None
    pass_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class Roster:
    version: int
    project_id: str
    entries: Mapping[str, RosterEntry] = field(default_factory=dict)
    watchlist: frozenset[str] = frozenset()

    @classmethod
    def build(
        cls,
        version: int,
        project_id: str,
        items: Iterable[tuple[str, RosterEntry]],
        watchlist: Iterable[str] = (),
    ) -> Roster:
        index: dict[str, RosterEntry] = {}
        for credential_hash, entry in items:
            if credential_hash in index:
                raise ValueError(f"roster v{version} lists credential hash {credential_hash[:12]}… twice")
            index[credential_hash] = entry
        return cls(version, project_id, MappingProxyType(index), frozenset(watchlist))

    def lookup(self, credential_hash: str) -> RosterEntry | None:
        return self.entries.get(credential_hash)

    def watchlisted(self, credential_hash: str) -> bool:
        return credential_hash in self.watchlist

    def __len__(self) -> int:
        return len(self.entries)


EMPTY_ROSTER = Roster(0, "", MappingProxyType({}))
