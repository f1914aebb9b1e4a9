"""The lanes one account may see: their health and their command logs.

The scope is chosen here from the principal (:func:`hub.auth.scope.device_clause`): the hub
operator and the city station see every lane the hub has heard from, every other role the lanes
at the gates of the projects it sees. A lane outside the account's view is "not found" exactly
like one that never connected, so the answer says nothing about devices elsewhere.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, select

from hub.auth.principal import Principal
from hub.auth.scope import device_clause
from hub.devices import command_log
from hub.devices.records import CommandRecord, DeviceStatus, LaneGate
from hub.errors import NotFound
from hub.store import Store
from hub.store.schema import devices, gates, roster_status, roster_versions


class Devices:
    """The lanes ``principal`` sees; every method is one read and returns frozen values."""

    def __init__(self, store: Store, principal: Principal) -> None:
        self._store = store
        self._principal = principal

    def _scope(self) -> ColumnElement[bool]:
        return device_clause(self._principal, devices.c.device_id)

    async def statuses(self) -> list[DeviceStatus]:
        """Every visible lane's last heartbeat, presence and roster report, by device id."""
        return await statuses(self._store, self._scope())

    async def require_visible(self, device_id: str) -> None:
        """NotFound unless the device has connected *and* the account sees it: the same answer
        for both, so an account learns nothing about devices outside its scope."""
        query = select(devices.c.device_id).where(devices.c.device_id == device_id, self._scope())
        async with self._store.read("device visible") as conn:
            found = (await conn.execute(query)).first()
        if found is None:
            raise NotFound(
                f"device {device_id} not found (never connected, or not among this account's lanes)"
            )

    async def gate_of(self, device_id: str) -> LaneGate | None:
        """The gate the lane stands at; None when it stands at none, or the account does not see
        it (the same answer, as for :meth:`require_visible`)."""
        g = gates.c
        query = select(g.device_id, g.project_id, g.name, g.lane, g.kind, g.direction).where(
            g.device_id == device_id, device_clause(self._principal, g.device_id)
        )
        async with self._store.read("gate of a lane") as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else LaneGate(**row._mapping)

    async def commands(self, device_id: str, limit: int = 50) -> list[CommandRecord]:
        """The lane's commands, newest first; NotFound as :meth:`require_visible`."""
        await self.require_visible(device_id)
        async with self._store.read("commands_for") as conn:
            return await command_log.for_device(conn, device_id, limit)


def status_query(scope: ColumnElement[bool]) -> Select[Any]:
    """Each device with its roster report and its project's newest roster version (the lag)."""
    t, s, v = devices.c, roster_status.c, roster_versions.c
    return (
        select(
            devices,
            s.applied_version.label("roster_applied"),
            v.version.label("roster_current"),
            s.problem.label("roster_problem"),
        )
        .select_from(
            devices.outerjoin(roster_status, s.device_id == t.device_id).outerjoin(
                roster_versions, v.project_id == s.project_id
            )
        )
        .where(scope)
        .order_by(t.device_id)
    )


async def statuses(store: Store, scope: ColumnElement[bool]) -> list[DeviceStatus]:
    async with store.read("devices") as conn:
        rows = (await conn.execute(status_query(scope))).all()
    return [DeviceStatus(**row._mapping) for row in rows]
