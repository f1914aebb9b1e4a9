"""The lane service tells the worker why, after the relay, and a broken screen never refuses a door."""

from __future__ import annotations

import asyncio
import random
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory
from PIL import Image

from controller.board import load_board
from controller.cli import build_service
from controller.config import parse_config
from controller.core.cards import ReadFailure
from controller.core.gate import GateInput
from controller.core.roster import RosterEntry
from controller.feedback.names import mask_name
from controller.feedback.render import Fonts
from controller.feedback.worker import Feedback, ScreenThread
from controller.roster_store import save_roster
from controller.service import LaneService
from hardware.emulators.identities import synthetic_identity
from tests.support.clock import FakeClock, site_time
from wire.credential import credential_hash
from wire.labels import LaneState
from wire.models import Decision, Direction, Reason
from wire.roles import RosterRole

KEY = bytes(range(32))
OPENING = site_time(2026, 11, 24, 10, 0)


class BrokenPanel:
    size = (240, 240)
    mode = "RGB"

    def display(self, image: Image.Image) -> None:
        raise OSError("SPI transfer failed")

    def cleanup(self) -> None:
        pass


class Recorder(Feedback):
    """The real Feedback, noting what the relay was doing when each decision reached it."""

    def __init__(self, relay: Any, **kw: Any) -> None:
        super().__init__(lane="A1", direction=Direction.IN, **kw)
        self.relay = relay
        self.told: list[tuple[Reason, str | None, int]] = []

    def decided(self, reason: Reason, person: Any = None) -> None:
        self.told.append((reason, person, self.relay.state))
        super().decided(reason, person)


def lane(tmp_path: Path, extra: str = "") -> tuple[LaneService, MockFactory, Any]:
    rng = random.Random(5)
    worker_card = synthetic_identity(rng)
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "k").write_text(KEY.hex())
    save_roster(
        tmp_path / "roster.json",
        1,
        "P1",
        [(credential_hash(KEY, worker_card.id_number), RosterEntry("p-1", RosterRole.WORKER))],
        [],
    )
    config = parse_config(
        f'device_id = "lane-a1"\nproject_id = "P1"\nlane = "A1"\ndirection = "in"\npin_factory = "mock"\n'
        f'data_dir = "{tmp_path}"\nsite_key_file = "{tmp_path}/k"\nrelay_pulse_s = 5\n'
        f'[readers.id_module]\nport = "/dev/null"\n{extra}'
    )
    pins = MockFactory()
    service = build_service(config, pin_factory=pins, clock=FakeClock(OPENING))
    return service, pins, worker_card


def test_build_service_gives_a_mock_pin_lane_an_emulated_screen_and_no_voice(tmp_path: Path) -> None:
    service, _, _ = lane(tmp_path)
    try:
        assert service.feedback is not None and service.feedback.screen is not None
        assert service.feedback.voice is None  # mock pins: nothing plays on the test machine
    finally:
        service.close()
    off, _, _ = lane(tmp_path / "off", "[display]\nenabled = false\n[voice]\nenabled = false\n")
    try:
        assert off.feedback is None
    finally:
        off.close()


def test_the_relay_moves_before_the_worker_is_told_and_the_name_is_masked(tmp_path: Path) -> None:
    service, pins, card = lane(tmp_path)
    relay = pins.pin(load_board("rpi4").outputs.relay_in.pin)
    recorder = Recorder(relay, screen=ScreenThread(lambda: BrokenPanel(), Fonts(), hold_s=1))
    service.feedback = recorder

    async def swipe() -> None:
        event = service.handle(card)
        assert event.decision is Decision.GRANTED

    try:
        asyncio.run(swipe())
        assert recorder.told == [(Reason.GRANTED, mask_name(card.name), 1)]  # relay already driven
        assert card.name not in str(recorder.told) and card.id_number not in str(recorder.told)
    finally:
        service.close()


def test_a_failing_display_never_refuses_a_door(tmp_path: Path) -> None:
    service, pins, card = lane(tmp_path)
    relay = pins.pin(load_board("rpi4").outputs.relay_in.pin)
    assert service.feedback is not None
    service.feedback = Feedback(
        lane="A1", direction=Direction.IN, screen=ScreenThread(lambda: BrokenPanel(), Fonts(), hold_s=0.1)
    )

    async def run() -> None:
        task = asyncio.create_task(service.run())
        await asyncio.sleep(0.05)
        for _ in range(5):
            service.outputs.lock()
            assert service.handle(card).decision is Decision.GRANTED
            assert relay.state == 1
            service.feed(GateInput.TIMEOUT)
        for _ in range(250):  # the screen thread reports its fault within 5 s
            if service.feedback and service.feedback.faults:
                break
            await asyncio.sleep(0.02)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    try:
        asyncio.run(run())
        assert service.feedback.faults == ["display: OSError: SPI transfer failed"]
    finally:
        service.close()


def state_of(feedback: Feedback) -> LaneState | None:
    return feedback.state  # read afresh: the lane changes it while the test awaits


class QuietReader:
    """A healthy reader nobody presents a card to; ``healthy`` is the test's to change."""

    name = "id-module"
    healthy = True

    async def cards(self) -> Any:
        await asyncio.Event().wait()
        yield  # pragma: no cover - makes this an async generator


def full_disk() -> None:
    raise sqlite3.OperationalError("database or disk is full")


def test_the_idle_screen_follows_the_lane(tmp_path: Path) -> None:
    service, _, _ = lane(tmp_path)
    reader = QuietReader()
    service.sources = [reader]
    feedback = service.feedback
    assert feedback is not None and feedback.screen is not None

    async def run() -> None:
        task = asyncio.create_task(service.run())
        try:
            await asyncio.sleep(0.1)
            assert feedback.state is LaneState.READY
            reader.healthy = False
            await asyncio.sleep(0.7)
            assert state_of(feedback) is LaneState.READER_FAULT
            reader.healthy = True
            service.feed(GateInput.FIRE_ALARM)
            await asyncio.sleep(0.7)
            assert state_of(feedback) is LaneState.FIRE_ALARM
            service.feed(GateInput.FIRE_CLEARED)
            service.journal_fault = "disk full"
            service.journal.probe = full_disk  # type: ignore[method-assign]  # still full when probed
            await asyncio.sleep(0.7)
            assert state_of(feedback) is LaneState.SYSTEM_FAULT
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    try:
        asyncio.run(run())
        screen = feedback.screen
        deadline = time.monotonic() + 5
        while (
            screen.shown is None or screen.shown.subject is not LaneState.SYSTEM_FAULT
        ) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert screen.shown is not None and screen.shown.subject is LaneState.SYSTEM_FAULT
        assert screen.device is not None and screen.device.image.getbbox() is not None
    finally:
        service.close()


def test_an_unreadable_card_is_told_too(tmp_path: Path) -> None:
    service, pins, _ = lane(tmp_path)
    relay = pins.pin(load_board("rpi4").outputs.relay_in.pin)
    recorder = Recorder(relay)
    service.feedback = recorder

    class OneFailure:
        name = "id-module"
        healthy = True

        async def cards(self) -> Any:
            yield ReadFailure("id-module", "bad frame")

    service.sources = [OneFailure()]

    async def run() -> None:
        await service._consume(service.sources[0])

    try:
        asyncio.run(run())
        assert recorder.told == [(Reason.UNREADABLE_CARD, None, 0)]
    finally:
        service.close()
