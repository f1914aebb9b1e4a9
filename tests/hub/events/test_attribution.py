"""Attribution from the registry: the placement decides project, lane and direction; the hub's
command log decides a remote_open's operator; a payload that says otherwise is refused."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hub.events.attribution import (
    UNPLACED,
    OpenCommand,
    Placement,
    Refusal,
    answered_command,
    attribute,
    refused_in_place,
)
from tests.hub.factories import BASE_TIME, make_event, make_lane_event
from wire.models import Direction, LaneEvent, LaneEventType

PLACED = Placement(device_id="lane-t01", project_id="proj-1", lane="A1", direction="in")


def _remote_open(operator: str, seconds: int = 10) -> LaneEvent:
    event = make_lane_event(5, LaneEventType.LANE_ENABLED, wall_time=BASE_TIME + timedelta(seconds=seconds))
    return LaneEvent.model_validate({**event.model_dump(), "type": "remote_open", "operator": operator})


def _command(operator: str, issued_s: int, ttl_s: int = 60) -> OpenCommand:
    issued = BASE_TIME + timedelta(seconds=issued_s)
    return OpenCommand(operator=operator, issued_at=issued, expires_at=issued + timedelta(seconds=ttl_s))


def test_an_event_that_agrees_with_its_placement_is_stored_as_the_registry_says() -> None:
    event = make_event(1)
    assert attribute(event, PLACED) == event


@pytest.mark.parametrize("placement", [None, Placement("lane-other", "proj-1", "A1", "in")])
def test_an_unplaced_device_is_refused_without_an_alert(placement: Placement | None) -> None:
    refusal = attribute(make_event(1), placement)
    assert refusal is UNPLACED
    assert not refusal.contradiction


def test_an_entry_claiming_another_project_is_refused_naming_the_registered_one() -> None:
    refusal = attribute(make_event(1, project_id="proj-2"), PLACED)
    assert isinstance(refusal, Refusal) and refusal.contradiction
    assert refusal.reason.startswith("project_id ")
    assert "'proj-1'" in refusal.reason and "proj-2" not in refusal.reason


def test_a_fire_alarm_claiming_another_project_is_refused() -> None:
    refusal = attribute(make_lane_event(1, LaneEventType.FIRE_ALARM, project_id="proj-2"), PLACED)
    assert isinstance(refusal, Refusal) and refusal.reason.startswith("project_id ")


def test_a_lane_label_other_than_the_registered_one_is_refused() -> None:
    event = make_event(1).model_copy(update={"lane": "B7"})
    refusal = attribute(event, PLACED)
    assert isinstance(refusal, Refusal) and refusal.reason.startswith("lane ")


def test_an_out_from_an_in_gate_is_refused() -> None:
    refusal = attribute(make_event(1, direction=Direction.OUT), PLACED)
    assert isinstance(refusal, Refusal) and refusal.reason.startswith("direction ")
    assert "'in' only" in refusal.reason


@pytest.mark.parametrize("direction", list(Direction))
def test_a_gate_for_both_directions_keeps_the_events_own(direction: Direction) -> None:
    both = Placement("lane-t01", "proj-1", "A1", "both")
    event = make_event(1, direction=direction)
    assert attribute(event, both) == event


def test_a_remote_open_takes_the_operator_of_the_command_it_answers() -> None:
    event = _remote_open("operator-1")
    assert attribute(event, PLACED, [_command("operator-1", issued_s=5)]) == event


def test_a_remote_open_naming_an_operator_who_sent_no_command_is_refused() -> None:
    refusal = attribute(_remote_open("operator-2"), PLACED, [_command("operator-1", issued_s=5)])
    assert isinstance(refusal, Refusal) and refusal.reason.startswith("operator ")
    assert "operator-1" not in refusal.reason and "operator-2" not in refusal.reason


def test_a_remote_open_with_no_command_behind_it_is_refused() -> None:
    refusal = attribute(_remote_open("operator-1"), PLACED, [])
    assert isinstance(refusal, Refusal) and refusal.reason.startswith("operator ")


def test_the_answered_command_is_the_latest_issued_before_the_event_and_not_expired() -> None:
    at = BASE_TIME + timedelta(seconds=600)
    old = _command("operator-1", issued_s=0, ttl_s=60)  # expired long before
    current = _command("operator-2", issued_s=590)
    future = _command("operator-3", issued_s=900)  # issued after the opening
    assert answered_command(at, [old, current, future]) == current
    assert answered_command(at, [old, future]) is None


def test_a_lane_clock_slightly_behind_still_matches_its_command() -> None:
    at = BASE_TIME + timedelta(seconds=100)
    assert answered_command(at, [_command("operator-1", issued_s=130)]) is not None


def test_a_lane_may_not_report_an_attribution_refusal_itself() -> None:
    refusal = attribute(make_lane_event(1, LaneEventType.ATTRIBUTION_REFUSED), PLACED)
    assert isinstance(refusal, Refusal) and refusal.reason.startswith("type ")


def test_a_refused_record_is_replaced_by_an_alert_under_the_registrys_placement() -> None:
    event = make_event(3, project_id="proj-2", direction=Direction.OUT)
    stored = refused_in_place(event, PLACED)
    assert (stored.device_id, stored.seq, stored.wall_time) == (event.device_id, 3, event.wall_time)
    assert (stored.project_id, stored.lane, stored.direction) == ("proj-1", "A1", Direction.IN)
    assert stored.type is LaneEventType.ATTRIBUTION_REFUSED and stored.alert
    assert stored.person_id is None
    both = Placement("lane-t01", "proj-1", "A1", "both")
    assert refused_in_place(event, both).direction is Direction.OUT
