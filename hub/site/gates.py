"""Which lanes form a site: the registry's gate placements, read in one query and kept briefly.

The hub decides a passage's site from its own registry (invariant 9): the gate the recording
device is placed at names the project, and the project's other gates name the lanes to relay it
to. The payload's ``project_id`` is never consulted. The whole ``gates`` table is small (a few
rows per site), so it is read whole, at most once per ``ttl_s`` and again at once after a registry
change touches a project (the registry's change listener), never once per event.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from sqlalchemy import select

from hub.events.attribution import OFFICE_READER
from hub.store import Store
from hub.store.schema import devices, gates
from wire.models import Direction

GATES_TTL_S = 10.0


@dataclass(frozen=True, slots=True)
class Placement:
    device_id: str
    project_id: str
    direction: str
    """in | out | both, as the registry placed the lane."""

    def allows(self, direction: Direction) -> bool:
        """Whether the lane may record a passage this way (a ``both`` lane either way)."""
        return self.direction in ("both", direction.value)


@dataclass(frozen=True, slots=True)
class Sites:
    placements: Mapping[str, Placement] = field(default_factory=dict)
    lanes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Each project's placed devices, sorted."""

    def placement(self, device_id: str) -> Placement | None:
        return self.placements.get(device_id)

    def siblings(self, device_id: str) -> tuple[str, ...]:
        """The other lanes of the device's site; () for a device placed nowhere."""
        placed = self.placements.get(device_id)
        if placed is None:
            return ()
        return tuple(d for d in self.lanes.get(placed.project_id, ()) if d != device_id)


class SiteMap:
    def __init__(
        self, store: Store, *, ttl_s: float = GATES_TTL_S, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._store = store
        self._ttl_s = ttl_s
        self._monotonic = monotonic
        self._sites: Sites | None = None
        self._read_at = 0.0
        self._changes = 0
        self._lock = asyncio.Lock()

    def invalidate(self, project_id: str | None = None) -> None:
        """The registry changed (``project_id``'s gates may have): read again before the next use."""
        self._sites = None
        self._changes += 1

    async def __call__(self, project_id: str) -> None:
        """As the registry's change listener."""
        self.invalidate(project_id)

    async def current(self) -> Sites:
        """The placements, read again if older than ``ttl_s`` or invalidated; StoreError if the
        database cannot be read and nothing usable is held."""
        sites = self._sites
        if sites is not None and self._monotonic() - self._read_at < self._ttl_s:
            return sites
        async with self._lock:
            sites = self._sites
            if sites is not None and self._monotonic() - self._read_at < self._ttl_s:
                return sites
            started, changes = self._monotonic(), self._changes
            g, d = gates.c, devices.c
            # A revoked lane is no one's sibling: it is sent no sync, and its silence (the hub
            # refuses what it sends) must not soften its siblings' anti-passback. Nor is the site
            # office's card reader, which passes nobody (switched off at night, it must not
            # soften the turnstiles' anti-passback either).
            query = (
                select(g.device_id, g.project_id, g.direction)
                .select_from(gates.outerjoin(devices, d.device_id == g.device_id))
                .where(d.revoked_at.is_(None), g.kind != OFFICE_READER)
            )
            async with self._store.read("site placements") as conn:
                rows = (await conn.execute(query)).all()
            placements = {str(d): Placement(str(d), str(p), str(direction)) for d, p, direction in rows}
            lanes: dict[str, list[str]] = {}
            for placed in placements.values():
                lanes.setdefault(placed.project_id, []).append(placed.device_id)
            sites = Sites(
                MappingProxyType(placements),
                MappingProxyType({project: tuple(sorted(devices)) for project, devices in lanes.items()}),
            )
            if changes == self._changes:  # else a change came in mid-read: use this once, read again next
                self._sites, self._read_at = sites, started
            return sites
