"""Where an event is stored exactly once: the ingest's write of a batch of journal records, with
the presence and attendance they imply, in one transaction.

:func:`hub.store.journal.store` stores each (device, seq) once and advances the watermarks;
:func:`hub.derive.apply` then brings presence and attendance up to the new passages in the same
transaction, so the derived rows commit or roll back with the events. Composed here, above both,
so the store does not depend on what is derived from it. Unscoped: the ingest is the hub itself.

Each record's time is judged against its receipt and its device's enrolment
(:mod:`hub.events.time_bounds`) in the same transaction: the enrolment times are read with one
query per batch in the write transaction, so the judgement and the stored flag agree with what
the registry held at the commit, whoever stores the batch. A record not believed is stored with
``clock_suspect`` and never reaches presence or attendance.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub import derive
from hub.events import roster_check
from hub.events.time_bounds import DEFAULT_BOUNDS, TimeBounds, doubt
from hub.store import JournalRecord, Store, StoreResult
from hub.store import journal as store_journal
from hub.store.bulk import PerDialect, among
from hub.store.records import NOTHING_STORED
from hub.store.schema import devices


async def store_events(
    store: Store,
    records: Sequence[JournalRecord],
    *,
    received_at: datetime | None = None,
    bounds: TimeBounds = DEFAULT_BOUNDS,
) -> StoreResult:
    """Store a batch of either kind once each, in one transaction, and advance the watermarks.

    ``received_at`` defaults to the store's clock; each record's corrected time is judged against
    it and its device's enrolment under ``bounds``. See :mod:`hub.store.journal` for "once"
    across the two kinds.
    """
    if not records:
        return NOTHING_STORED
    received = received_at or store.clock.wall()
    try:
        async with store.write("store_events") as conn:
            enrolled = await enrolments_of(conn, {r.device_id for r in records})

            def suspect(record: JournalRecord, at: datetime) -> bool:
                return doubt(at, received, enrolled.get(record.device_id), bounds) is not None

            result, new_access_events = await store_journal.store(conn, records, received, suspect)
            await derive.apply(conn, new_access_events)
            await roster_check.flag_unheld(conn, new_access_events)  # stored, flagged, alerted
    except Exception as err:
        store.storing.failed(err)  # /healthz says so until a batch is stored again
        raise
    store.storing.stored()
    return result


async def enrolments_of(conn: AsyncConnection, device_ids: Collection[str]) -> dict[str, datetime | None]:
    """Each known device's first enrolment time (None before migration 0006); one query."""
    rows = await conn.execute(_ENROLMENTS(conn), {"ids": sorted(device_ids)})
    return {row.device_id: row.enrolled_at for row in rows.all()}


def _enrolments_query(dialect_name: str) -> Select[Any]:
    d = devices.c
    return select(d.device_id, d.enrolled_at).where(among(d.device_id, "ids", dialect_name))


_ENROLMENTS = PerDialect(_enrolments_query)
"""Built once (asked at every batch of events)."""
