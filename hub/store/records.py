"""What the store hands back: frozen values, no rows or sessions leaking out of it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from wire.models import AccessEvent, Decision, Direction, LaneEvent, LaneEventType, Reason

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
    :class:`SeqConflict`.
    """

    new: int
    duplicates: int
    watermarks: Mapping[str, int]
    gaps: frozenset[str]
    new_lane_events: int
    alerts: tuple[LaneEvent, ...]
    conflicts: tuple[SeqConflict, ...]


NOTHING_STORED = StoreResult(
    new=0, duplicates=0, watermarks={}, gaps=frozenset(), new_lane_events=0, alerts=(), conflicts=()
)


@dataclass(frozen=True, slots=True)
class EventFilters:
    """Conditions on access events; every one given must hold. ``since`` <= wall_time < ``until``."""

    project_id: str | None = None
    device_id: str | None = None
    person_id: str | None = None
    enterprise_id: str | None = None
    direction: Direction | None = None
    decision: Decision | None = None
    reason: Reason | None = None
    since: datetime | None = None
    until: datetime | None = None


NO_FILTERS = EventFilters()


@dataclass(frozen=True, slots=True)
class LaneEventFilters:
    """Conditions on lane events; every one given must hold. ``since`` <= wall_time < ``until``."""

    project_id: str | None = None
    device_id: str | None = None
    type: LaneEventType | None = None
    alert: bool | None = None
    since: datetime | None = None
    until: datetime | None = None


NO_LANE_FILTERS = LaneEventFilters()


@dataclass(frozen=True, slots=True)
class StoredEvent:
    device_id: str
    seq: int
    boot_id: str
    mono_ns: int
    wall_time: datetime
    clock_synced: bool
    project_id: str
    lane: str
    direction: str
    decision: str
    reason: str
    card_kind: str
    credential_hash: str
    person_id: str | None
    alert: bool
    warnings: str
    received_at: datetime
    # The row id only orders equal wall times; it is not part of the public record.
    row_id: int = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class StoredLaneEvent:
    device_id: str
    seq: int
    boot_id: str
    mono_ns: int
    wall_time: datetime
    clock_synced: bool
    project_id: str
    lane: str
    direction: str
    type: str
    ref_seq: int | None
    alert: bool
    operator: str | None
    received_at: datetime
    row_id: int = field(repr=False, compare=False)


Item = TypeVar("Item", StoredEvent, StoredLaneEvent)


@dataclass(frozen=True, slots=True)
class Page(Generic[Item]):
    """One newest-first page of either kind; ``next_cursor`` is None on the last page."""

    items: list[Item]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class EventCount:
    group: Mapping[str, str | None]
    count: int


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


@dataclass(frozen=True, slots=True)
class DeviceStatus:
    device_id: str
    last_seen_at: datetime | None
    presence_state: str | None
    presence_generation: int | None
    presence_at: datetime | None
    last_heartbeat: Mapping[str, Any] | None
    # The lane's last roster report and the newest version of its project (roster lag = the gap).
    roster_applied: int | None = None
    roster_current: int | None = None
    roster_problem: str | None = None
