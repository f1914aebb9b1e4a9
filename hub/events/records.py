"""What event reads hand back: filters in, frozen records and pages out, never rows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from wire.models import Decision, Direction, LaneEventType, Reason


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
    corrected_time: datetime | None
    """``wall_time`` as the lane's boot time line places it (hub.store.timeline): what presence and
    attendance use; differs from ``wall_time`` only where the lane's clock stepped."""
    clock_suspect: bool
    """Its time is not believed (far in the future of its receipt, or before the device's
    enrolment): kept, but out of presence and attendance."""
    flag: str | None
    """Something the hub noticed and stored anyway, e.g. ``not_in_roster``."""
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
    step_s: float | None
    """On ``clock_step``: how far the lane's wall clock jumped, in seconds (+ forward)."""
    command_id: str | None
    """On ``remote_open``: the hub's command it answers."""
    clock_suspect: bool
    row_id: int = field(repr=False, compare=False)


Item = TypeVar("Item", StoredEvent, StoredLaneEvent)


@dataclass(frozen=True, slots=True)
class EventCount:
    group: Mapping[str, str | None]
    count: int
