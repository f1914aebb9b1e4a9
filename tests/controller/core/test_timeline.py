"""The lane's defensible time: a line through the monotonic clock, stepped clocks not believed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from controller.core.timeline import Reading, judge, start

T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
S = 1_000_000_000
DAY = timedelta(days=1)


def test_a_step_while_synchronised_is_reported_once_and_not_believed() -> None:
    line = start(Reading(T0, 10 * S, synced=True), None)
    first = judge(line, Reading(T0 + DAY + timedelta(seconds=5), 15 * S, synced=True))
    assert (first.at, first.stepped, first.step) == (T0 + timedelta(seconds=5), True, DAY)
    again = judge(first.line, Reading(T0 + DAY + timedelta(seconds=9), 19 * S, synced=True))
    assert (again.at, again.stepped, again.step) == (T0 + timedelta(seconds=9), True, None)


def test_a_clock_that_becomes_synchronised_is_believed() -> None:
    line = start(Reading(T0, 10 * S, synced=True), None)
    unsynced = judge(line, Reading(T0 + DAY, 11 * S, synced=False))  # set by hand: not believed
    assert unsynced.stepped and unsynced.at == T0 + timedelta(seconds=1)
    synced = judge(unsynced.line, Reading(T0 + timedelta(hours=1), 12 * S, synced=True))  # NTP's word
    assert (synced.at, synced.stepped) == (T0 + timedelta(hours=1), False)
    assert synced.step is not None


def test_an_unsynchronised_start_is_the_last_synchronised_time_plus_uptime() -> None:
    saved = T0 - DAY
    line = start(Reading(T0 + DAY * 30, 60 * S, synced=False), saved)
    judged = judge(line, Reading(T0 + DAY * 30 + timedelta(seconds=1), 61 * S, synced=False))
    assert judged.at == saved + timedelta(seconds=61)
    assert judged.stepped and judged.step is None  # flagged, but no step: the downtime is unknown
    first_sync = judge(judged.line, Reading(T0, 62 * S, synced=True))
    assert (first_sync.at, first_sync.stepped, first_sync.step) == (T0, False, None)


def test_never_earlier_than_the_last_journaled_record() -> None:
    line = start(Reading(T0, 10 * S, synced=True), None)
    floor = T0 + timedelta(minutes=5)
    assert judge(line, Reading(T0 + timedelta(seconds=1), 11 * S, synced=True), floor).at == floor


def test_drift_within_the_tolerance_moves_the_anchor() -> None:
    line = start(Reading(T0, 0, synced=True), None)
    for n in range(1, 10):  # 1.5 s fast every reading: 13.5 s in all, never a step
        judged = judge(line, Reading(T0 + timedelta(seconds=n * 11.5), n * 10 * S, synced=True))
        assert not judged.stepped
        line = judged.line
