"""The lanes' heartbeat history: one row per device per minute, written beside ``devices``'s last
heartbeat in the same transaction and pruned as it is written, for the console's health charts.

Bounded whatever a lane's heartbeat interval: a lane beating every 5 s still leaves one row a
minute (the minute's latest beat wins), and rows older than :data:`KEEP` go when the device next
beats, so a device keeps at most ``KEEP`` minutes. Only figures, never payload text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.store.schema import heartbeat_history
from wire.models import Heartbeat, ReaderState

KEEP = timedelta(days=7)
"""How far back the chart of a device goes."""


def row(heartbeat: Heartbeat, received_at: datetime) -> dict[str, Any]:
    return {
        "device_id": heartbeat.device_id,
        "minute": received_at.replace(second=0, microsecond=0),
        "received_at": received_at,
        "journal_backlog": heartbeat.journal_backlog,
        "roster_version": heartbeat.roster_version,
        "clock_synced": heartbeat.clock_synced,
        "clock_skew_s": (received_at - heartbeat.sent_at).total_seconds(),
        "readers_ok": all(state is ReaderState.OK for state in heartbeat.reader_status.values()),
        "cpu_temp_c": heartbeat.cpu_temp_c,
        "free_disk_mb": heartbeat.free_disk_mb,
    }


async def record(
    conn: AsyncConnection, insert_for: Callable[[Any], Any], heartbeat: Heartbeat, received_at: datetime
) -> None:
    """Upsert this minute's row and drop the device's rows older than :data:`KEEP`."""
    values = row(heartbeat, received_at)
    changing = {k: v for k, v in values.items() if k not in ("device_id", "minute")}
    insert = insert_for(heartbeat_history).values(**values)
    await conn.execute(insert.on_conflict_do_update(index_elements=["device_id", "minute"], set_=changing))
    t = heartbeat_history.c
    stale = t.minute < received_at - KEEP
    await conn.execute(delete(heartbeat_history).where(t.device_id == heartbeat.device_id, stale))


async def record_many(
    conn: AsyncConnection, insert_for: Callable[[Any], Any], beats: Sequence[Heartbeat], received_at: datetime
) -> None:
    """:func:`record` for heartbeats of distinct devices, in two statements (issue 16)."""
    rows = [row(heartbeat, received_at) for heartbeat in beats]
    # The rows as parameters, not in the statement: built with .values(rows) it was compiled again
    # at every batch (see hub.store.store.Store.record_statuses).
    insert = insert_for(heartbeat_history)
    changing = {k: insert.excluded[k] for k in rows[0] if k not in ("device_id", "minute")}
    upsert = insert.on_conflict_do_update(index_elements=["device_id", "minute"], set_=changing)
    await conn.execute(upsert, rows)
    t = heartbeat_history.c
    devices = [heartbeat.device_id for heartbeat in beats]
    await conn.execute(
        delete(heartbeat_history).where(t.device_id.in_(devices), t.minute < received_at - KEEP)
    )
