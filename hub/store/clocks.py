"""Keeping each lane boot's time line (:mod:`hub.store.timeline`) between batches, in the caller's
write transaction: one read and one upsert per batch, whatever its size.

Called under the batch's device locks (:func:`hub.store.sequences.lock_all`), so two hub instances
never extend one boot's line at the same time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Insert, Select, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.store.bulk import BulkStatement, PerDialect, among
from hub.store.dialect import insert_for
from hub.store.records import JournalRecord
from hub.store.schema import device_clocks
from hub.store.timeline import BootLine, Reading, corrected_times

Boot = tuple[str, str]
"""(device_id, boot_id)"""
Key = tuple[str, int]
"""(device_id, seq)"""

_LINE = ("anchor_seq", "anchor_wall", "anchor_mono_ns")


def _lines_of(dialect_name: str) -> Select[Any]:
    """The stored lines of the batch's devices x boots: a superset of its (device, boot) pairs
    (a boot id is its own device's), cut to them by the caller. Built once, each list one
    parameter (issue 16: an OR of one AND per boot was built and compiled again every batch)."""
    c = device_clocks.c
    return select(device_clocks).where(
        among(c.device_id, "devices", dialect_name), among(c.boot_id, "boots", dialect_name)
    )


def _line_upsert(dialect_name: str) -> Insert:
    insert = insert_for(dialect_name)(device_clocks)
    return insert.on_conflict_do_update(
        index_elements=["device_id", "boot_id"], set_={n: insert.excluded[n] for n in _LINE}
    )


_LINES_OF = PerDialect(_lines_of)
_UPSERT_LINE = BulkStatement(_line_upsert)


async def correct(conn: AsyncConnection, records: Sequence[JournalRecord]) -> dict[Key, datetime]:
    """The corrected time of every record (either kind: lane events move the line too), by key."""
    by_boot: dict[Boot, list[Reading]] = {}
    for r in records:
        reading = Reading(r.seq, r.mono_ns, r.wall_time, r.clock_synced and not r.clock_stepped)
        by_boot.setdefault((r.device_id, r.boot_id), []).append(reading)
    if not by_boot:
        return {}
    bounds = {"devices": sorted({d for d, _ in by_boot}), "boots": sorted({b for _, b in by_boot})}
    stored = {
        (row.device_id, row.boot_id): BootLine(*(getattr(row, name) for name in _LINE))
        for row in await conn.execute(_LINES_OF(conn), bounds)
        if (row.device_id, row.boot_id) in by_boot
    }
    times: dict[Key, datetime] = {}
    rows = []
    for (device_id, boot_id), readings in sorted(by_boot.items()):
        line, at = corrected_times(stored.get((device_id, boot_id), BootLine()), readings)
        times.update(((device_id, seq), when) for seq, when in at.items())
        rows.append({"device_id": device_id, "boot_id": boot_id, **{n: getattr(line, n) for n in _LINE}})
    await _UPSERT_LINE.execute(conn, rows)
    return times
