"""The registry as a :class:`~hub.rosters.source.RosterSource`: a project's roster is a read of
its assignments, already hashed under the project's site key when they were made.

Which assignments make the roster: every one not ended more than ``ENDED_KEPT_DAYS`` ago. Future
ones are included so a lane can say "not started yet" instead of "not registered", and recently
ended ones so it can say "assignment ended" (the reasons a site manager acts on differently). A
person with several assignments on one project (left, came back) has one entry: the one in force
today, else the next to start, else the latest to end. A visitor's entry carries the pass window
(``pass_from``/``pass_until``) its assignment was made with; other entries have none.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select

from hub.registry.internal import InternalRegistryReads, roster_lanes_query
from hub.rosters.source import Entry, Facts
from hub.site_rules.rules import roster_rules, roster_rules_of
from hub.store import Store
from hub.store.schema import assignments, persons
from wire.clock import SITE_ZONE, SystemClock
from wire.roster import RosterRules

ENDED_KEPT_DAYS = 30


def _today(clock: Callable[[], datetime]) -> date:
    return clock().astimezone(SITE_ZONE).date()


def _rank(entry_date: date, exit_date: date | None, today: date) -> tuple[int, int]:
    """Smaller is preferred: in force today (0), then upcoming (1, soonest first), then ended
    (2, latest exit first)."""
    if entry_date <= today and (exit_date is None or exit_date >= today):
        return (0, 0)
    if entry_date > today:
        return (1, (entry_date - today).days)
    return (2, (today - (exit_date or today)).days)


class RegistrySource:
    def __init__(self, store: Store, *, clock: Callable[[], datetime] | None = None) -> None:
        """``clock``: a wall-clock reading (the app's ``clock.wall``; the system's when not given)
        that decides which assignment is in force today."""
        self._registry = InternalRegistryReads(store)  # unscoped: the hub compiles every site's roster
        self._store = store
        self._clock = clock or SystemClock().wall

    async def entries(self, project_id: str) -> list[Entry]:
        today = _today(self._clock)
        rows = await self._registry.roster_assignments(
            project_id, ended_since=today - timedelta(days=ENDED_KEPT_DAYS)
        )
        return _chosen(rows, today)

    async def watchlist(self, project_id: str) -> Collection[str]:
        """Credential hashes of watchlisted people with an assignment on the project (a lane then
        denies them with ``watchlisted`` and raises an alert, whatever their assignment says)."""
        return await self._registry.watchlisted_hashes(project_id)

    async def rules(self, project_id: str) -> RosterRules | None:
        """The project's site rules (:mod:`hub.site_rules`), signed with its roster; None: never set."""
        return await roster_rules(self._store, project_id)

    async def devices(self, project_id: str) -> Collection[str]:
        return await self._registry.devices_of(project_id)

    async def devices_of(self, project_ids: Sequence[str]) -> dict[str, Collection[str]]:
        return await self._registry.lanes_of(project_ids)

    async def projects_with_lanes(self) -> list[str]:
        return await self._registry.projects_with_lanes()

    async def facts(self, project_ids: Sequence[str]) -> dict[str, Facts]:
        """Every fact of :meth:`entries`, :meth:`watchlist`, :meth:`rules` and :meth:`devices` of
        the projects, in four reads whatever their number (the compiler's start-up: 4,000
        projects a project at a time took ~7 round trips each)."""
        today = _today(self._clock)
        a, p = assignments.c, persons.c
        ended_since = today - timedelta(days=ENDED_KEPT_DAYS)
        wanted = list(project_ids)
        in_force = or_(a.exit_date.is_(None), a.exit_date >= ended_since)
        rows_query = select(assignments).where(a.project_id.in_(wanted), in_force)
        flagged_query = (
            select(a.project_id, a.credential_hash)
            .select_from(assignments.join(persons, p.id == a.person_id))
            .where(a.project_id.in_(wanted), p.watchlisted.is_(True))
            .distinct()
        )
        lanes_query = roster_lanes_query(wanted)
        by_project: dict[str, list[Any]] = {project_id: [] for project_id in wanted}
        flagged: dict[str, set[str]] = {project_id: set() for project_id in wanted}
        lanes: dict[str, set[str]] = {project_id: set() for project_id in wanted}
        async with self._store.read("roster facts") as conn:
            for row in await conn.execute(rows_query):
                by_project[row.project_id].append(row)
            for project_id, credential_hash in await conn.execute(flagged_query):
                flagged[project_id].add(credential_hash)
            for project_id, device_id in await conn.execute(lanes_query):
                lanes[project_id].add(device_id)
        rules = await roster_rules_of(self._store, wanted)
        return {
            project_id: Facts(
                _chosen(by_project[project_id], today),
                frozenset(flagged[project_id]),
                rules.get(project_id),
                frozenset(lanes[project_id]),
            )
            for project_id in wanted
        }


def _chosen(rows: Iterable[Any], today: date) -> list[Entry]:
    """One entry per person: the assignment in force today, else the next, else the latest ended."""
    chosen: dict[str, tuple[tuple[int, int], dict[str, Any]]] = {}
    for row in rows:
        rank = _rank(row.entry_date, row.exit_date, today)
        held = chosen.get(row.credential_hash)
        if held is None or rank < held[0]:
            fields = {
                "person_id": row.person_id,
                "role": row.role,
                "entry_date": row.entry_date,
                "exit_date": row.exit_date,
            }
            if row.pass_from is not None or row.pass_until is not None:  # a visitor's pass
                fields |= {"pass_from": row.pass_from, "pass_until": row.pass_until}
            chosen[row.credential_hash] = (rank, fields)
    return [(credential_hash, fields) for credential_hash, (_, fields) in chosen.items()]
