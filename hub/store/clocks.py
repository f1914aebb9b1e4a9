"""Keeping each lane boot's time line (:mod:`hub.store.timeline`) between batches, in the caller's
write transaction: one read and one upsert per batch, whatever its size.

Called under the batch's device locks (:func:`hub.store.sequences.lock_all`), so two hub instances
never extend one boot's line at the same time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.store.dialect import insert_for
from hub.store.records import JournalRecord
from hub.store.schema import device_clocks
from hub.store.timeline import BootLine, Reading, corrected_times

Boot = tuple[str, str]
"""(device_id, boot_id)"""
Key = tuple[str, int]
"""(device_id, seq)"""

_LINE = ("anchor_seq", "anchor_wall", "anchor_mono_ns")


async def correct(conn: AsyncConnection, records: Sequence[JournalRecord]) -> dict[Key, datetime]:
    """The corrected time of every record (either kind: lane events move the line too), by key."""
    by_boot: dict[Boot, list[Reading]] = {}
    for r in records:
        reading = Reading(r.seq, r.mono_ns, r.wall_time, r.clock_synced and not r.clock_stepped)
        by_boot.setdefault((r.device_id, r.boot_id), []).append(reading)
    if not by_boot:
        return {}
    c = device_clocks.c
    wanted = or_(*(and_(c.device_id == d, c.boot_id == b) for d, b in sorted(by_boot)))
    stored = {
        (row.device_id, row.boot_id): BootLine(*(getattr(row, name) for name in _LINE))
        for row in await conn.execute(select(device_clocks).where(wanted))
    }
    times: dict[Key, datetime] = {}
    rows = []
    for (device_id, boot_id), readings in sorted(by_boot.items()):
        line, at = corrected_times(stored.get((device_id, boot_id), BootLine()), readings)
        times.update(((device_id, seq), when) for seq, when in at.items())
        rows.append({"device_id": device_id, "boot_id": boot_id, **{n: getattr(line, n) for n in _LINE}})
    insert = insert_for(conn.dialect.name)(device_clocks)
    upsert = insert.on_conflict_do_update(
        index_elements=["device_id", "boot_id"], set_={n: insert.excluded[n] for n in _LINE}
    )
    await conn.execute(upsert, rows)
    return times
