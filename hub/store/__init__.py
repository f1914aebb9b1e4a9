"""The hub's store: schema, migrations and the :class:`Store` that reads and writes them."""

from hub.store.records import (
    DeadLetter,
    DeviceStatus,
    EventCount,
    EventFilters,
    JournalRecord,
    LaneEventFilters,
    Page,
    SeqConflict,
    SequenceState,
    StoredEvent,
    StoredLaneEvent,
    StoreResult,
)
from hub.store.store import Store

__all__ = [
    "DeadLetter",
    "DeviceStatus",
    "EventCount",
    "EventFilters",
    "JournalRecord",
    "LaneEventFilters",
    "Page",
    "SeqConflict",
    "SequenceState",
    "Store",
    "StoreResult",
    "StoredEvent",
    "StoredLaneEvent",
]
