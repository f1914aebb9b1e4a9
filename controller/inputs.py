"""The lane's inputs on gpiozero: the arm's rotation sensor, the fire-alarm loop and the tamper switch.

gpiozero calls ``when_pressed`` from its own thread on a Pi (and from the driving thread with the
mock factory); either way the callback only hands the input to the event loop with
``call_soon_threadsafe``, so the gate machine is only ever touched from the loop thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from gpiozero import Button

from controller.board import BoardProfile, InputPin
from controller.core.gate import GateInput


def _button(spec: InputPin, pin_factory: Any) -> Any:
    if spec.pull_up is None:  # externally pulled: gpiozero needs the active level spelt out
        return Button(spec.pin, pull_up=None, active_state=spec.active_high, pin_factory=pin_factory)
    return Button(spec.pin, pull_up=spec.pull_up, pin_factory=pin_factory)


class LaneInputs:
    def __init__(self, board: BoardProfile, *, pin_factory: Any = None) -> None:
        self._deliver: Callable[[GateInput], None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.devices: dict[str, Any] = {}
        wiring = {
            "rotation": (GateInput.ROTATION, None),
            "fire_alarm": (GateInput.FIRE_ALARM, GateInput.FIRE_CLEARED),
            "tamper": (GateInput.TAMPER, None),
        }
        for name, (on_press, on_release) in wiring.items():
            spec = getattr(board.inputs, name)
            if spec is None:
                continue
            button = _button(spec, pin_factory)
            button.when_pressed = self._bridge(on_press)
            if on_release is not None:
                button.when_released = self._bridge(on_release)
            self.devices[name] = button

    def start(self, deliver: Callable[[GateInput], None], loop: asyncio.AbstractEventLoop) -> None:
        """Begin delivering inputs; a fire alarm already active at start is delivered at once."""
        self._deliver, self._loop = deliver, loop
        if self.fire_alarm_active():
            loop.call_soon(deliver, GateInput.FIRE_ALARM)

    def _bridge(self, event: GateInput) -> Callable[[], None]:
        def callback() -> None:
            loop, deliver = self._loop, self._deliver
            if loop is not None and deliver is not None:
                loop.call_soon_threadsafe(deliver, event)

        return callback

    @property
    def has_rotation_sensor(self) -> bool:
        return "rotation" in self.devices

    def fire_alarm_active(self) -> bool:
        alarm = self.devices.get("fire_alarm")
        return bool(alarm is not None and alarm.is_pressed)

    def close(self) -> None:
        for device in self.devices.values():
            device.close()
