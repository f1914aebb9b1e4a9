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
    attribute,
    claimed,
    refused_in_place,
)
from tests.hub.factories import BASE_TIME, make_event, make_lane_event
from wire.models import Direction, LaneEvent, LaneEventType

PLACED = Placement(device_id="lane-t01", project_id="proj-1", lane="A1", direction="in")


COMMAND_ID = "c0" * 16


def _remote_open(
    operator: str, seconds: int = 10, *, seq: int = 5, command_id: str | None = COMMAND_ID
) -> LaneEvent:
    event = make_lane_event(seq, LaneEventType.LANE_ENABLED, wall_time=BASE_TIME + timedelta(seconds=seconds))
    return LaneEvent.model_validate(
        {**event.model_dump(), "type": "remote_open", "operator": operator, "command_id": command_id}
    )


def _command(
    operator: str = "operator-1",
    *,
    device_id: str = "lane-t01",
    action: str = "remote_open",
    answered_by: int | None = 5,
) -> dict[str, OpenCommand]:
    return {COMMAND_ID: OpenCommand(COMMAND_ID, device_id, action, operator, answered_by)}


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
    assert attribute(event, PLACED, _command("operator-1")) == event


@pytest.mark.parametrize("hours", [-3, 3, 24 * 400])
def test_a_remote_open_is_matched_by_id_whatever_the_lanes_clock_says(hours: int) -> None:
    event = _remote_open("operator-1", seconds=hours * 3600)
    assert attribute(event, PLACED, _command("operator-1")) == event


def test_a_remote_open_naming_an_operator_other_than_the_commands_is_refused() -> None:
    refusal = attribute(_remote_open("operator-2"), PLACED, _command("operator-1"))
    assert isinstance(refusal, Refusal) and refusal.contradiction and refusal.reason.startswith("operator ")
    assert "operator-1" not in refusal.reason and "operator-2" not in refusal.reason


def _refusal_of(event: LaneEvent, commands: dict[str, OpenCommand]) -> str:
    refusal = attribute(event, PLACED, commands)
    assert isinstance(refusal, Refusal) and refusal.contradiction
    return refusal.reason


def test_a_remote_open_naming_no_command_is_refused() -> None:
    """What a lane journaled before it sent command ids: no command the hub can take it from."""
    assert _refusal_of(_remote_open("operator-1", command_id=None), _command()).startswith("command_id ")


def test_a_forged_command_id_is_refused() -> None:
    assert "no command by that id" in _refusal_of(
        _remote_open("operator-1", command_id="f0" * 16), _command()
    )


def test_another_devices_command_is_refused() -> None:
    reason = _refusal_of(_remote_open("operator-1"), _command(device_id="lane-t02"))
    assert "no command by that id" in reason


def test_a_command_other_than_a_remote_open_is_refused() -> None:
    assert "is a reboot" in _refusal_of(_remote_open("operator-1"), _command(action="reboot"))


def test_a_second_remote_open_answering_one_command_is_a_replay() -> None:
    replay = _remote_open("operator-1", seq=9)
    assert "answered already, by seq 5" in _refusal_of(replay, _command(answered_by=5))


def test_the_batchs_first_remote_open_claims_an_unanswered_command() -> None:
    first, again = _remote_open("operator-1", seq=7), _remote_open("operator-1", seq=8)
    unanswered = _command(answered_by=None)[COMMAND_ID]
    commands = claimed([unanswered], [again, first, make_event(6)])
    assert commands[COMMAND_ID].answered_by == 7
    assert attribute(first, PLACED, commands) == first
    assert attribute(first, PLACED, commands) == first  # a resend of the answer: the store's duplicate
    assert isinstance(attribute(again, PLACED, commands), Refusal)


def test_a_stored_answer_keeps_its_claim() -> None:
    answered = _command(answered_by=3)[COMMAND_ID]
    assert claimed([answered], [_remote_open("operator-1", seq=4)])[COMMAND_ID].answered_by == 3


def test_another_devices_remote_open_does_not_claim_a_command() -> None:
    unanswered = _command(answered_by=None)[COMMAND_ID]
    foreign = _remote_open("operator-1").model_copy(update={"device_id": "lane-t02"})
    assert claimed([unanswered], [foreign])[COMMAND_ID].answered_by is None


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
