"""Unscoped reads of the event record and the ingest's state: for the ingest, internal jobs and
tests that check what was stored. A handler never uses this module: an account reads through
:class:`hub.events.event_records.EventRecords` or :class:`hub.events.ingest_state.IngestState`.
"""

from __future__ import annotations

from sqlalchemy import true

from hub.events import ingest_state
from hub.events.queries import EventReads
from hub.store import DeadLetter, SequenceState, Store


class InternalEventReads(EventReads):
    """Every stored event of every project, whoever asks: the hub reading its own record."""

    def __init__(self, store: Store) -> None:
        super().__init__(store, access_scope=true(), lane_scope=true())

    async def sequences(self) -> list[SequenceState]:
        return await ingest_state.sequences(self._store)

    async def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        return await ingest_state.recent_dead_letters(self._store, limit)
