"""Monthly partitions of the journal tables on PostgreSQL: which exist, making the months ahead.

``access_events`` and ``lane_events`` are partitioned by range of ``wall_time`` (migration 0012),
one partition per **site month** (Asia/Shanghai: a month begins at 00:00 Beijing time, 16:00 UTC
the day before), plus a DEFAULT partition for whatever no month holds (a lane's clock in 1970 or
2099: ``clock_suspect`` events are kept, hub.events.time_bounds).

Why ``wall_time`` and why site months:

- ``wall_time`` is what every listing and page bounds (``since``/``until``, hub.events.queries), it
  is NOT NULL and both tables have it; ``corrected_time`` exists on access events only and is
  nullable. Presence and attendance read their derived tables, not the journal, and a lane's
  corrected time is its wall time whenever its clock is synced, so it lands in the same month.
- A site's day (hub.derive.days.day_bounds) and a site's month are what regulators ask for and
  what retention counts in. With UTC months, Beijing's first day of each month (00:00-08:00 falls
  in the previous UTC month) would span two partitions; with site months every project-day query
  prunes to exactly one.

SQLite has no partitions: the functions here do nothing there, so callers need not branch.

The months ahead are made by the hub itself (hub.retention.housekeeping, daily), idempotently and
under an advisory lock, so several hub instances may all try. A month whose rows sit in DEFAULT
(made by no-one in time, or far-off rows the month now covers) is filled from it before attaching.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from wire.clock import SITE_ZONE

PARTITIONED: Mapping[str, str] = {"access_events": "wall_time", "lane_events": "wall_time"}
"""Each partitioned table and its partition key."""

MONTHS_AHEAD = 3
"""Months made beyond the current one: a hub down for a while still finds its month there."""

PARTITION_LOCK_KEY = 0x53475054  # "SGPT": hub instances making partitions take turns


@dataclass(frozen=True)
class Partition:
    table: str
    name: str
    month: date | None
    """The site month it holds (its first day); None for the DEFAULT partition."""

    def month_end(self) -> datetime:
        """The instant its month ends (the DEFAULT partition's never does)."""
        return datetime.max.replace(tzinfo=SITE_ZONE) if self.month is None else month_bounds(self.month)[1]


# -- pure: months and names -----------------------------------------------------------------------


def site_month(at: datetime) -> date:
    """The first day of the site month ``at`` falls in."""
    local = at.astimezone(SITE_ZONE)
    return date(local.year, local.month, 1)


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """[start, end) of a site month as aware instants."""
    start = datetime(month.year, month.month, 1, tzinfo=SITE_ZONE)
    following = add_months(month, 1)
    return start, datetime(following.year, following.month, 1, tzinfo=SITE_ZONE)


def partition_name(table: str, month: date | None) -> str:
    return f"{table}_default" if month is None else f"{table}_p{month.year:04d}{month.month:02d}"


def months_from(first: date, last: date) -> list[date]:
    months, month = [], first
    while month <= last:
        months.append(month)
        month = add_months(month, 1)
    return months


def wanted_months(now: datetime, ahead: int = MONTHS_AHEAD) -> list[date]:
    """This site month and ``ahead`` more."""
    this = site_month(now)
    return months_from(this, add_months(this, ahead))


# -- what the database holds ----------------------------------------------------------------------


def _month_of(name: str, table: str) -> date | None:
    suffix = name[len(table) + 2 :]
    return date(int(suffix[:4]), int(suffix[4:6]), 1)


async def listing(conn: AsyncConnection, tables: Sequence[str] = tuple(PARTITIONED)) -> list[Partition]:
    """The partitions of ``tables``, oldest month first, DEFAULT last; none on SQLite."""
    if conn.dialect.name != "postgresql":
        return []
    rows = await conn.execute(
        text(
            "SELECT parent.relname, child.relname FROM pg_inherits"
            " JOIN pg_class parent ON parent.oid = pg_inherits.inhparent"
            " JOIN pg_class child ON child.oid = pg_inherits.inhrelid"
            " WHERE parent.relname = ANY(:tables) AND parent.relkind = 'p'"
        ),
        {"tables": list(tables)},
    )
    found = []
    for table, name in rows:
        month = None if name == partition_name(table, None) else _month_of(name, table)
        found.append(Partition(table, name, month))
    return sorted(found, key=lambda p: (p.table, p.month is None, p.month or date.min))


def _literal(at: datetime) -> str:
    return f"'{at.isoformat()}'"


async def _make(conn: AsyncConnection, table: str, month: date) -> None:
    """One month's partition, with the rows DEFAULT holds for it moved in first: PostgreSQL
    refuses to attach a range that rows of the DEFAULT partition fall in."""
    name, key = partition_name(table, month), PARTITIONED[table]
    start, end = month_bounds(month)
    within = f"{key} >= {_literal(start)} AND {key} < {_literal(end)}"
    await conn.execute(text(f"CREATE TABLE {name} (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"))
    default = partition_name(table, None)
    # Every name here comes from PARTITIONED and partition_name, every bound from month_bounds.
    moved = f"DELETE FROM {default} WHERE {within} RETURNING *"  # noqa: S608 - names of our own
    await conn.execute(text(f"WITH moved AS ({moved}) INSERT INTO {name} SELECT * FROM moved"))  # noqa: S608
    bounds = f"FROM ({_literal(start)}) TO ({_literal(end)})"
    await conn.execute(text(f"ALTER TABLE {table} ATTACH PARTITION {name} FOR VALUES {bounds}"))


ATTACH_LOCK_TIMEOUT = "500ms"
"""How long making a month waits for the locks it needs (attaching takes the DEFAULT partition
whole): a long read (a CSV export) is not waited out, nor are the readers and writers queued behind
the wait; the month is made at the next try, months before it is needed. Under PostgreSQL's
``deadlock_timeout`` (1 s): should a reader wait on this transaction while it waits on the reader,
this one gives up first, so the reader is never the deadlock's victim."""


async def ensure(
    conn: AsyncConnection, months: Sequence[date], tables: Sequence[str] = tuple(PARTITIONED)
) -> list[str]:
    """Make each of ``tables``' partition for every month of ``months`` that has none (in the
    caller's transaction); returns the names made. Idempotent, safe from several hubs. The locks
    an attach takes are held to the end of the transaction: one table per transaction
    (:func:`hub.retention.housekeeping.housekeep`) never holds one table's while it waits for
    another's, which a reader of both tables could be holding."""
    if conn.dialect.name != "postgresql" or not months:
        return []
    await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PARTITION_LOCK_KEY})
    existing = {p.name for p in await listing(conn, tables)}
    if all(partition_name(t, m) in existing for t in tables for m in months):
        return []
    await conn.execute(text(f"SET LOCAL lock_timeout = '{ATTACH_LOCK_TIMEOUT}'"))
    made = []
    for table in tables:
        # Writers and readers of the table wait, and each plans afresh once the month is made. An
        # insert routed to DEFAULT just before the attach would fail its partition check just after;
        # a read planned before the attach (its plan: DEFAULT, no new month) but run on a snapshot
        # taken after it found the month's rows in neither table (tests/hub/store/test_partitions.py
        # caught a count of 0). Once a month per table, for the milliseconds of an empty move.
        await conn.execute(text(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
        for month in sorted(set(months)):
            if partition_name(table, month) not in existing:
                await _make(conn, table, month)
                made.append(partition_name(table, month))
    return made


async def drop(conn: AsyncConnection, partition: Partition) -> None:
    """Detach and drop one month's partition (never DEFAULT), in the caller's transaction."""
    if partition.month is None:
        raise ValueError("the DEFAULT partition is never dropped")
    # Detaching takes the whole table: not waited for behind a long read (see ATTACH_LOCK_TIMEOUT).
    await conn.execute(text(f"SET LOCAL lock_timeout = '{ATTACH_LOCK_TIMEOUT}'"))
    await conn.execute(text(f"ALTER TABLE {partition.table} DETACH PARTITION {partition.name}"))
    await conn.execute(text(f"DROP TABLE {partition.name}"))


# -- the schema comparison -----------------------------------------------------------------------


def comparison_filter(dialect_name: str) -> Callable[..., bool]:
    """Alembic's ``include_object`` for comparing a database of ``dialect_name`` with
    :mod:`hub.store.schema`: the partitions are left out (they are the partitioned tables'
    storage, not tables of the schema), and an object the schema makes on one dialect only
    (``ddl_if``: the journal key, :func:`hub.store.schema.journal_key`) is compared only there."""

    def include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        if type_ == "table" and reflected and name is not None:
            return not any(name.startswith(f"{t}_p") or name == f"{t}_default" for t in PARTITIONED)
        ddl_if = getattr(obj, "_ddl_if", None)
        if ddl_if is None or ddl_if.dialect is None:
            return True
        dialects = (ddl_if.dialect,) if isinstance(ddl_if.dialect, str) else tuple(ddl_if.dialect)
        return dialect_name in dialects

    return include
