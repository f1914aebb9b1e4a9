"""What the store hands back: frozen values, no rows or sessions leaking out of it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from wire.models import Decision, Reason


@dataclass(frozen=True, slots=True)
class StoreResult:
    """The outcome of one ``store_events`` transaction.

    ``watermarks`` holds, for every device the batch touched (duplicates included, so a resent
    event gets its acknowledgement again), the seq up to which all its events are now stored.
    """

    new: int
    duplicates: int
    watermarks: Mapping[str, int]
    gaps: frozenset[str]


@dataclass(frozen=True, slots=True)
class EventFilters:
    """Conditions on access events; every one given must hold. ``since`` <= wall_time < ``until``."""

    project_id: str | None = None
    device_id: str | None = None
    person_id: str | None = None
    decision: Decision | None = None
    reason: Reason | None = None
    since: datetime | None = None
    until: datetime | None = None


NO_FILTERS = EventFilters()


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
class Page:
    items: list[StoredEvent]
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
