"""An exit lane whose clock steps back an hour between two readings, as the lane journals it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.hub.factories import make_event
from wire.models import AccessEvent, Direction, LaneEvent, LaneEventType

ENTRY = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
"""10:00 on the site: the entry, on a lane whose clock is right."""
S = 1_000_000_000


def stepped_exit(device_id: str, person_id: str = "person-1") -> tuple[AccessEvent, LaneEvent, AccessEvent]:
    """A denied swipe at 09:58, the step back an hour noticed at 10:02 (stamped on the lane's line,
    as the lane does), the exit at 10:05 that reads 09:05 (the lane marks it ``clock_stepped``)."""
    boot = {"boot_id": "boot-out-0001", "clock_synced": True}
    before = make_event(1, device_id=device_id, wall_time=ENTRY - timedelta(minutes=2), granted=False)
    before = before.model_copy(update={"mono_ns": 100 * S, **boot})
    step = LaneEvent(
        device_id=device_id,
        seq=2,
        mono_ns=(100 + 240) * S,
        wall_time=ENTRY + timedelta(minutes=2),  # the lane stamps a step on its own line
        project_id=before.project_id,
        lane="A1",
        direction=Direction.OUT,
        type=LaneEventType.CLOCK_STEP,
        alert=True,
        step_s=-3600.0,
        **boot,
    )
    exit_ = make_event(
        3,
        device_id=device_id,
        wall_time=ENTRY + timedelta(minutes=5) - timedelta(hours=1),
        direction=Direction.OUT,
        person_id=person_id,
    )
    exit_ = exit_.model_copy(update={"mono_ns": (100 + 420) * S, "clock_stepped": True, **boot})
    return before, step, exit_
