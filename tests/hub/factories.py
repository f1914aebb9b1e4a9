"""Synthetic events and a polling helper for the hub's tests (no real names or ID numbers)."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from wire.models import (
    ALERT_LANE_EVENTS,
    AccessEvent,
    CardKind,
    Decision,
    Direction,
    LaneEvent,
    LaneEventType,
    Reason,
)

BASE_TIME = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
T = TypeVar("T")


def credential(n: int) -> str:
    return hashlib.sha256(f"synthetic-credential-{n}".encode()).hexdigest()


def make_event(
    seq: int,
    *,
    device_id: str = "lane-t01",
    project_id: str = "proj-1",
    wall_time: datetime | None = None,
    granted: bool = True,
    reason: Reason = Reason.NOT_REGISTERED,
    person_id: str | None = "person-1",
    direction: Direction = Direction.IN,
) -> AccessEvent:
    return AccessEvent(
        device_id=device_id,
        seq=seq,
        boot_id="boot-0001",
        mono_ns=seq * 1_000_000,
        wall_time=wall_time or BASE_TIME + timedelta(seconds=seq),
        clock_synced=True,
        project_id=project_id,
        lane="A1",
        direction=direction,
        decision=Decision.GRANTED if granted else Decision.DENIED,
        reason=Reason.GRANTED if granted else reason,
        card_kind=CardKind.RESIDENT,
        credential_hash=credential(seq),
        person_id=person_id if granted else None,
    )


def make_lane_event(
    seq: int,
    type: LaneEventType = LaneEventType.PASSAGE_CONFIRMED,
    *,
    device_id: str = "lane-t01",
    project_id: str = "proj-1",
    wall_time: datetime | None = None,
    ref_seq: int | None = None,
) -> LaneEvent:
    """A passage outcome refers to the record just before it unless ``ref_seq`` says otherwise."""
    needs_ref = type in (LaneEventType.PASSAGE_CONFIRMED, LaneEventType.NOT_PASSED)
    return LaneEvent(
        device_id=device_id,
        seq=seq,
        boot_id="boot-0001",
        mono_ns=seq * 1_000_000,
        wall_time=wall_time or BASE_TIME + timedelta(seconds=seq),
        clock_synced=True,
        project_id=project_id,
        lane="A1",
        direction=Direction.IN,
        type=type,
        ref_seq=(ref_seq or seq - 1) if needs_ref else None,
        alert=type in ALERT_LANE_EVENTS,
    )


async def eventually(probe: Callable[[], Awaitable[T | None]], *, within: float = 5.0) -> T:
    """Poll ``probe`` until it returns something truthy or the deadline passes."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = await probe()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {within} s (last: {result!r})")
        await asyncio.sleep(0.01)
