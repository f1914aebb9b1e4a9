"""Where the roster compiler gets its facts: who is on a project, who is flagged, the project's
site rules (signed with its roster), which lanes.

The registry implements :class:`RosterSource` (:mod:`hub.rosters.registry_source`, what the hub
runs); :class:`MemorySource` stands in where a test or a bench wants rosters without a registry
behind them. ``devices`` is here because the registry is also what knows which lanes a project
has, and a roster goes only to those: a lane that claims another project gets nothing of it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from wire.roster import RosterRules

Entry = tuple[str, Mapping[str, Any]]
"""(credential hash, fields of a :class:`wire.roster.RosterItem` other than the hash)."""


class RosterSource(Protocol):
    async def entries(self, project_id: str) -> list[Entry]: ...

    async def watchlist(self, project_id: str) -> Collection[str]: ...

    async def rules(self, project_id: str) -> RosterRules | None:
        """The project's site rules; None when never set (its lanes keep their bootstrap policy)."""
        ...

    async def devices(self, project_id: str) -> Collection[str]: ...

    async def devices_of(self, project_ids: Sequence[str]) -> dict[str, Collection[str]]:
        """:meth:`devices` of many projects in one read (the lanes' reports answered in batches);
        a project without lanes may be absent."""
        ...


@dataclass(frozen=True, slots=True)
class Facts:
    """Everything a project's roster and its sending need, as one read gives it."""

    entries: list[Entry]
    watchlist: Collection[str]
    rules: RosterRules | None
    devices: Collection[str]


@runtime_checkable
class BulkRosterSource(RosterSource, Protocol):
    """A source that reads many projects' facts at once (a few queries for hundreds of projects,
    not five each): what the publisher's start-up uses when the source offers it."""

    async def facts(self, project_ids: Sequence[str]) -> dict[str, Facts]: ...


async def facts_of(source: RosterSource, project_ids: Sequence[str]) -> dict[str, Facts]:
    """Each project's facts: in bulk when the source can, else a project at a time."""
    if isinstance(source, BulkRosterSource):
        return await source.facts(project_ids)
    found = {}
    for project_id in project_ids:
        found[project_id] = Facts(
            await source.entries(project_id),
            await source.watchlist(project_id),
            await source.rules(project_id),
            await source.devices(project_id),
        )
    return found


class MemorySource:
    """A registry in dictionaries; what it returns are copies, as a database's rows would be."""

    def __init__(self) -> None:
        self._entries: dict[str, dict[str, dict[str, Any]]] = {}
        self._watchlist: dict[str, set[str]] = {}
        self._devices: dict[str, set[str]] = {}
        self._rules: dict[str, RosterRules] = {}

    def put(self, project_id: str, credential_hash: str, **fields: Any) -> None:
        self._entries.setdefault(project_id, {})[credential_hash] = dict(fields)

    def remove(self, project_id: str, credential_hash: str) -> None:
        self._entries.get(project_id, {}).pop(credential_hash, None)

    def flag(self, project_id: str, credential_hash: str) -> None:
        self._watchlist.setdefault(project_id, set()).add(credential_hash)

    def set_rules(self, project_id: str, rules: RosterRules) -> None:
        self._rules[project_id] = rules

    def assign(self, project_id: str, device_id: str) -> None:
        self._devices.setdefault(project_id, set()).add(device_id)

    async def entries(self, project_id: str) -> list[Entry]:
        return [(h, dict(fields)) for h, fields in self._entries.get(project_id, {}).items()]

    async def watchlist(self, project_id: str) -> Collection[str]:
        return frozenset(self._watchlist.get(project_id, ()))

    async def rules(self, project_id: str) -> RosterRules | None:
        return self._rules.get(project_id)

    async def devices(self, project_id: str) -> Collection[str]:
        return frozenset(self._devices.get(project_id, ()))

    async def devices_of(self, project_ids: Sequence[str]) -> dict[str, Collection[str]]:
        return {project_id: await self.devices(project_id) for project_id in project_ids}
