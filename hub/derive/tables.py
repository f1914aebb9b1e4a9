"""Keeping ``presence`` and ``attendance`` in step with ``access_events``, in the caller's transaction.

:func:`apply` runs inside the ingest's write transaction, right after a batch's new access events
are inserted (hub.store.journal), so the derived rows commit or roll back with the events. It
recomputes every person-day the batch touches from *all* stored passages of that day, never by
adding the new ones to a running total: a late or repeated batch then cannot skew a day, and
the result is the same in any arrival order (the rules: :mod:`hub.derive.days`). Its cost is a
constant number of statements per batch (a lock on PostgreSQL, one SELECT, two bulk upserts),
not one per event.

Presence is upserted only where the candidate is at least as new as the stored row (by the same
total order as :func:`hub.derive.days.order_key`): a batch about last week never overrides what
this morning's passages said.

Two hub instances may store passages of one person through different lanes at the same time.
On PostgreSQL each takes a transaction-scoped advisory lock per (project, person) before reading,
so the second one reads the first one's committed passages (READ COMMITTED sees them once the
lock is granted); the locks are taken in key order, after the device locks, so they cannot
deadlock. SQLite writers are serialised by BEGIN IMMEDIATE already.

:func:`rebuild` recomputes both tables from ``access_events`` (repair, bulk loads).
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, bindparam, delete, or_, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.derive.days import (
    AttendanceDay,
    Passage,
    PersonKey,
    Presence,
    day_bounds,
    day_key,
    derive,
)
from hub.store.dialect import insert_for
from hub.store.schema import access_events, attendance, presence
from wire.models import AccessEvent, Decision, Direction

GRANTED = Decision.GRANTED.value
REBUILD_CHUNK = 5000
_ATTENDANCE_VALUES = ("first_in", "last_out", "seconds_on_site", "passages")
_PRESENCE_VALUES = ("on_site", "since", "device_id", "event_time")


@dataclass(frozen=True, slots=True)
class Rebuilt:
    passages: int
    attendance_rows: int
    presence_rows: int


def passage_of(event: AccessEvent) -> Passage | None:
    """The passage an access event records, or None (denied, or no registered person)."""
    if event.decision is not Decision.GRANTED or event.person_id is None:
        return None
    return Passage(
        project_id=event.project_id,
        person_id=event.person_id,
        wall_time=event.wall_time,
        device_id=event.device_id,
        arrives=event.direction is Direction.IN,
    )


async def apply(conn: AsyncConnection, events: Iterable[AccessEvent]) -> None:
    """Bring presence and attendance up to date with newly stored ``events`` (duplicates left out)."""
    touched = {day_key(p) for p in map(passage_of, events) if p is not None}
    if not touched:
        return
    if conn.dialect.name == "postgresql":
        await _lock_people(conn, {key[:2] for key in touched})
    people_by_day: dict[date, set[str]] = {}
    for _, person_id, day in touched:
        people_by_day.setdefault(day, set()).add(person_id)
    rows: list[Any] = []
    for day, people in sorted(people_by_day.items()):
        start, end = day_bounds(day)
        bounds = {"people": sorted(people), "start": start, "end": end}
        rows += (await conn.execute(_PASSAGES_OF_DAY, bounds)).all()
    passages = [p for p in map(_passage, rows) if day_key(p) in touched]
    days, presences = derive(passages)
    await upsert_attendance(conn, days)
    await upsert_presence(conn, presences)


async def rebuild(conn: AsyncConnection, project_id: str | None = None) -> Rebuilt:
    """Recompute presence and attendance (of one project, or all) from the stored access events."""
    scope = [] if project_id is None else [presence.c.project_id == project_id]
    await conn.execute(delete(presence).where(*scope))
    scope = [] if project_id is None else [attendance.c.project_id == project_id]
    await conn.execute(delete(attendance).where(*scope))
    a = access_events.c
    query = (
        _passage_query()
        .where(*([] if project_id is None else [a.project_id == project_id]))
        .order_by(a.project_id, a.person_id)
    )
    count, days_out, presences_out = 0, 0, 0
    pending: list[Passage] = []
    days: list[AttendanceDay] = []
    presences: list[Presence] = []
    async for passage in _streamed(conn, query):
        count += 1
        if pending and (pending[0].project_id, pending[0].person_id) != (
            passage.project_id,
            passage.person_id,
        ):
            more_days, more_presences = derive(pending)
            days += more_days
            presences += more_presences
            pending = []
        pending.append(passage)
        if len(days) >= REBUILD_CHUNK:
            days_out += await _insert(conn, attendance, [_row(d) for d in days])
            presences_out += await _insert(conn, presence, [_row(p) for p in presences])
            days, presences = [], []
    if pending:
        more_days, more_presences = derive(pending)
        days += more_days
        presences += more_presences
    days_out += await _insert(conn, attendance, [_row(d) for d in days])
    presences_out += await _insert(conn, presence, [_row(p) for p in presences])
    return Rebuilt(passages=count, attendance_rows=days_out, presence_rows=presences_out)


async def upsert_attendance(conn: AsyncConnection, days: Sequence[AttendanceDay]) -> None:
    if not days:
        return
    insert = insert_for(conn.dialect.name)(attendance)
    statement = insert.on_conflict_do_update(
        index_elements=["project_id", "person_id", "day"],
        set_={name: insert.excluded[name] for name in _ATTENDANCE_VALUES},
    )
    await conn.execute(statement, [_row(d) for d in days])


async def upsert_presence(conn: AsyncConnection, presences: Sequence[Presence]) -> None:
    """Insert, or replace a stored presence that is not newer (see :func:`newer_or_same`)."""
    if not presences:
        return
    insert = insert_for(conn.dialect.name)(presence)
    stored, incoming = presence.c, insert.excluded
    newer_or_same = or_(
        incoming.event_time > stored.event_time,
        and_(
            incoming.event_time == stored.event_time,
            or_(
                incoming.device_id > stored.device_id,
                and_(incoming.device_id == stored.device_id, incoming.on_site >= stored.on_site),
            ),
        ),
    )
    statement = insert.on_conflict_do_update(
        index_elements=["project_id", "person_id"],
        set_={name: incoming[name] for name in _PRESENCE_VALUES},
        where=newer_or_same,
    )
    await conn.execute(statement, [_row(p) for p in presences])


# -- helpers -------------------------------------------------------------------------------------


def _passage_query() -> Any:
    a = access_events.c
    return select(a.project_id, a.person_id, a.wall_time, a.device_id, a.direction).where(
        a.decision == GRANTED, a.person_id.is_not(None)
    )


_PASSAGES_OF_DAY = _passage_query().where(
    access_events.c.person_id.in_(bindparam("people", expanding=True)),
    access_events.c.wall_time >= bindparam("start"),
    access_events.c.wall_time < bindparam("end"),
)
"""Every passage of the given people in one local day's UTC bounds (the (person_id, wall_time)
index finds them): one statement per day a batch touches (nearly always one), the same text each
time, so it is compiled once. A person seen on two projects brings the other project's passages
too; :func:`apply` drops what was not touched."""


def _passage(row: Any) -> Passage:
    return Passage(
        project_id=row.project_id,
        person_id=row.person_id,
        wall_time=row.wall_time,
        device_id=row.device_id,
        arrives=row.direction == Direction.IN.value,
    )


async def _streamed(conn: AsyncConnection, query: Any) -> AsyncIterator[Passage]:
    result = await conn.stream(query.execution_options(yield_per=REBUILD_CHUNK))
    async for partition in result.partitions():
        for row in partition:
            yield _passage(row)


async def _lock_people(conn: AsyncConnection, people: Iterable[PersonKey]) -> None:
    """PostgreSQL: one transaction-scoped advisory lock per (project, person), in key order."""
    keys = sorted({_lock_key(person) for person in people})
    await conn.execute(
        text("SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(:keys AS bigint[])) AS k"), {"keys": keys}
    )


def _lock_key(person: PersonKey) -> int:
    """A stable signed 64-bit key (Python's hash() differs per process, and instances must agree)."""
    digest = hashlib.blake2b(f"presence\0{person[0]}\0{person[1]}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _row(value: AttendanceDay | Presence) -> dict[str, Any]:
    """The dataclass's fields by name: the tables' columns are named after them."""
    return {name: getattr(value, name) for name in value.__slots__}


async def _insert(conn: AsyncConnection, table: Any, rows: list[dict[str, Any]]) -> int:
    if rows:
        await conn.execute(table.insert(), rows)
    return len(rows)
