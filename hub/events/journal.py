"""Where an event is stored exactly once: the ingest's write of a batch of journal records, with
the presence and attendance they imply, in one transaction.

:func:`hub.store.journal.store` stores each (device, seq) once and advances the watermarks;
:func:`hub.derive.apply` then brings presence and attendance up to the new passages in the same
transaction, so the derived rows commit or roll back with the events. Composed here, above both,
so the store does not depend on what is derived from it. Unscoped: the ingest is the hub itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from hub import derive
from hub.store import JournalRecord, Store, StoreResult
from hub.store import journal as store_journal
from hub.store.records import NOTHING_STORED


async def store_events(
    store: Store, records: Sequence[JournalRecord], *, received_at: datetime | None = None
) -> StoreResult:
    """Store a batch of either kind once each, in one transaction, and advance the watermarks.

    ``received_at`` defaults to the store's clock. See :mod:`hub.store.journal` for "once"
    across the two kinds.
    """
    if not records:
        return NOTHING_STORED
    try:
        async with store.write("store_events") as conn:
            result, new_access_events = await store_journal.store(
                conn, records, received_at or store.clock.wall()
            )
            await derive.apply(conn, new_access_events)
    except Exception as err:
        store.storing.failed(err)  # /healthz says so until a batch is stored again
        raise
    store.storing.stored()
    return result
