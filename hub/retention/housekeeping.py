"""The hub's periodic housekeeping of its record: the months ahead made, then the purge.

One pass (:func:`housekeep`) makes the partitions of this site month and the configured months
ahead (PostgreSQL; idempotent, :mod:`hub.store.partitions`), then purges what is past its period
(:mod:`hub.retention.purge`), each in a write transaction of its own, at the instant the hub's
injected clock reads. :class:`Housekeeping` runs a pass ``first_pass_after_s`` (a minute) after
start and every ``interval_s``, logs what each purged and keeps the counts /healthz shows; a failing
pass is logged and tried again at the next interval, never taking the hub down.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime

from hub.errors import StoreError
from hub.retention.purge import Purged, purge
from hub.retention.settings import RetentionSettings
from hub.store import Store, partitions
from wire.clock import Clock

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Pass:
    at: datetime
    partitions_made: tuple[str, ...]
    purged: Purged


async def housekeep(store: Store, settings: RetentionSettings, now: datetime) -> Pass:
    """One pass at ``now``."""
    months, made = partitions.wanted_months(now, settings.months_ahead), []
    for table in partitions.PARTITIONED:  # a transaction each (partitions.ensure says why)
        async with store.write("retention_partitions") as conn:
            made += await partitions.ensure(conn, months, (table,))
    async with store.write("retention_purge") as conn:
        purged = await purge(conn, now=now, years=settings.years)
    return Pass(now, tuple(made), purged)


@dataclass
class Totals:
    passes: int = 0
    failures: int = 0
    partitions_made: int = 0
    partitions_dropped: int = 0
    access_events_purged: int = 0
    lane_events_purged: int = 0
    persons_erased: int = 0
    last_pass_at: datetime | None = None
    last_error: str | None = field(default=None)


class Housekeeping:
    """The periodic task and its counts (``report`` for /healthz)."""

    def __init__(self, store: Store, settings: RetentionSettings, *, clock: Clock) -> None:
        self._store = store
        self._settings = settings
        self._clock = clock
        self.totals = Totals()

    async def run_once(self) -> Pass | None:
        """One pass now; None when it failed (logged, counted)."""
        try:
            done = await housekeep(self._store, self._settings, self._clock.wall())
        except StoreError as err:
            self.totals.failures += 1
            self.totals.last_error = str(err)
            # A lock not had in time (partitions.ATTACH_LOCK_TIMEOUT) is tried again next time.
            log.log(logging.WARNING if err.transient else logging.ERROR, "retention housekeeping: %s", err)
            return None
        self._count(done)
        return done

    def _count(self, done: Pass) -> None:
        t, purged = self.totals, done.purged
        t.passes += 1
        t.last_pass_at = done.at
        t.last_error = None
        t.partitions_made += len(done.partitions_made)
        t.partitions_dropped += len(purged.partitions_dropped)
        t.access_events_purged += purged.access_events
        t.lane_events_purged += purged.lane_events
        t.persons_erased += purged.persons_erased
        if done.partitions_made:
            log.info("partitions made ahead: %s", ", ".join(done.partitions_made))
        if purged.anything or purged.partitions_dropped:
            log.info(
                "retention purge (%d projects past %d years): %d access events, %d lane events,"
                " %d attendance days, %d presences, %d platform uploads, %d platform workers,"
                " %d persons erased; partitions dropped: %s",
                purged.expired_projects,
                self._settings.years,
                purged.access_events,
                purged.lane_events,
                purged.attendance,
                purged.presence,
                purged.platform_uploads,
                purged.platform_workers,
                purged.persons_erased,
                ", ".join(purged.partitions_dropped) or "none",
            )

    async def keep(self) -> None:
        """A pass ``first_pass_after_s`` after start and every ``interval_s``, until cancelled."""
        await asyncio.sleep(self._settings.first_pass_after_s)
        while True:
            await self.run_once()
            await asyncio.sleep(self._settings.interval_s)

    def report(self) -> dict[str, object]:
        t = self.totals
        return {
            "passes": t.passes,
            "failures": t.failures,
            "last_pass_at": t.last_pass_at.isoformat() if t.last_pass_at else None,
            "partitions_made": t.partitions_made,
            "partitions_dropped": t.partitions_dropped,
            "access_events_purged": t.access_events_purged,
            "lane_events_purged": t.lane_events_purged,
            "persons_erased": t.persons_erased,
            **({"last_error": t.last_error} if t.last_error else {}),
        }
