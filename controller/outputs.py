"""The lane's outputs on gpiozero: the relay for this lane's direction, two LEDs and a buzzer.

The pin factory is injected (gpiozero's ``MockFactory`` in tests and the demo, the board's real
factory on a Pi). Relays start de-energised: a turnstile relay opens the arm, so "off" is the
fail-secure state, and :meth:`fail_secure` is what every error path and shutdown calls.
The relay is switched on synchronously (the caller has already journaled the event) and switched
off by a timer on the event loop, so the pulse length does not depend on a gpiozero thread.
"""

from __future__ import annotations

import asyncio
from typing import Any

from gpiozero import LED, Buzzer, DigitalOutputDevice

from controller.board import BoardProfile, OutputPin
from controller.core.indication import Indication
from wire.models import Direction


def _output(cls: type[Any], spec: OutputPin, pin_factory: Any) -> Any:
    return cls(spec.pin, active_high=spec.active_high, initial_value=False, pin_factory=pin_factory)


class LaneOutputs:
    def __init__(
        self,
        board: BoardProfile,
        direction: Direction,
        *,
        pin_factory: Any = None,
        relay_pulse_s: float = 1.0,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        relay_spec = board.outputs.relay_in if direction is Direction.IN else board.outputs.relay_out
        self.relay = _output(DigitalOutputDevice, relay_spec, pin_factory)
        self.green = _output(LED, board.outputs.green_led, pin_factory)
        self.red = _output(LED, board.outputs.red_led, pin_factory)
        self.buzzer = _output(Buzzer, board.outputs.buzzer, pin_factory)
        self.relay_pulse_s = relay_pulse_s
        self._loop = loop
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self.pulses = 0

    def _later(self, name: str, delay: float, action: Any) -> None:
        loop = self._loop or asyncio.get_running_loop()
        previous = self._timers.pop(name, None)
        if previous is not None:
            previous.cancel()
        self._timers[name] = loop.call_later(delay, action)

    def pulse_relay(self) -> None:
        """Release the arm for ``relay_pulse_s`` (a lane without a gate machine driving it)."""
        self.release()
        self._later("relay", self.relay_pulse_s, self.relay.off)

    def release(self) -> None:
        """Relay on until :meth:`lock`: the gate machine decides how long."""
        self.relay.on()
        self.pulses += 1

    def hold_open(self) -> None:
        """Free egress: relay on, not counted as a grant."""
        self._cancel("relay")
        self.relay.on()

    def lock(self) -> None:
        self._cancel("relay")
        self.relay.off()

    def _cancel(self, name: str) -> None:
        timer = self._timers.pop(name, None)
        if timer is not None:
            timer.cancel()

    def indicate(self, indication: Indication) -> None:
        if indication.green_s:
            self.red.off()
            self.green.on()
            self._later("green", indication.green_s, self.green.off)
        if indication.red_s:
            self.green.off()
            self.red.on()
            self._later("red", indication.red_s, self.red.off)
        if indication.beeps:
            self.buzzer.beep(on_time=indication.beep_s, off_time=0.1, n=indication.beeps, background=True)

    def fail_secure(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        self.relay.off()

    def close(self) -> None:
        self.fail_secure()
        for device in (self.relay, self.green, self.red, self.buzzer):
            device.close()
