"""Per-device sequence watermarks: how far a device's journal is stored without a hole.

A StorageAck promises "every record up to N is stored", so N must be the contiguous watermark,
never the highest seq seen: a controller forgets everything the ack covers. Access events and
lane events share one sequence per device, so the watermark counts the seqs of both tables.

:func:`lock_all` takes the batch's devices' rows (in device order) for the rest of the
transaction, before anything of those devices is written: two hub instances that store records
of one device at the same time (a shared subscription splits a device's stream) then write it
one after the other, and the second sees the first one's rows, in either table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Insert,
    Select,
    Table,
    and_,
    bindparam,
    distinct,
    func,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.store.bulk import BulkStatement, PerDialect, among
from hub.store.dialect import insert_for
from hub.store.records import SequenceState
from hub.store.schema import access_events, device_sequences, lane_events

# Seqs read per step while walking past the watermark; the walk stops at the first hole.
WALK_PAGE = 512
# Every table whose rows take a number from a device's journal sequence.
JOURNAL_TABLES = (access_events, lane_events)

Watermark = tuple[int, int]
"""(contiguous_through, highest_seen) as stored before this transaction moves them."""


def _seq_condition(table: Table, device_id: str, above: int, upto: int | None) -> list[ColumnElement[bool]]:
    c = table.c
    clauses = [c.device_id == device_id, c.seq > above]
    if upto is not None:
        clauses.append(c.seq <= upto)
    return clauses


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


# -- a batch's devices at once: a constant number of statements per batch, not three per device --


def _locked_rows(dialect_name: str) -> Select[Any]:
    t = device_sequences.c
    return (
        select(t.device_id, t.contiguous_through, t.highest_seen)
        .where(among(t.device_id, "devices", dialect_name))
        .order_by(t.device_id)  # PostgreSQL locks the rows in this order: no deadlock between hubs
        .with_for_update()
    )


def _new_rows(dialect_name: str) -> Insert:
    return insert_for(dialect_name)(device_sequences).on_conflict_do_nothing(index_elements=["device_id"])


_LOCKED_ROWS = PerDialect(_locked_rows)
"""Built once, the devices one parameter (on PostgreSQL one array, = ANY, prepared once): built
per call with an IN list it was made, hashed and rendered again every batch (issue 16)."""
_NEW_ROWS = BulkStatement(_new_rows)
_SET_WATERMARKS = (
    update(device_sequences)
    .where(device_sequences.c.device_id == bindparam("d"))
    .values(contiguous_through=bindparam("c"), highest_seen=bindparam("h"), gap_count=bindparam("g"))
)


async def lock_all(conn: AsyncConnection, device_ids: Sequence[str]) -> dict[str, Watermark]:
    """Each device's watermark, row-locked until commit on PostgreSQL (created at 0 if new): one
    SELECT ... FOR UPDATE in device order, so two transactions never wait for each other in a
    circle (two more statements only when a device is new)."""
    ids = sorted(set(device_ids))
    locked = _LOCKED_ROWS(conn)
    found = {str(d): (int(c), int(h)) for d, c, h in await conn.execute(locked, {"devices": ids})}
    missing = [d for d in ids if d not in found]
    if missing:
        await _NEW_ROWS.execute(
            conn, [dict(device_id=d, contiguous_through=0, highest_seen=0, gap_count=0) for d in missing]
        )
        found.update(
            {str(d): (int(c), int(h)) for d, c, h in await conn.execute(locked, {"devices": missing})}
        )
    return found


def _counts_query(ranges: Mapping[str, tuple[int, int]]) -> Select[Any]:
    """Distinct seqs of both tables in each device's (above, upto], grouped by device."""
    seqs = union_all(
        *(
            select(t.c.device_id, t.c.seq).where(
                or_(
                    *(and_(*_seq_condition(t, d, above, upto)) for d, (above, upto) in sorted(ranges.items()))
                )
            )
            for t in JOURNAL_TABLES
        )
    ).subquery()
    return select(seqs.c.device_id, func.count(distinct(seqs.c.seq))).group_by(seqs.c.device_id)


def _filled(batch_seqs: Set[int], locked: Watermark) -> bool:
    """Whether the batch's own seqs fill every hole above the watermark: no hole was known
    (``highest_seen`` is the watermark) and they run on from it without one. Every seq of a
    batch is stored when it commits (new, or already there as either kind), so such a device's
    watermark moves to the batch's highest without asking the database: the usual case, a
    controller sending in order."""
    through, highest_seen = locked
    if highest_seen != through:
        return False
    above = [seq for seq in batch_seqs if seq > through]
    return not above or max(above) - through == len(above)


async def advance_all(
    conn: AsyncConnection, batch_seqs: Mapping[str, Set[int]], locked: Mapping[str, Watermark]
) -> list[SequenceState]:
    """Move each device's watermark as far as the stored records allow (``batch_seqs``: each
    device's distinct seqs in the batch): one grouped count for the devices whose watermark the
    batch alone cannot move, one executemany UPDATE (and the walk, per device, only where a
    hole remains)."""
    ranges = {d: (locked[d][0], max(locked[d][1], max(seqs))) for d, seqs in batch_seqs.items()}
    moving = {d: r for d, r in ranges.items() if r[1] > r[0] and not _filled(batch_seqs[d], locked[d])}
    counts: dict[str, int] = {d: r[1] - r[0] for d, r in ranges.items() if d not in moving}
    if moving:
        counts.update({str(d): int(n) for d, n in await conn.execute(_counts_query(moving))})
    states = []
    for device_id in sorted(ranges):
        old_through, highest = ranges[device_id]
        through, gap_count = old_through, 0
        if highest > old_through:
            stored_above = counts.get(device_id, 0)
            if stored_above == highest - old_through:
                through = highest
            else:
                through = await _walk(conn, device_id, old_through)
            gap_count = (highest - through) - (stored_above - (through - old_through))
        states.append(SequenceState(device_id, through, highest, gap_count))
    await conn.execute(
        _SET_WATERMARKS,
        [dict(d=s.device_id, c=s.contiguous_through, h=s.highest_seen, g=s.gap_count) for s in states],
    )
    return states


async def first_stored_above(conn: AsyncConnection, device_id: str, above: int) -> int | None:
    """The device's lowest stored seq above ``above`` (either table), or None."""
    seqs = (await conn.execute(_walk_query(device_id, above).limit(1))).scalars().all()
    return int(seqs[0]) if seqs else None


async def pass_over(conn: AsyncConnection, device_id: str, locked: Watermark, through: int) -> SequenceState:
    """Move the device's watermark (row locked by :func:`lock_all`) over seqs it will never have,
    to ``through``, and on over what is stored after them. Only for a gap the caller has judged
    gone for good (:mod:`hub.backup.gap`): a StorageAck then promises nothing false about them."""
    through = await _walk(conn, device_id, max(locked[0], through))
    highest = max(locked[1], through)
    counts = {str(d): int(n) for d, n in await conn.execute(_counts_query({device_id: (through, highest)}))}
    state = SequenceState(device_id, through, highest, (highest - through) - counts.get(device_id, 0))
    t = device_sequences
    await conn.execute(
        update(t)
        .where(t.c.device_id == device_id)
        .values(contiguous_through=through, highest_seen=highest, gap_count=state.gap_count)
    )
    return state
