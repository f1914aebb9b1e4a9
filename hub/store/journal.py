"""Storing a batch of journal records exactly once, whichever table each kind lands in.

A controller numbers access events and lane events in one sequence, so (device, seq) names one
record of one kind. Each table's unique key keeps a kind from being stored twice; that a seq is
not stored as *both* kinds is checked here, under the device's watermark lock, which every
writer of that device takes first (:func:`hub.store.sequences.lock_all`). The first record to claim
a seq keeps it; a record of the other kind with the same seq comes back as a
:class:`~hub.store.records.SeqConflict` for the caller to dead-letter, not as a duplicate.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence, Set
from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.store import clocks, sequences
from hub.store.dialect import Upsert, insert_for
from hub.store.records import JournalRecord, SeqConflict, StoreResult
from hub.store.schema import access_events, lane_events
from wire.models import AccessEvent, LaneEvent

Key = tuple[str, int]
"""(device_id, seq)"""

TABLES: Mapping[str, Table] = {"access_event": access_events, "lane_event": lane_events}


Suspect = Callable[[JournalRecord, datetime], bool]
"""Whether a record's time, at its corrected time, is not to be believed (the caller's policy:
:mod:`hub.events.time_bounds`); such a record is stored with ``clock_suspect`` set."""


def _believed(record: JournalRecord, at: datetime) -> bool:
    return False


def _row(
    record: JournalRecord, received_at: datetime, times: Mapping[Key, datetime], suspect: Set[Key]
) -> dict[str, Any]:
    """Enumerations as their values; an access event's soft warnings as comma-separated codes and
    its corrected time (:mod:`hub.store.timeline`); either kind's ``clock_suspect``."""
    row = record.model_dump(mode="json", exclude={"kind", "wall_time"})
    row["wall_time"] = record.wall_time
    row["received_at"] = received_at
    row["clock_suspect"] = (record.device_id, record.seq) in suspect
    if isinstance(record, AccessEvent):
        row["warnings"] = ",".join(row["warnings"])
        row["corrected_time"] = times[(record.device_id, record.seq)]
    return row


async def _stored_kinds(
    conn: AsyncConnection, records: Iterable[JournalRecord], locked: Mapping[str, sequences.Watermark]
) -> dict[Key, str]:
    """The kind already stored for each (device, seq) of ``records`` that has one of another kind.

    Only the other kind's table is asked, once per table for the whole batch (each device's seq
    range, the exact seqs picked out here): the record's own table refuses a copy by itself.
    Nothing is asked about a seq above the device's ``highest_seen`` (``locked``, read under the
    device's lock): every stored record of the device went through :func:`store`, which raises
    ``highest_seen`` past it in the same transaction, so no row can hold such a seq. A controller
    sending in order sends only those, so the usual batch asks nothing.
    """
    wanted: dict[str, dict[str, set[int]]] = {kind: {} for kind in TABLES}
    for record in records:
        if record.seq > locked[record.device_id][1]:
            continue
        for kind in TABLES:
            if kind != record.kind:
                wanted[kind].setdefault(record.device_id, set()).add(record.seq)
    found: dict[Key, str] = {}
    for kind, per_device in wanted.items():
        if not per_device:
            continue
        c = TABLES[kind].c
        ranges = [
            and_(c.device_id == device_id, c.seq >= min(seqs), c.seq <= max(seqs))
            for device_id, seqs in sorted(per_device.items())
        ]
        for device_id, seq in await conn.execute(select(c.device_id, c.seq).where(or_(*ranges))):
            if int(seq) in per_device[device_id]:
                found[(device_id, int(seq))] = kind
    return found


def _sort_out(
    records: Sequence[JournalRecord], stored: Mapping[Key, str]
) -> tuple[dict[Key, JournalRecord], list[SeqConflict]]:
    """Who owns each seq (what is stored, else the batch's first copy) and who tried to reuse it."""
    owners: dict[Key, str] = dict(stored)
    candidates: dict[Key, JournalRecord] = {}
    conflicts: list[SeqConflict] = []
    for record in records:
        key = (record.device_id, record.seq)
        owner = owners.setdefault(key, record.kind)
        if owner != record.kind:
            conflicts.append(SeqConflict(record.device_id, record.seq, record.kind, owner))
        elif key not in stored:
            candidates.setdefault(key, record)
    return candidates, conflicts


async def _insert(
    conn: AsyncConnection,
    insert: Callable[[Table], Upsert],
    records: Sequence[JournalRecord],
    received_at: datetime,
    times: Mapping[Key, datetime],
    suspect: Set[Key],
) -> set[Key]:
    """Insert each kind into its table; returns the keys that were not stored before."""
    new: set[Key] = set()
    for kind, table in TABLES.items():
        rows = [_row(r, received_at, times, suspect) for r in records if r.kind == kind]
        if not rows:
            continue
        statement = (
            insert(table)
            .on_conflict_do_nothing(index_elements=["device_id", "seq"])
            .returning(table.c.device_id, table.c.seq)
        )
        new.update((d, int(s)) for d, s in (await conn.execute(statement, rows)).all())
    return new


async def store(
    conn: AsyncConnection,
    records: Sequence[JournalRecord],
    received_at: datetime,
    suspect: Suspect = _believed,
) -> tuple[StoreResult, list[tuple[AccessEvent, datetime]]]:
    """Store ``records`` (in the caller's write transaction) and advance the devices' watermarks;
    the result and the access events that were new and believed, each with its corrected time
    (what derived tables must follow, in the same transaction:
    :func:`hub.events.journal.store_events` does both). A record ``suspect`` judges at its
    corrected time is stored with ``clock_suspect`` set and listed in the result's ``suspect``,
    never among the access events to derive from.

    Watermark rows are locked in device order before any row is written and rows go in sorted
    by (device, seq), so two hub instances storing overlapping batches on PostgreSQL wait for
    each other instead of deadlocking or both claiming a seq.
    """
    seqs: dict[str, set[int]] = {}
    for record in records:
        seqs.setdefault(record.device_id, set()).add(record.seq)
    locked = await sequences.lock_all(conn, list(seqs))
    candidates, conflicts = _sort_out(records, await _stored_kinds(conn, records, locked))
    ordered = [candidates[key] for key in sorted(candidates)]
    times = await clocks.correct(conn, ordered)
    doubted = {(r.device_id, r.seq) for r in ordered if suspect(r, times[(r.device_id, r.seq)])}
    new = await _insert(conn, insert_for(conn.dialect.name), ordered, received_at, times, doubted)
    new_access = [
        (r, times[(r.device_id, r.seq)])
        for r in ordered
        if isinstance(r, AccessEvent) and (r.device_id, r.seq) in new - doubted
    ]
    states = await sequences.advance_all(conn, seqs, locked)
    new_lane = [r for r in ordered if isinstance(r, LaneEvent) and (r.device_id, r.seq) in new]
    result = StoreResult(
        new=len(new),
        duplicates=len(records) - len(new) - len(conflicts),
        watermarks={s.device_id: s.contiguous_through for s in states},
        gaps=frozenset(s.device_id for s in states if s.highest_seen > s.contiguous_through),
        new_lane_events=len(new_lane),
        alerts=tuple(r for r in new_lane if r.alert),
        conflicts=tuple(conflicts),
        suspect=frozenset(doubted),
    )
    return result, new_access
