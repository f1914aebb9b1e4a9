"""A boot's time line: trusted readings believed, the others placed from the monotonic clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hub.store.timeline import BootLine, Reading, corrected_times

T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
S = 1_000_000_000


def test_a_step_back_is_placed_by_the_monotonic_clock() -> None:
    readings = [
        Reading(1, 10 * S, T0, trusted=True),
        Reading(2, 70 * S, T0 + timedelta(seconds=60) - timedelta(hours=1), trusted=False),
    ]
    line, times = corrected_times(BootLine(), readings)
    assert times == {1: T0, 2: T0 + timedelta(seconds=60)}
    assert line == BootLine(1, T0, 10 * S)


def test_the_anchor_is_kept_between_batches_and_moves_to_the_latest_trusted_reading() -> None:
    line, _ = corrected_times(BootLine(), [Reading(1, 0, T0, trusted=True)])
    line, times = corrected_times(
        line,
        [
            Reading(3, 30 * S, T0 + timedelta(seconds=31), trusted=True),  # drift: believed
            Reading(4, 40 * S, T0 + timedelta(days=1), trusted=False),
        ],
    )
    assert times == {3: T0 + timedelta(seconds=31), 4: T0 + timedelta(seconds=41)}
    assert line.anchor_seq == 3


def test_without_a_trusted_reading_the_wall_time_stands() -> None:
    line, times = corrected_times(BootLine(), [Reading(1, 5 * S, T0, trusted=False)])
    assert times == {1: T0}
    assert line == BootLine()
