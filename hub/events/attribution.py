"""Attribution from the registry: which project, lane and direction an event belongs to.

A lane's certificate proves which device published, nothing more: the payload's project, lane,
direction and operator are what the device *claims*. The hub decides them from its own records
instead, the device's registered placement (its row in ``gates``) and, for a ``remote_open``, the
hub's own record of the command the event names by id (``command_id``: never matched by time, so a
lane whose clock is hours off still has its opening attributed, and two commands close together are
never confused). Pure (records in, a value out) so each rule is testable without a store; the ingest
looks the placements and commands up once per batch and dead-letters a :class:`Refusal` with its
reason.

Reasons name the field and what the registry says (project ids and lane labels are not personal
data), never a person or an operator's account name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TypeGuard

from wire.commands import Action
from wire.models import AccessEvent, Direction, LaneEvent, LaneEventType

JournalRecord = AccessEvent | LaneEvent

BOTH_DIRECTIONS = "both"
"""A gate registered with this direction passes people either way: the event's own is kept."""
OFFICE_READER = "office_reader"
"""A gate of this kind (:class:`hub.registry.models.GateKind`) reads cards for registration only."""


@dataclass(frozen=True, slots=True)
class Placement:
    """Where the registry says a device stands: its gate row."""

    device_id: str
    project_id: str
    lane: str
    direction: str | None
    """``in``, ``out`` or ``both``; None for an office reader."""
    kind: str = "lane"
    """``lane``, or ``office_reader``: the site office's card reader, which records no passage."""


@dataclass(frozen=True, slots=True)
class OpenCommand:
    """A command the hub issued, from its command log, as a ``remote_open`` names it by id."""

    command_id: str
    device_id: str
    action: str
    operator: str
    answered_by: int | None = None
    """The seq of the device's one ``remote_open`` that answers the command: the one stored
    already, else the batch's first (:func:`claimed`); any other seq naming it is a replay."""


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
    record: JournalRecord, placement: Placement | None, commands: Mapping[str, OpenCommand] | None = None
) -> JournalRecord | Refusal:
    """The record as the registry attributes it (the payload itself, once every field it claims
    agrees with the registry: no copy per event), or why it is refused.

    ``placement`` is the device's gate (None: unplaced); ``commands`` the hub's commands the
    batch's ``remote_open`` events name, by id (consulted only for a ``remote_open``).
    """
    if placement is None or placement.device_id != record.device_id:
        return UNPLACED
    if isinstance(record, LaneEvent) and record.type is LaneEventType.ATTRIBUTION_REFUSED:
        return _contradicts("type", "only the hub records attribution_refused")
    if placement.kind == OFFICE_READER:
        return _contradicts("kind", "the device is the site office's card reader, which records no passage")
    if record.project_id != placement.project_id:
        return _contradicts(
            "project_id", f"the registry places the device on project {placement.project_id!r}"
        )
    if record.lane != placement.lane:
        return _contradicts("lane", f"the registry names the device's lane {placement.lane!r}")
    if placement.direction != BOTH_DIRECTIONS and record.direction.value != placement.direction:
        return _contradicts("direction", f"the registry's gate is {placement.direction!r} only")
    if isinstance(record, LaneEvent) and record.type is LaneEventType.REMOTE_OPEN:
        refusal = _unanswered(record, (commands or {}).get(record.command_id or ""))
        if refusal is not None:
            return refusal
    return record  # its project and lane are the registry's (checked above), its direction the gate's


def _unanswered(record: LaneEvent, command: OpenCommand | None) -> Refusal | None:
    """Why ``record`` (a ``remote_open``) answers no command of the hub's, or None when it does.
    The operator stored is the command's: the payload's is only compared with it."""
    if record.command_id is None:
        return _contradicts("command_id", "a remote_open must name the hub's command it answers")
    if command is None or command.device_id != record.device_id:
        return _contradicts("command_id", "the hub sent the device no command by that id")
    if command.action != Action.REMOTE_OPEN.value:
        return _contradicts("command_id", f"the hub's command by that id is a {command.action}")
    if command.answered_by != record.seq:
        return _contradicts("command_id", f"the command was answered already, by seq {command.answered_by}")
    if record.operator != command.operator:
        return _contradicts("operator", "the hub's command names another operator")
    return None


def claimed(commands: Iterable[OpenCommand], records: Iterable[JournalRecord]) -> dict[str, OpenCommand]:
    """``commands`` by id, each with the seq that answers it: the stored answer's, else the lowest
    seq of its device's ``remote_open`` events in ``records`` naming it (a lane answers a command
    once: the hub's first sight of an answer is the answer, a later seq a replay)."""
    firsts: dict[tuple[str, str], int] = {}
    for r in records:
        if isinstance(r, LaneEvent) and r.type is LaneEventType.REMOTE_OPEN and r.command_id is not None:
            key = (r.device_id, r.command_id)
            firsts[key] = min(r.seq, firsts.get(key, r.seq))
    return {
        c.command_id: c
        if c.answered_by is not None
        else replace(c, answered_by=firsts.get((c.device_id, c.command_id)))
        for c in commands
    }


def is_remote_open(record: JournalRecord) -> TypeGuard[LaneEvent]:
    """A lane's record of opening on the hub's command: the one kind attributed by a command."""
    return isinstance(record, LaneEvent) and record.type is LaneEventType.REMOTE_OPEN


def refused_in_place(record: JournalRecord, placement: Placement) -> LaneEvent:
    """What the hub stores at a refused record's seq: an ``attribution_refused`` alert under the
    registry's project and lane, with the lane's own times (the record's content goes to the dead
    letters). Filling the seq keeps the device's watermark contiguous, so the lane is acknowledged
    and forgets the record, and a resend is a duplicate of the alert, not a second one."""
    either = placement.direction in (BOTH_DIRECTIONS, None)  # None: an office reader
    direction = record.direction if either else Direction(str(placement.direction))
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


def _contradicts(field: str, registry_says: str) -> Refusal:
    return Refusal(f"{field} in the payload contradicts the registry: {registry_says}", contradiction=True)
