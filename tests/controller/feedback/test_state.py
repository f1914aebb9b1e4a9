"""The idle state: one ordered rule over the lane's facts, checked for every combination."""

from __future__ import annotations

import itertools

from controller.feedback.state import LaneFacts, lane_state
from wire.labels import LaneState


def test_every_combination_of_facts_has_the_most_urgent_state() -> None:
    for free, journal_ok, disabled, readers_ok, online in itertools.product((False, True), repeat=5):
        state = lane_state(LaneFacts(free, journal_ok, disabled, readers_ok, online))
        if free:
            expected = LaneState.FIRE_ALARM
        elif not journal_ok:
            expected = LaneState.SYSTEM_FAULT
        elif disabled:
            expected = LaneState.DISABLED
        elif not readers_ok:
            expected = LaneState.READER_FAULT
        elif not online:
            expected = LaneState.OFFLINE
        else:
            expected = LaneState.READY
        assert state is expected, (free, journal_ok, disabled, readers_ok, online)


def test_a_healthy_lane_is_ready() -> None:
    assert lane_state(LaneFacts()) is LaneState.READY
