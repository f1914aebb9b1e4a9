"""A lane's heartbeat history (hub.store.heartbeats keeps one row a minute), for its chart."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.auth.principal import Principal
from hub.auth.scope import device_clause
from hub.registry.errors import Missing
from hub.store.schema import devices, heartbeat_history
from hub.workflows.records import HeartbeatPoint


async def history(
    conn: AsyncConnection, principal: Principal, device_id: str, *, since: datetime
) -> list[HeartbeatPoint]:
    """Oldest first; 404 for a device the account does not see, exactly as for one that does not exist."""
    d = devices.c
    known = await conn.scalar(
        select(d.device_id).where(d.device_id == device_id, device_clause(principal, d.device_id))
    )
    if known is None:
        raise Missing("device", device_id)
    h = heartbeat_history.c
    rows = await conn.execute(
        select(heartbeat_history).where(h.device_id == device_id, h.minute >= since).order_by(h.minute)
    )
    return [
        HeartbeatPoint(**{k: v for k, v in row._mapping.items() if k not in ("device_id", "received_at")})
        for row in rows
    ]


MAX_HOURS = 7 * 24
DEFAULT_WINDOW = timedelta(hours=24)
