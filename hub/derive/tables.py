"""Keeping ``presence`` and ``attendance`` in step with ``access_events``, in the caller's transaction.

:func:`apply` runs inside the ingest's write transaction, right after a batch's new access events
are inserted (hub.store.journal), so the derived rows commit or roll back with the events. The
result is always what the rules (:mod:`hub.derive.days`) give for *all* stored passages, in any
arrival order, so a late or repeated batch cannot skew a day. Two ways get there:

- a person whose new passages all come after their stored presence (lanes report as people
  pass, so nearly everyone) is carried on from the stored presence and the stored attendance of
  the day the passages start on (:func:`hub.derive.days.continue_record`);
- anyone else (an older passage from a lane that was offline, a person seen for the first time,
  stored rows that do not fit) has every touched day recomputed from all its stored passages.

Its cost is a constant number of statements per batch (a lock on PostgreSQL, two SELECTs for
the stored rows, one per day for recomputed passages, two bulk upserts), not one per event.

Presence is upserted only where the candidate is at least as new as the stored row (by the same
total order as :func:`hub.derive.days.order_key`): a batch about last week never overrides what
this morning's passages said.

Two hub instances may store passages of one person through different lanes at the same time.
On PostgreSQL each takes a transaction-scoped advisory lock per (project, person) before reading,
so the second one reads the first one's committed rows (READ COMMITTED sees them once the
lock is granted); the locks are taken in key order, after the device locks, so they cannot
deadlock. SQLite writers are serialised by BEGIN IMMEDIATE already.

:func:`rebuild` recomputes both tables from ``access_events`` (repair, bulk loads).
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Insert, Select, and_, bindparam, delete, or_, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.derive.days import (
    AttendanceDay,
    DayKey,
    Passage,
    PersonKey,
    Presence,
    continue_record,
    day_bounds,
    day_key,
    derive,
    local_day,
)
from hub.store.bulk import BulkStatement, PerDialect, among
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


def passage_of(event: AccessEvent, at: datetime | None = None) -> Passage | None:
    """The passage an access event records, or None (denied, or no registered person), at its
    corrected time ``at`` (hub.store.timeline; its wall time when not given)."""
    if event.decision is not Decision.GRANTED or event.person_id is None:
        return None
    return Passage(
        project_id=event.project_id,
        person_id=event.person_id,
        wall_time=event.wall_time if at is None else at,
        device_id=event.device_id,
        arrives=event.direction is Direction.IN,
    )


async def apply(conn: AsyncConnection, events: Iterable[tuple[AccessEvent, datetime]]) -> None:
    """Bring presence and attendance up to date with newly stored ``events`` (duplicates left out),
    each at its corrected time: a lane's stepped clock does not reorder its passages.

    A person whose new passages all come after their stored presence (the usual case: lanes
    report as people pass) is carried on from the stored rows (:func:`continue_record`); every
    other person's touched days are recomputed from all their stored passages.
    """
    by_person: dict[PersonKey, list[Passage]] = {}
    for passage in (passage_of(event, at) for event, at in events):
        if passage is not None:
            by_person.setdefault((passage.project_id, passage.person_id), []).append(passage)
    if not by_person:
        return
    if conn.dialect.name == "postgresql":
        await _lock_people(conn, by_person)
    starts = {person: local_day(min(p.wall_time for p in passages)) for person, passages in by_person.items()}
    stored = await _stored_state(conn, starts)
    days: list[AttendanceDay] = []
    presences: list[Presence] = []
    again: set[DayKey] = set()
    for person, passages in by_person.items():
        found = stored.get(person)
        carried = None if found is None else continue_record(*found, passages)
        if carried is None:
            again.update(map(day_key, passages))
        else:
            days += carried[0]
            presences.append(carried[1])
    if again:
        recomputed_days, recomputed_presences = derive(await _passages_of_days(conn, again))
        days += recomputed_days
        presences += recomputed_presences
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


def _attendance_upsert(dialect_name: str) -> Insert:
    insert = insert_for(dialect_name)(attendance)
    return insert.on_conflict_do_update(
        index_elements=["project_id", "person_id", "day"],
        set_={name: insert.excluded[name] for name in _ATTENDANCE_VALUES},
    )


def _presence_upsert(dialect_name: str) -> Insert:
    """Insert, or replace a stored presence that is not newer (by :func:`order_key`'s order)."""
    insert = insert_for(dialect_name)(presence)
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
    return insert.on_conflict_do_update(
        index_elements=["project_id", "person_id"],
        set_={name: incoming[name] for name in _PRESENCE_VALUES},
        where=newer_or_same,
    )


_UPSERT_ATTENDANCE = BulkStatement(_attendance_upsert)
_UPSERT_PRESENCE = BulkStatement(_presence_upsert)


async def upsert_attendance(conn: AsyncConnection, days: Sequence[AttendanceDay]) -> None:
    await _UPSERT_ATTENDANCE.execute(conn, [_row(d) for d in days])


async def upsert_presence(conn: AsyncConnection, presences: Sequence[Presence]) -> None:
    """Insert, or replace a stored presence that is not newer."""
    await _UPSERT_PRESENCE.execute(conn, [_row(p) for p in presences])


# -- helpers -------------------------------------------------------------------------------------


_PASSAGE_TIME = access_events.c.corrected_time
"""A passage's time: the event's corrected time (hub.store.timeline), filled on every row since
migration 0005 (which gave older rows their wall time)."""


def _passage_query() -> Any:
    """Granted events of registered people whose time is believed: a ``clock_suspect`` event
    (hub.events.time_bounds) is kept in the record but is never a passage."""
    a = access_events.c
    return select(
        a.project_id, a.person_id, _PASSAGE_TIME.label("wall_time"), a.device_id, a.direction
    ).where(a.decision == GRANTED, a.person_id.is_not(None), a.clock_suspect.is_(False))


_PASSAGES_OF_DAY = _passage_query().where(
    access_events.c.person_id.in_(bindparam("people", expanding=True)),
    access_events.c.corrected_time >= bindparam("start"),
    access_events.c.corrected_time < bindparam("end"),
)
"""Every passage of the given people in one local day's UTC bounds (the (person_id,
corrected_time) index finds them). The same text each time, so it is compiled once."""


async def _passages_of_days(conn: AsyncConnection, touched: Iterable[DayKey]) -> list[Passage]:
    """Every stored passage of the touched person-days: one statement per local day. A person
    seen on two projects brings the other project's passages too; they are dropped here."""
    wanted = set(touched)
    people_by_day: dict[date, set[str]] = {}
    for _, person_id, day in wanted:
        people_by_day.setdefault(day, set()).add(person_id)
    passages: list[Passage] = []
    for day, people in sorted(people_by_day.items()):
        start, end = day_bounds(day)
        rows = await conn.execute(_PASSAGES_OF_DAY, {"people": sorted(people), "start": start, "end": end})
        passages += (p for p in map(_passage, rows) if day_key(p) in wanted)
    return passages


def _presence_of_people(dialect_name: str) -> Select[Any]:
    p = presence.c
    return select(*(p[name] for name in Presence.__slots__)).where(
        among(p.project_id, "projects", dialect_name), among(p.person_id, "people", dialect_name)
    )


def _attendance_of_people(dialect_name: str) -> Select[Any]:
    a = attendance.c
    return select(*(a[name] for name in AttendanceDay.__slots__)).where(
        among(a.project_id, "projects", dialect_name),
        among(a.person_id, "people", dialect_name),
        among(a.day, "days", dialect_name),
    )


_PRESENCE_OF_PEOPLE = PerDialect(_presence_of_people)
_ATTENDANCE_OF_PEOPLE = PerDialect(_attendance_of_people)
"""Two statements for the whole batch, not one join: until PostgreSQL has analysed the young
tables its estimates are off by orders of magnitude, and the join was planned as a nested loop
over every attendance row of the day for each person (O(n) per batch, measured 100 ms at 40,000
events); each of these stays a primary-key index scan whatever the estimates. Each asks for the
batch's projects x people (x days): a superset of the (project, person, day) wanted, cut to them
here (a person is nearly always on one project, and a batch spans a day or two). On PostgreSQL
each list is one array parameter, so the text never changes and is prepared once (issue 16:
two statements per project and day had been half the store's CPU in a large batch)."""


async def _stored_state(
    conn: AsyncConnection, starts: Mapping[PersonKey, date]
) -> dict[PersonKey, tuple[Presence, AttendanceDay | None]]:
    """Each person's stored presence (if any) and stored attendance of ``starts[person]``, the day
    their new passages start on: two statements for the whole batch."""
    bounds: dict[str, list[Any]] = {
        "projects": sorted({project_id for project_id, _ in starts}),
        "people": sorted({person_id for _, person_id in starts}),
    }
    latest = [
        row
        for row in (Presence(*r) for r in await conn.execute(_PRESENCE_OF_PEOPLE(conn), bounds))
        if (row.project_id, row.person_id) in starts
    ]
    if not latest:
        return {}
    wanted = {(row.project_id, row.person_id): starts[(row.project_id, row.person_id)] for row in latest}
    bounds = {
        "projects": sorted({project_id for project_id, _ in wanted}),
        "people": sorted({person_id for _, person_id in wanted}),
        "days": sorted(set(wanted.values())),
    }
    days = {
        (row.project_id, row.person_id): AttendanceDay(*row)
        for row in await conn.execute(_ATTENDANCE_OF_PEOPLE(conn), bounds)
        if wanted.get((row.project_id, row.person_id)) == row.day
    }
    return {
        (row.project_id, row.person_id): (row, days.get((row.project_id, row.person_id))) for row in latest
    }


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
