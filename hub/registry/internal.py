"""The registry read by the hub itself, for no account: unscoped, and named so.

Only internal jobs use this (the roster compiler's source, :mod:`hub.rosters.registry_source`;
tools that act on an account's behalf); a handler never does. Reads on behalf of an account go
through :class:`hub.registry.Registry`, built with that account.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Select, or_, select

from hub.auth.principal import Principal, Role
from hub.refusals import Missing
from hub.store import Store
from hub.store.schema import accounts, assignments, devices, gates, persons


class InternalRegistryReads:
    """Every project's roster facts, whoever asks (the hub's own jobs only)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def roster_assignments(self, project_id: str, *, ended_since: date) -> list[Any]:
        """The project's assignments not ended before ``ended_since``: credential hash, person,
        role, dates and pass window, as rows."""
        a = assignments.c
        columns = (
            a.credential_hash,
            a.person_id,
            a.role,
            a.entry_date,
            a.exit_date,
            a.pass_from,
            a.pass_until,
        )
        query = select(*columns).where(
            a.project_id == project_id, or_(a.exit_date.is_(None), a.exit_date >= ended_since)
        )
        async with self._store.read("roster entries") as conn:
            return list((await conn.execute(query)).all())

    async def watchlisted_hashes(self, project_id: str) -> Collection[str]:
        """Credential hashes of watchlisted people with an assignment on the project."""
        a, p = assignments.c, persons.c
        query = (
            select(a.credential_hash)
            .select_from(assignments.join(persons, p.id == a.person_id))
            .where(a.project_id == project_id, p.watchlisted.is_(True))
            .distinct()
        )
        async with self._store.read("roster watchlist") as conn:
            return frozenset((await conn.execute(query)).scalars())

    async def devices_of(self, project_id: str) -> Collection[str]:
        """The project's lanes the hub sends rosters to (:func:`roster_lanes_query`)."""
        return (await self.lanes_of([project_id])).get(project_id, frozenset())

    async def lanes_of(self, project_ids: Sequence[str]) -> dict[str, Collection[str]]:
        """:meth:`devices_of` of many projects in one read (a project without lanes is absent)."""
        lanes: dict[str, set[str]] = {}
        async with self._store.read("roster devices") as conn:
            for project_id, device_id in await conn.execute(roster_lanes_query(project_ids)):
                lanes.setdefault(project_id, set()).add(device_id)
        return {project_id: frozenset(found) for project_id, found in lanes.items()}

    async def projects_with_lanes(self) -> list[str]:
        query = select(gates.c.project_id).distinct().order_by(gates.c.project_id)
        async with self._store.read("projects with lanes") as conn:
            return list((await conn.execute(query)).scalars())

    async def account_principal(self, username: str) -> Principal:
        """What a login as ``username`` would produce, without the password (tools, seeds)."""
        async with self._store.read("registry.account_principal") as conn:
            row = (await conn.execute(select(accounts).where(accounts.c.username == username))).first()
        if row is None:
            raise Missing("account", username)
        return Principal(
            row.id, row.username, Role(row.role), row.district, row.enterprise_id, row.project_id
        )


def roster_lanes_query(project_ids: Sequence[str]) -> Select[str, str]:
    """(project, device) of the projects' lanes the hub sends rosters to: placed, and not revoked."""
    g, d = gates.c, devices.c
    return (
        select(g.project_id, g.device_id)
        .select_from(gates.outerjoin(devices, d.device_id == g.device_id))
        .where(g.project_id.in_(list(project_ids)), d.revoked_at.is_(None))
    )
