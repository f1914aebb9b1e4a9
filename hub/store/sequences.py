"""Per-device sequence watermarks: how far a device's journal is stored without a hole.

A StorageAck promises "every record up to N is stored", so N must be the contiguous watermark,
never the highest seq seen: a controller forgets everything the ack covers. Access events and
lane events share one sequence per device, so the watermark counts the seqs of both tables.

:func:`lock` takes the device's row for the rest of the transaction, before anything of that
device is written: two hub instances that store records of one device at the same time (a
shared subscription splits a device's stream) then write it one after the other, and the second
sees the first one's rows, in either table.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, Table, distinct, func, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.store.dialect import insert_for
from hub.store.records import SequenceState
from hub.store.schema import access_events, device_sequences, lane_events

# Seqs read per step while walking past the watermark; the walk stops at the first hole.
WALK_PAGE = 512
# Every table whose rows take a number from a device's journal sequence.
JOURNAL_TABLES = (access_events, lane_events)

Watermark = tuple[int, int]
"""(contiguous_through, highest_seen) as stored before this transaction moves them."""


async def _locked_row(conn: AsyncConnection, device_id: str) -> Watermark | None:
    t = device_sequences.c
    query = select(t.contiguous_through, t.highest_seen).where(t.device_id == device_id).with_for_update()
    row = (await conn.execute(query)).first()
    return None if row is None else (int(row[0]), int(row[1]))


async def lock(conn: AsyncConnection, device_id: str) -> Watermark:
    """The device's watermark, row-locked until commit on PostgreSQL (created at 0 if new).

    Lock devices in sorted order: two transactions that each hold one device and want the other's
    would deadlock.
    """
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
    return row


def _seq_condition(table: Table, device_id: str, above: int, upto: int | None) -> list[ColumnElement[bool]]:
    c = table.c
    clauses = [c.device_id == device_id, c.seq > above]
    if upto is not None:
        clauses.append(c.seq <= upto)
    return clauses


def _count_query(device_id: str, above: int, upto: int) -> Select[Any]:
    """Distinct seqs of both tables in (above, upto]; distinct so a seq is never counted twice."""
    seqs = union_all(
        *(select(t.c.seq).where(*_seq_condition(t, device_id, above, upto)) for t in JOURNAL_TABLES)
    ).subquery()
    return select(func.count(distinct(seqs.c.seq)))


def _walk_query(device_id: str, above: int) -> Select[Any]:
    """The next WALK_PAGE seqs above ``above``, of both tables, in order.

    Each table contributes its own first WALK_PAGE (an index range scan on (device_id, seq)),
    which is enough: the first WALK_PAGE of the union are among them.
    """
    firsts = [
        select(t.c.seq).where(*_seq_condition(t, device_id, above, None)).order_by(t.c.seq).limit(WALK_PAGE)
        for t in JOURNAL_TABLES
    ]
    # Wrapped as subqueries: SQLite refuses ORDER BY / LIMIT on a bare member of a UNION.
    merged = union_all(*(select(f.subquery().c.seq) for f in firsts)).subquery()
    return select(merged.c.seq).order_by(merged.c.seq).limit(WALK_PAGE)


async def _walk(conn: AsyncConnection, device_id: str, through: int) -> int:
    while True:
        seqs = (await conn.execute(_walk_query(device_id, through))).scalars().all()
        for seq in seqs:
            if seq == through:
                continue  # the same seq in both tables: store_events refuses that, but count it once
            if seq != through + 1:
                return through
            through = seq
        if len(seqs) < WALK_PAGE:
            return through


async def advance(
    conn: AsyncConnection, device_id: str, batch_highest: int, locked: Watermark
) -> SequenceState:
    """Move the watermark as far as the stored records allow; ``locked`` comes from :func:`lock`."""
    old_through, old_highest = locked
    highest = max(old_highest, batch_highest)
    through, gap_count = old_through, 0
    if highest > old_through:
        stored_above = int((await conn.execute(_count_query(device_id, old_through, highest))).scalar_one())
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
