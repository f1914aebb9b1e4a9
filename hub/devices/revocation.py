"""The hub's own record of revocation (``devices.revoked_at``), which the ingest obeys itself.

The broker's CRL and ACL keep a revoked lane out too, but the hub does not rely on them being
told (issue 13: a revocation "answered 200 and did nothing" while the broker knew nothing of it):
the ingest refuses whatever arrives from a device revoked here, and the roster publisher sends it
nothing. Each write runs inside the caller's transaction, beside the action's audit line.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.refusals import Conflict
from hub.store.bulk import PerDialect, among
from hub.store.dialect import insert_for
from hub.store.schema import devices


class DeviceRevoked(Conflict):
    """The hub sends a revoked device nothing (a command, say) until it enrols again."""

    code = "device_revoked"

    def __init__(self, device_id: str) -> None:
        self.device_id = device_id
        super().__init__(f"设备已吊销，不再向其发送指令 (device {device_id} is revoked: no command is sent)")


async def mark_revoked(conn: AsyncConnection, device_id: str, at: datetime) -> None:
    """The device revoked from ``at`` on (its row made if the hub never heard from it); a
    second revocation keeps the first one's time."""
    insert = insert_for(conn.dialect.name)(devices).values(device_id=device_id, revoked_at=at)
    kept = func.coalesce(devices.c.revoked_at, insert.excluded.revoked_at)
    await conn.execute(insert.on_conflict_do_update(index_elements=["device_id"], set_={"revoked_at": kept}))


async def mark_enrolled(conn: AsyncConnection, device_id: str, at: datetime) -> None:
    """A new enrolment lifts the device's revocation; ``enrolled_at`` keeps the first enrolment's
    time (what a lane's oldest events are measured against)."""
    insert = insert_for(conn.dialect.name)(devices).values(device_id=device_id, enrolled_at=at)
    first = func.coalesce(devices.c.enrolled_at, insert.excluded.enrolled_at)
    await conn.execute(
        insert.on_conflict_do_update(
            index_elements=["device_id"], set_={"enrolled_at": first, "revoked_at": None}
        )
    )


def _revoked_query(dialect_name: str) -> Select[Any]:
    d = devices.c
    return select(d.device_id).where(among(d.device_id, "ids", dialect_name), d.revoked_at.is_not(None))


_REVOKED = PerDialect(_revoked_query)


async def revoked_among(conn: AsyncConnection, device_ids: Collection[str]) -> set[str]:
    """The revoked devices among ``device_ids``: one query, whatever their number (built once,
    :class:`~hub.store.bulk.PerDialect`: the ingest asks at every batch)."""
    if not device_ids:
        return set()
    return set((await conn.scalars(_REVOKED(conn), {"ids": sorted(device_ids)})).all())
