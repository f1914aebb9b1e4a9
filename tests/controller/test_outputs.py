import asyncio

import pytest
from gpiozero.pins.mock import MockFactory

from controller.board import load_board
from controller.core.indication import INDICATIONS, indication_for
from controller.outputs import LaneOutputs
from wire.models import Direction, Reason


@pytest.fixture
def factory():
    factory = MockFactory()
    yield factory
    factory.reset()


async def test_relay_pulses_on_the_lane_direction_and_falls_back_off(factory) -> None:
    board = load_board("rpi4")
    outputs = LaneOutputs(board, Direction.OUT, pin_factory=factory, relay_pulse_s=0.05)
    relay_out = factory.pin(board.outputs.relay_out.pin)
    relay_in = factory.pin(board.outputs.relay_in.pin)
    assert relay_out.state is False
    outputs.pulse_relay()
    assert relay_out.state is True
    assert relay_in.state is False  # an exit lane never touches the entry relay
    await asyncio.sleep(0.1)
    assert relay_out.state is False
    outputs.close()


async def test_fail_secure_cuts_a_pulse_short(factory) -> None:
    board = load_board("rpi4")
    outputs = LaneOutputs(board, Direction.IN, pin_factory=factory, relay_pulse_s=10)
    outputs.pulse_relay()
    outputs.fail_secure()
    assert factory.pin(board.outputs.relay_in.pin).state is False
    outputs.close()


async def test_denial_lights_red_and_beeps(factory) -> None:
    board = load_board("rpi4")
    outputs = LaneOutputs(board, Direction.IN, pin_factory=factory)
    outputs.indicate(indication_for(Reason.NOT_REGISTERED))
    assert factory.pin(board.outputs.red_led.pin).state is True
    assert factory.pin(board.outputs.green_led.pin).state is False
    await asyncio.sleep(0.05)
    buzzer = factory.pin(board.outputs.buzzer.pin)
    assert any(state for _, state in buzzer.states)
    outputs.close()


def test_every_reason_has_an_indication() -> None:
    assert set(INDICATIONS) == set(Reason)
    assert all(i.red_s > 0 for r, i in INDICATIONS.items() if r is not Reason.GRANTED)
