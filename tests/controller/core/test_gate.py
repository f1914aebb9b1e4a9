"""Every state × every input (h2's habit): the table is total, and its stated rules hold."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from controller.core.gate import TABLE, Effect, GateInput, GateState, Turnstile

ALL = [(s, i) for s in GateState for i in GateInput]
RELAY_ON = {Effect.RELEASE, Effect.OPEN_ALL}
RELAY_OFF = {Effect.LOCK, Effect.CLOSE_ALL}


def test_table_is_total() -> None:
    assert set(TABLE) == set(ALL)


@pytest.mark.parametrize(("state", "event"), ALL, ids=[f"{s}-{i}" for s, i in ALL])
def test_relay_rules(state: GateState, event: GateInput) -> None:
    transition = TABLE[(state, event)]
    effects = set(transition.effects)
    if effects & RELAY_ON:
        assert transition.to in (GateState.GRANTED, GateState.FREE_EGRESS)
    leaving_open = state in (GateState.GRANTED, GateState.FREE_EGRESS) and transition.to not in (
        GateState.GRANTED,
        GateState.FREE_EGRESS,
    )
    assert bool(effects & RELAY_OFF) == leaving_open


def test_fire_alarm_overrides_everything_until_cleared() -> None:
    for state in (GateState.IDLE, GateState.GRANTED, GateState.DENIED):
        assert TABLE[(state, GateInput.FIRE_ALARM)].to is GateState.FREE_EGRESS
    for event in GateInput:
        expected = GateState.IDLE if event is GateInput.FIRE_CLEARED else GateState.FREE_EGRESS
        assert TABLE[(GateState.FREE_EGRESS, event)].to is expected


def test_a_grant_ends_in_passed_or_not_passed() -> None:
    gate = Turnstile()
    assert gate.feed(GateInput.GRANT) == (Effect.INDICATE, Effect.RELEASE)
    assert gate.feed(GateInput.ROTATION) == (Effect.LOCK, Effect.PASSED)
    gate.feed(GateInput.GRANT)
    assert gate.feed(GateInput.TIMEOUT) == (Effect.LOCK, Effect.NOT_PASSED)
    assert gate.state is GateState.IDLE


def test_rotation_without_grant_is_forced() -> None:
    gate = Turnstile()
    assert Effect.FORCED in gate.feed(GateInput.ROTATION)
    gate.feed(GateInput.DENY)
    assert Effect.FORCED in gate.feed(GateInput.ROTATION)


@given(st.lists(st.sampled_from(GateInput), max_size=60))
def test_relay_is_on_exactly_in_the_open_states(events: list[GateInput]) -> None:
    """Replaying effects on a model relay always agrees with the state the machine is in."""
    gate, relay = Turnstile(), False
    for event in events:
        for effect in gate.feed(event):
            if effect in RELAY_ON:
                relay = True
            elif effect in RELAY_OFF:
                relay = False
        assert relay == (gate.state in (GateState.GRANTED, GateState.FREE_EGRESS))
