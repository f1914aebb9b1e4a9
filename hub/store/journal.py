"""Storing a batch of journal records exactly once, whichever table each kind lands in.

A controller numbers access events and lane events in one sequence, so (device, seq) names one
record of one kind. Which seqs are stored already, as either kind, is looked up here, under the
device's watermark lock, which every writer of that device takes first
(:func:`hub.store.sequences.lock_all`) and holds until its rows are committed: so the lookup and the
insert cannot be overtaken, and that is the exactly-once guarantee on PostgreSQL, where the tables
are partitioned by month and can hold no unique (device_id, seq) key (hub.store.schema.journal_key);
on SQLite the unique key stands behind it. A seq at or below the device's contiguous watermark is
stored even when no row holds it any more (retention purged it, hub.retention): a lane resending
a purged record does not bring it back. The first record to claim a seq keeps it; a record of the
other kind with the same seq comes back as a :class:`~hub.store.records.SeqConflict` for the
caller to dead-letter, not as a duplicate.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence, Set
from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.store import clocks, sequences
from hub.store.bulk import ColumnarInsert
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


PURGED = "purged"
"""The kind of a seq the watermark covers that no table holds any more (purged by retention)."""


async def _stored_kinds(
    conn: AsyncConnection, records: Iterable[JournalRecord], locked: Mapping[str, sequences.Watermark]
) -> dict[Key, str]:
    """The kind already stored for each (device, seq) of ``records`` that is stored: ``PURGED``
    for one the device's watermark covers that no table holds.

    One query per table for the whole batch (each device's seq range, the exact seqs picked out
    here), by the (device_id, seq) index, which on PostgreSQL is probed in every month's
    partition: a resent record is looked for by its key alone, whatever time it carries. Nothing
    is asked about a seq above the device's ``highest_seen`` (``locked``, read under the device's
    lock): every stored record of the device went through :func:`store`, which raises
    ``highest_seen`` past it in the same transaction, so no row can hold such a seq. A controller
    sending in order sends only those, so the usual batch asks nothing.
    """
    wanted: dict[str, set[int]] = {}
    for record in records:
        if record.seq <= locked[record.device_id][1]:
            wanted.setdefault(record.device_id, set()).add(record.seq)
    found: dict[Key, str] = {}
    if not wanted:
        return found
    for kind, table in TABLES.items():
        c = table.c
        ranges = [
            and_(c.device_id == device_id, c.seq >= min(seqs), c.seq <= max(seqs))
            for device_id, seqs in sorted(wanted.items())
        ]
        for device_id, seq in await conn.execute(select(c.device_id, c.seq).where(or_(*ranges))):
            if int(seq) in wanted[device_id]:
                found.setdefault((device_id, int(seq)), kind)
    for device_id, seqs in wanted.items():
        through = locked[device_id][0]
        for seq in seqs:
            if seq <= through:
                found.setdefault((device_id, seq), PURGED)
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
        if owner not in (record.kind, PURGED):
            conflicts.append(SeqConflict(record.device_id, record.seq, record.kind, owner))
        elif owner == record.kind:  # new, or a copy of itself (judged again, not stored again)
            candidates.setdefault(key, record)
    return candidates, conflicts


def _insert_into(table: Table, columns: Sequence[str]) -> ColumnarInsert:
    """An INSERT of ``columns`` (what :func:`_row` gives that the table has: its id is the
    database's, its flag set later), one statement of fixed text for the whole batch
    (:class:`~hub.store.bulk.ColumnarInsert`). No ON CONFLICT (it needs a unique key, which
    PostgreSQL's partitioned tables lack): the rows were looked up under the devices' locks, so
    each one is new (on SQLite the unique key stands behind that, and a row it refused would fail
    the batch's transaction)."""
    return ColumnarInsert(table, columns)


_COMMON = ("device_id", "seq", "boot_id", "mono_ns", "wall_time", "clock_synced", "project_id", "lane")
_ACCESS = ("direction", "decision", "reason", "card_kind", "credential_hash", "person_id", "alert")
_LANE = ("direction", "type", "ref_seq", "alert", "operator", "step_s", "command_id")
_INSERTS: Mapping[str, ColumnarInsert] = {
    "access_event": _insert_into(
        access_events, (*_COMMON, *_ACCESS, "warnings", "received_at", "corrected_time", "clock_suspect")
    ),
    "lane_event": _insert_into(lane_events, (*_COMMON, *_LANE, "clock_suspect", "received_at")),
}


async def _insert(
    conn: AsyncConnection,
    records: Sequence[JournalRecord],
    received_at: datetime,
    times: Mapping[Key, datetime],
    suspect: Set[Key],
) -> set[Key]:
    """Insert each kind into its table (one statement each); returns the keys stored, all of them
    new (see :func:`_insert_into`)."""
    for kind, statement in _INSERTS.items():
        rows = [_row(r, received_at, times, suspect) for r in records if r.kind == kind]
        await statement.execute(conn, rows)
    return {(r.device_id, r.seq) for r in records}


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
    stored = await _stored_kinds(conn, records, locked)
    candidates, conflicts = _sort_out(records, stored)
    ordered = [candidates[key] for key in sorted(candidates)]
    times = await clocks.correct(conn, ordered)
    doubted = {(r.device_id, r.seq) for r in ordered if suspect(r, times[(r.device_id, r.seq)])}
    fresh = [r for r in ordered if (r.device_id, r.seq) not in stored]
    new = await _insert(conn, fresh, received_at, times, doubted)
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
