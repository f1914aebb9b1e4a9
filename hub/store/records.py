"""What the ingest's writes hand back, and the ingest's own state: frozen values, no rows or
sessions leaking out of the store. (What accounts read lives with its domain: hub.events,
hub.devices.)"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from wire.models import AccessEvent, LaneEvent

JournalRecord = AccessEvent | LaneEvent
"""A record of a controller's journal, either kind; both are numbered in one sequence per device."""


@dataclass(frozen=True, slots=True)
class SeqConflict:
    """A record refused because its device already used its seq for the other kind of record.

    A correct controller never does this (one journal, one counter); a buggy or malicious one
    could, and storing both would make one seq mean two things.
    """

    device_id: str
    seq: int
    kind: str
    stored_kind: str


@dataclass(frozen=True, slots=True)
class StoreResult:
    """The outcome of one ``store_events`` transaction.

    ``watermarks`` holds, for every device the batch touched (duplicates and conflicts included,
    so a resent record gets its acknowledgement again), the seq up to which all its records,
    of either kind, are now stored. ``new`` counts records of both kinds, ``new_lane_events``
    the lane events among them, and ``alerts`` lists the newly stored lane events that raise an
    alert (a resent one is not listed again). ``conflicts`` are not duplicates: see
    :class:`SeqConflict`. ``suspect`` holds the (device, seq) of every record of the batch whose
    time was not believed (stored with ``clock_suspect``; a resent copy is judged again and
    listed too, so nothing downstream takes it for a passage).
    """

    new: int
    duplicates: int
    watermarks: Mapping[str, int]
    gaps: frozenset[str]
    new_lane_events: int
    alerts: tuple[LaneEvent, ...]
    conflicts: tuple[SeqConflict, ...]
    suspect: frozenset[tuple[str, int]] = frozenset()


NOTHING_STORED = StoreResult(
    new=0, duplicates=0, watermarks={}, gaps=frozenset(), new_lane_events=0, alerts=(), conflicts=()
)


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A rejected message, without its body: the body may hold personal data."""

    id: int
    received_at: datetime
    topic: str
    reason: str
    payload_size: int


@dataclass(frozen=True, slots=True)
class SequenceState:
    device_id: str
    contiguous_through: int
    highest_seen: int
    gap_count: int
