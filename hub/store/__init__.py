"""The hub's store: the engine and its transactions, the schema and its migrations, dialect
differences, error translation, and the ingest's own writes. Reads for accounts live in the
domain packages (hub.events, hub.devices, hub.registry, hub.oversight, hub.workflows)."""

from hub.store.records import (
    DeadLetter,
    JournalRecord,
    SeqConflict,
    SequenceState,
    StoreResult,
)
from hub.store.store import Store

__all__ = [
    "DeadLetter",
    "JournalRecord",
    "SeqConflict",
    "SequenceState",
    "Store",
    "StoreResult",
]
