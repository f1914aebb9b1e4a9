"""The purge: every record past its period gone, in one transaction, audited and counted.

What is past its period is decided per project (:mod:`hub.retention.policy`): its access and lane
events, and what was derived from them (attendance, presence, and the platform client's record of
each passage and worker it sent up: who passed when, so personal data like the rest). On PostgreSQL
a past month's partition whose rows all belong to expired projects is dropped whole (no row by row
delete, no bloat: what partitioning by month is for); every other expired row is deleted. SQLite
deletes rows. A person with at least one assignment and none left in a project still inside its
period keeps a pseudonymous row: the id (what events and assignments refer to), enterprise,
category, and when registered; the sealed ID number, its blind index and mask, name, nation, birth
date and watchlist reason are erased, ``erased_at`` says when. Nothing personal goes into the audit
line: counts, the expired projects' ids and the partitions dropped.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.auth import audit
from hub.retention.policy import expired_projects
from hub.store import partitions
from hub.store.schema import (
    access_events,
    assignments,
    attendance,
    lane_events,
    persons,
    platform_uploads,
    platform_workers,
    presence,
    projects,
)
from wire.clock import SITE_ZONE

AUDIT_ACTION = "retention.purge"
AUDIT_USERNAME = "retention"
ERASED_INDEX_PREFIX = "erased:"
"""An erased person's ``id_index``: the prefix and the person's id (unique, and no blind index)."""


@dataclass(frozen=True, slots=True)
class Purged:
    expired_projects: int = 0
    access_events: int = 0
    lane_events: int = 0
    attendance: int = 0
    presence: int = 0
    platform_uploads: int = 0
    platform_workers: int = 0
    persons_erased: int = 0
    partitions_dropped: tuple[str, ...] = ()

    @property
    def anything(self) -> bool:
        return any(
            (
                self.access_events,
                self.lane_events,
                self.attendance,
                self.presence,
                self.platform_uploads,
                self.platform_workers,
                self.persons_erased,
            )
        )


async def _drop_whole_partitions(
    conn: AsyncConnection, expired: Set[str], now: datetime
) -> tuple[list[str], dict[str, int]]:
    """Each past month's partition holding rows of expired projects only: dropped; the names
    dropped and the rows they held, per table."""
    dropped: list[str] = []
    rows: dict[str, int] = {}
    ids = sorted(expired)
    for partition in await partitions.listing(conn):
        if partition.month is None or partition.month_end() > now:
            continue
        # Names from hub.store.partitions (the catalogue's, of our own tables), never input.
        name = partition.name
        unexpired = await conn.scalar(
            text(f"SELECT EXISTS (SELECT 1 FROM {name} WHERE project_id <> ALL(:ids))"),  # noqa: S608
            {"ids": ids},
        )
        if unexpired:
            continue
        held = int(await conn.scalar(text(f"SELECT count(*) FROM {name}")) or 0)  # noqa: S608
        if held == 0:
            continue  # an empty month (a gap in the record): nothing to drop
        await partitions.drop(conn, partition)
        dropped.append(name)
        rows[partition.table] = rows.get(partition.table, 0) + held
    return dropped, rows


async def _erase_persons(conn: AsyncConnection, expired: Set[str], now: datetime) -> int:
    a, per = assignments.c, persons.c
    inside = select(a.person_id).where(a.project_id.not_in(sorted(expired)))
    result = await conn.execute(
        update(persons)
        .where(per.erased_at.is_(None), per.id.in_(select(a.person_id)), per.id.not_in(inside))
        .values(
            id_index=ERASED_INDEX_PREFIX + per.id,
            id_cipher=b"",
            id_masked="",
            name="",
            nation=None,
            birth_date=None,
            watchlist_reason=None,
            erased_at=now,
        )
    )
    return int(result.rowcount or 0)


async def _delete(conn: AsyncConnection, table: Any, expired: Set[str]) -> int:
    result = await conn.execute(delete(table).where(table.c.project_id.in_(sorted(expired))))
    return int(result.rowcount or 0)


async def purge(conn: AsyncConnection, *, now: datetime, years: int) -> Purged:
    """Purge, in the caller's write transaction, what is past its period at ``now`` (its site day)."""
    p = projects.c
    completions = {
        str(project_id): completed_on
        for project_id, completed_on in await conn.execute(
            select(p.id, p.completed_on).where(p.completed_on.is_not(None))
        )
    }
    expired = expired_projects(completions, now.astimezone(SITE_ZONE).date(), years)
    if not expired:
        return Purged()
    # Expired projects stay expired: once purged, a pass finds no rows and looks at no partition.
    held = [
        await conn.scalar(select(exists().where(t.c.project_id.in_(sorted(expired)))))
        for t in (access_events, lane_events)
    ]
    dropped, dropped_rows = await _drop_whole_partitions(conn, expired, now) if any(held) else ([], {})
    purged = Purged(
        expired_projects=len(expired),
        access_events=dropped_rows.get("access_events", 0) + await _delete(conn, access_events, expired),
        lane_events=dropped_rows.get("lane_events", 0) + await _delete(conn, lane_events, expired),
        attendance=await _delete(conn, attendance, expired),
        presence=await _delete(conn, presence, expired),
        platform_uploads=await _delete(conn, platform_uploads, expired),
        platform_workers=await _delete(conn, platform_workers, expired),
        persons_erased=await _erase_persons(conn, expired, now),
        partitions_dropped=tuple(dropped),
    )
    if purged.anything or dropped:
        detail = {**asdict(purged), "partitions_dropped": list(dropped), "projects": sorted(expired)}
        await audit.record(conn, None, AUDIT_ACTION, at=now, username=AUDIT_USERNAME, detail=detail)
    return purged
