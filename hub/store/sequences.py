"""Per-device sequence watermarks: how far a device's events are stored without a hole.

A StorageAck promises "every event up to N is stored", so N must be the contiguous watermark,
never the highest seq seen: a controller forgets everything the ack covers. The row is locked
for the rest of the transaction, so two hub instances that store events of one device at the
same time (a shared subscription splits a device's stream) advance it one after the other, and
the second sees the first one's rows.
"""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.store.dialect import insert_for
from hub.store.records import SequenceState
from hub.store.schema import access_events, device_sequences

# Seqs read per step while walking past the watermark; the walk stops at the first hole.
WALK_PAGE = 512


async def _locked_row(conn: AsyncConnection, device_id: str) -> tuple[int, int] | None:
    """(contiguous_through, highest_seen), row-locked until commit on PostgreSQL."""
    t = device_sequences.c
    query = select(t.contiguous_through, t.highest_seen).where(t.device_id == device_id).with_for_update()
    row = (await conn.execute(query)).first()
    return None if row is None else (int(row[0]), int(row[1]))


async def _walk(conn: AsyncConnection, device_id: str, through: int) -> int:
    e = access_events.c
    while True:
        query = (
            select(e.seq).where(e.device_id == device_id, e.seq > through).order_by(e.seq).limit(WALK_PAGE)
        )
        seqs = (await conn.execute(query)).scalars().all()
        for seq in seqs:
            if seq != through + 1:
                return through
            through = seq
        if len(seqs) < WALK_PAGE:
            return through


async def advance(conn: AsyncConnection, device_id: str, batch_highest: int) -> SequenceState:
    """Move the device's watermark as far as its stored events allow (inside the caller's transaction)."""
    row = await _locked_row(conn, device_id)
    if row is None:
        insert = insert_for(conn.dialect.name)(device_sequences)
        await conn.execute(
            insert.values(
                device_id=device_id, contiguous_through=0, highest_seen=0, gap_count=0
            ).on_conflict_do_nothing(index_elements=["device_id"])
        )
        row = await _locked_row(conn, device_id)
        assert row is not None
    old_through, old_highest = row
    highest = max(old_highest, batch_highest)
    through, gap_count = old_through, 0
    if highest > old_through:
        e = access_events.c
        count_query = select(func.count()).where(
            e.device_id == device_id, e.seq > old_through, e.seq <= highest
        )
        stored_above = int((await conn.execute(count_query)).scalar_one())
        if stored_above == highest - old_through:
            through = highest
        else:
            through = await _walk(conn, device_id, old_through)
        gap_count = (highest - through) - (stored_above - (through - old_through))
    await conn.execute(
        update(device_sequences)
        .where(device_sequences.c.device_id == device_id)
        .values(contiguous_through=through, highest_seen=highest, gap_count=gap_count)
    )
    return SequenceState(device_id, through, highest, gap_count)
