"""A lane whose wall clock steps (issue 20): it judges its date and hour rules on the time it can
defend, journals the step, and marks what it records while its clock is off its line."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from controller.clock import LaneTime
from controller.core.roster import Roster, RosterEntry
from controller.service import LaneService
from tests.controller.test_service import KEY, NUMBER, OPENING, TODAY, card, clock_of, close_lane, make_lane
from tests.support.clock import FakeClock
from wire.credential import credential_hash
from wire.idnumber import with_check_digit
from wire.models import LaneEvent, LaneEventType, Reason
from wire.roles import RosterRole

STARTS_TOMORROW = with_check_digit("33010619851111002")


def lane_with_assignments(tmp_path: Path) -> LaneService:
    """p-1's assignment ends today; p-3's starts tomorrow."""
    lane = make_lane(tmp_path)
    lane.roster = Roster.build(
        4,
        "P1",
        [
            (credential_hash(KEY, NUMBER), RosterEntry("p-1", RosterRole.WORKER, exit_date=TODAY)),
            (
                credential_hash(KEY, STARTS_TOMORROW),
                RosterEntry("p-3", RosterRole.WORKER, entry_date=TODAY + timedelta(days=1)),
            ),
        ],
    )
    return lane


async def test_a_clock_stepped_forward_a_day_does_not_move_the_date_rules(tmp_path: Path) -> None:
    lane = lane_with_assignments(tmp_path)
    try:
        clock = clock_of(lane)
        clock.advance(timedelta(minutes=1))
        clock.set(OPENING + timedelta(days=1, minutes=2))  # stepped forward a day
        ends_today = lane.handle(card())
        starts_tomorrow = lane.handle(card(STARTS_TOMORROW))
        assert ends_today.reason is Reason.GRANTED
        assert starts_tomorrow.reason is Reason.ASSIGNMENT_NOT_STARTED
        assert ends_today.clock_stepped and starts_tomorrow.clock_stepped
        steps = [r for r in lane.journal.pending(0, 10) if isinstance(r, LaneEvent)]
        assert [(s.type, s.alert, round(s.step_s or 0)) for s in steps] == [
            (LaneEventType.CLOCK_STEP, True, 86_400 + 60)
        ]
        assert steps[0].seq < ends_today.seq
    finally:
        close_lane(lane)


async def test_a_clock_stepped_back_never_goes_before_the_last_record(tmp_path: Path) -> None:
    lane = lane_with_assignments(tmp_path)
    try:
        clock = clock_of(lane)
        lane.handle(card())
        clock.set(OPENING - timedelta(hours=1))
        assert lane.time.now() >= OPENING
        clock.set_synced(False)
        assert lane.time.now() >= OPENING
    finally:
        close_lane(lane)


async def test_an_unsynchronised_boot_starts_from_the_saved_synchronised_time(tmp_path: Path) -> None:
    first = lane_with_assignments(tmp_path)
    first.handle(card())  # saves the time line
    close_lane(first)
    booted = FakeClock(OPENING + timedelta(days=3), synced=False, mono_ns=30 * 1_000_000_000)
    time = LaneTime(booted, tmp_path / "time.json")  # 30 s after boot, no NTP, a wall clock 3 days on
    assert OPENING + timedelta(seconds=30) <= time.now() < OPENING + timedelta(minutes=1)
    assert time.stepped  # what it records is marked: its wall clock is not vouched for
