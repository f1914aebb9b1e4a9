"""Unscoped reads about devices: for internal jobs, enrolment by token (the token, not an
account, is the authority) and tests that check what was stored. A handler that serves an
account never uses this module: it reads through :class:`hub.devices.devices.Devices`.
"""

from __future__ import annotations

from sqlalchemy import select, true

from hub.devices import devices
from hub.devices.records import DeviceStatus
from hub.store import Store
from hub.store.schema import projects


class InternalDeviceReads:
    """Every device the hub has heard from, whoever asks: the hub reading its own record."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def statuses(self) -> list[DeviceStatus]:
        return await devices.statuses(self._store, true())

    async def sealed_site_key(self, project_id: str) -> bytes | None:
        """The project's site key as the registry keeps it (sealed), or None if the project is gone."""
        query = select(projects.c.site_key_cipher).where(projects.c.id == project_id)
        async with self._store.read("site key for an enrolment") as conn:
            sealed: bytes | None = (await conn.execute(query)).scalar_one_or_none()
        return sealed
