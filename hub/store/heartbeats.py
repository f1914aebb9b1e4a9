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

from sqlalchemy import Delete, Insert, bindparam, delete
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.store.bulk import BulkStatement, PerDialect, among
from hub.store.dialect import insert_for as dialect_insert_for
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
    """:func:`record` for heartbeats of distinct devices, in two statements (issue 16), each built
    once per dialect (the ingest runs them at every batch of heartbeats): the upsert's rows go to
    the driver's executemany (:class:`~hub.store.bulk.BulkStatement`), the prune takes the devices
    as one list parameter. ``insert_for`` is :func:`record`'s; the statements here pick their
    dialect's own."""
    if not beats:
        return
    await _UPSERT.execute(conn, [row(heartbeat, received_at) for heartbeat in beats])
    devices = [heartbeat.device_id for heartbeat in beats]
    await conn.execute(_PRUNE(conn), {"devices": devices, "before": received_at - KEEP})


_COLUMNS = tuple(column.name for column in heartbeat_history.c)
_KEY = ("device_id", "minute")


def _upsert(dialect_name: str) -> Insert:
    insert = dialect_insert_for(dialect_name)(heartbeat_history).values(
        {name: bindparam(name) for name in _COLUMNS}
    )
    changing = {name: insert.excluded[name] for name in _COLUMNS if name not in _KEY}
    return insert.on_conflict_do_update(index_elements=list(_KEY), set_=changing)


def _prune(dialect_name: str) -> Delete:
    t = heartbeat_history.c
    return delete(heartbeat_history).where(
        among(t.device_id, "devices", dialect_name), t.minute < bindparam("before", type_=t.minute.type)
    )


_UPSERT = BulkStatement(_upsert)
_PRUNE = PerDialect(_prune)
