"""A lane's heartbeat history (hub.store.heartbeats keeps one row a minute), for its chart."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from hub.auth.principal import Principal
from hub.auth.scope import device_clause
from hub.refusals import Missing
from hub.store import Store
from hub.store.schema import devices, heartbeat_history
from hub.workflows.records import HeartbeatPoint

MAX_HOURS = 7 * 24
DEFAULT_WINDOW = timedelta(hours=24)


class Heartbeats:
    """The lanes' heartbeat history as ``principal`` may see it (:func:`device_clause`)."""

    def __init__(self, store: Store, principal: Principal) -> None:
        self._store = store
        self._principal = principal

    async def history(self, device_id: str, *, since: datetime) -> list[HeartbeatPoint]:
        """Oldest first; 404 for a device the account does not see, exactly as for one that does
        not exist."""
        d, h = devices.c, heartbeat_history.c
        scope = device_clause(self._principal, d.device_id)
        visible = select(d.device_id).where(d.device_id == device_id, scope)
        points = select(heartbeat_history).where(h.device_id == device_id, h.minute >= since)
        async with self._store.read("heartbeat_history") as conn:
            if await conn.scalar(visible) is None:
                raise Missing("device", device_id)
            rows = (await conn.execute(points.order_by(h.minute))).all()
        return [
            HeartbeatPoint(**{k: v for k, v in row._mapping.items() if k not in ("device_id", "received_at")})
            for row in rows
        ]
