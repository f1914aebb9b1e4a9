"""Attribution from the registry: which project, lane and direction an event belongs to.

A lane's certificate proves which device published, nothing more: the payload's project, lane,
direction and operator are what the device *claims*. The hub decides them from its own records
instead, the device's registered placement (its row in ``gates``) and, for a ``remote_open``, the
hub's own log of the commands it sent that device. Pure (records in, a value out) so each rule is
testable without a store; the ingest looks the placements up once per batch and dead-letters a
:class:`Refusal` with its reason.

Reasons name the field and what the registry says (project ids and lane labels are not personal
data), never a person or an operator's account name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from wire.models import AccessEvent, Direction, LaneEvent, LaneEventType

JournalRecord = AccessEvent | LaneEvent

BOTH_DIRECTIONS = "both"
"""A gate registered with this direction passes people either way: the event's own is kept."""

COMMAND_CLOCK_SLACK = timedelta(minutes=2)
"""How far the lane's clock may differ from the hub's when a ``remote_open`` is matched to the
command it answers: a lane slightly behind records the opening a little before the hub issued it."""


@dataclass(frozen=True, slots=True)
class Placement:
    """Where the registry says a device stands: its gate row."""

    device_id: str
    project_id: str
    lane: str
    direction: str
    """``in``, ``out`` or ``both``."""


@dataclass(frozen=True, slots=True)
class OpenCommand:
    """A ``remote_open`` the hub issued to a device, from its command log."""

    operator: str
    issued_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why an event is not stored. ``contradiction`` is True when the device is placed but its
    payload disagrees with the registry (something to alert the device's owners about); False
    when the device has no placement at all (no owners to tell)."""

    reason: str
    contradiction: bool


UNPLACED = Refusal(
    "the device has no registered placement (never placed, its gate deleted, or revoked)",
    contradiction=False,
)


def attribute(
    record: JournalRecord, placement: Placement | None, opens: Sequence[OpenCommand] = ()
) -> JournalRecord | Refusal:
    """The record as the registry attributes it (the payload itself, once every field it claims
    agrees with the registry: no copy per event), or why it is refused.

    ``placement`` is the device's gate (None: unplaced); ``opens`` the ``remote_open`` commands
    the hub issued to the device (consulted only for a ``remote_open``).
    """
    if placement is None or placement.device_id != record.device_id:
        return UNPLACED
    if isinstance(record, LaneEvent) and record.type is LaneEventType.ATTRIBUTION_REFUSED:
        return _contradicts("type", "only the hub records attribution_refused")
    if record.project_id != placement.project_id:
        return _contradicts(
            "project_id", f"the registry places the device on project {placement.project_id!r}"
        )
    if record.lane != placement.lane:
        return _contradicts("lane", f"the registry names the device's lane {placement.lane!r}")
    if placement.direction != BOTH_DIRECTIONS and record.direction.value != placement.direction:
        return _contradicts("direction", f"the registry's gate is {placement.direction!r} only")
    if isinstance(record, LaneEvent) and record.type is LaneEventType.REMOTE_OPEN:
        command = answered_command(record.wall_time, opens)
        if command is None:
            return _contradicts("operator", "the hub sent the device no remote_open this event can answer")
        if record.operator != command.operator:
            return _contradicts("operator", "the hub's command log names another operator")
    return record  # its project and lane are the registry's (checked above), its direction the gate's


def refused_in_place(record: JournalRecord, placement: Placement) -> LaneEvent:
    """What the hub stores at a refused record's seq: an ``attribution_refused`` alert under the
    registry's project and lane, with the lane's own times (the record's content goes to the dead
    letters). Filling the seq keeps the device's watermark contiguous, so the lane is acknowledged
    and forgets the record, and a resend is a duplicate of the alert, not a second one."""
    direction = record.direction if placement.direction == BOTH_DIRECTIONS else Direction(placement.direction)
    return LaneEvent(
        device_id=record.device_id,
        seq=record.seq,
        boot_id=record.boot_id,
        mono_ns=record.mono_ns,
        wall_time=record.wall_time,
        clock_synced=record.clock_synced,
        clock_stepped=record.clock_stepped,
        project_id=placement.project_id,
        lane=placement.lane,
        direction=direction,
        type=LaneEventType.ATTRIBUTION_REFUSED,
        alert=True,
    )


def answered_command(at: datetime, opens: Sequence[OpenCommand]) -> OpenCommand | None:
    """The command a ``remote_open`` recorded at ``at`` answers: the latest issued no later than
    ``at`` (allowing the lane's clock :data:`COMMAND_CLOCK_SLACK` behind the hub's) that had not
    expired by then (the lane refuses an expired command, so it never opens for one)."""
    candidates = [
        c
        for c in opens
        if c.issued_at <= at + COMMAND_CLOCK_SLACK and at - COMMAND_CLOCK_SLACK <= c.expires_at
    ]
    return max(candidates, key=lambda c: c.issued_at, default=None)


def _contradicts(field: str, registry_says: str) -> Refusal:
    return Refusal(f"{field} in the payload contradicts the registry: {registry_says}", contradiction=True)
