"""The feedback child process: the lane writes a line and moves on, whatever the child does."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from controller.config import DisplayConfig
from controller.feedback import worker
from controller.feedback.build import FeedbackSetup
from controller.feedback.names import mask_name
from controller.feedback.process import FeedbackProcess
from wire.labels import LaneState
from wire.models import Direction, Reason


def setup(**display: object) -> FeedbackSetup:
    return FeedbackSetup(
        lane="A1",
        direction=Direction.IN,
        display=DisplayConfig(decision_s=0.2, **display),
        panel=None,
        emulate_display=True,
        voice=None,
        mock_pins=True,
    )


def until(lane: FeedbackProcess, condition: Callable[[], bool], timeout: float = 20.0) -> None:
    """Tick as the lane's watcher does until ``condition`` holds (a child starts in about a second)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out; status {lane.child_status}, faults {lane.faults}"
        lane.tick()
        time.sleep(0.05)


@pytest.fixture
def lanes() -> Iterator[list[FeedbackProcess]]:
    made: list[FeedbackProcess] = []
    yield made
    for lane in made:
        lane.close()


def test_the_child_draws_what_the_lane_tells_it(lanes: list[FeedbackProcess]) -> None:
    lane = FeedbackProcess(setup(), clock=None)
    lanes.append(lane)
    lane.start()
    until(lane, lambda: lane.child_status.get("drawn", 0) >= 1)  # the ready screen
    lane.decided(Reason.NOT_REGISTERED, mask_name("张小明"))
    lane.lane_state(LaneState.OFFLINE)
    until(lane, lambda: lane.child_status.get("drawn", 0) >= 3)
    assert lane.faults == [] and lane.dropped == 0
    process = lane.process
    lane.close()
    assert process is not None and process.returncode == 0


def test_the_childs_faults_come_back_to_the_lane(lanes: list[FeedbackProcess], tmp_path: Path) -> None:
    lane = FeedbackProcess(setup(font=tmp_path / "no-font.ttc"), clock=None)
    lanes.append(lane)
    lane.start()
    until(lane, lambda: bool(lane.faults))
    assert lane.faults[0].startswith("display: FontError: font ") and "no-font.ttc" in lane.faults[0]


def test_a_stuck_child_never_blocks_the_lane(
    lanes: list[FeedbackProcess], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("controller.feedback.process.STOP_TIMEOUT_S", 0.2)
    lane = FeedbackProcess(setup(), clock=None, command=["sleep", "60"])  # never reads its stdin
    lanes.append(lane)
    lane.start()
    started = time.monotonic()
    for _ in range(3000):  # ~100 bytes a line: far more than a pipe holds
        lane.decided(Reason.CARD_EXPIRED, mask_name("李四"))
    # A blocking write would never return (the child never reads): finishing at all is the proof;
    # the bound is loose for a loaded machine (about 10 us a call when idle).
    assert time.monotonic() - started < 5.0
    assert lane.dropped > 0
    lane.close()
    assert lane.process is None


def test_a_dead_child_is_a_fault_and_is_started_again(
    lanes: list[FeedbackProcess], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(worker, "RETRY_S", 0.3)
    lane = FeedbackProcess(setup(), clock=None, command=["sh", "-c", "exit 3"])
    lanes.append(lane)
    lane.start()
    until(lane, lambda: bool(lane.faults))
    assert lane.faults == ["feedback process: RuntimeError: the feedback child exited 3"]
    lane.decided(Reason.GRANTED)  # nothing to write to: counted, not raised
    until(lane, lambda: lane.starts >= 2)


def test_a_missing_python_is_a_fault_not_a_crash(lanes: list[FeedbackProcess]) -> None:
    lane = FeedbackProcess(setup(), clock=None, command=["/nonexistent/python"])
    lanes.append(lane)
    lane.start()
    lane.decided(Reason.GRANTED)
    assert lane.faults and lane.faults[0].startswith("feedback process: FileNotFoundError")
