"""The lane's feedback, wired from its configuration and board: in a child process on a real lane,
in threads of the lane's own process on mock pins (tests, the demo).

Why a child process: drawing a 240×240 frame is tens of milliseconds of Python and C that hold
the interpreter lock (luma turns the frame into a list and hands spidev 4 KB at a time), and a
swipe arriving meanwhile would wait for it. In a process of its own the screen and the voice cannot
delay a decision, whatever they do; the lane only writes one short line to a pipe.

Nothing here touches hardware: the display is opened, and the prompts loaded, by the feedback
threads once the lane runs, so a missing panel or sound card cannot delay or stop the lane's start.
"""

from __future__ import annotations

import functools
from typing import Any

from pydantic import BaseModel, ConfigDict

from controller.board import BoardProfile, DisplaySpec
from controller.config import ControllerConfig, DisplayConfig, VoiceConfig
from controller.feedback.display import NullSpi, open_emulator, open_panel
from controller.feedback.fonts import Fonts
from controller.feedback.voice import Levels, Player, Prompts
from controller.feedback.worker import Feedback, ScreenThread, VoiceThread
from wire.clock import Clock
from wire.models import Direction


class FeedbackSetup(BaseModel):
    """Everything the feedback threads need, as one value (the child process receives it as JSON)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    lane: str
    direction: Direction
    display: DisplayConfig | None
    """``None``: no screen (disabled, or a board without a panel)."""
    panel: DisplaySpec | None
    emulate_display: bool
    voice: VoiceConfig | None
    """``None``: silent."""
    mock_pins: bool = False
    null_bus: bool = False
    """The bench: the real panel driver on :class:`~controller.feedback.display.NullSpi`."""

    @property
    def levels(self) -> Levels:
        if self.voice is None:
            return Levels(100, 100, None)
        return Levels(self.voice.volume, self.voice.quiet_volume, self.voice.quiet_window())


def feedback_setup(config: ControllerConfig, board: BoardProfile) -> FeedbackSetup:
    display, voice = config.display, config.voice
    mock = config.pin_factory == "mock"
    emulated = display.device == "emulator" or (display.device == "auto" and mock)
    has_screen = display.enabled and (emulated or board.display is not None)
    silent = voice.output == "none" or (voice.output == "auto" and mock)
    return FeedbackSetup(
        lane=config.lane,
        direction=config.direction,
        display=display if has_screen else None,
        panel=board.display,
        emulate_display=emulated,
        voice=voice if voice.enabled and not silent else None,
        mock_pins=mock,
    )


def screen_thread(setup: FeedbackSetup, *, pin_factory: Any = None) -> ScreenThread | None:
    if setup.display is None:
        return None
    if setup.emulate_display or setup.panel is None:
        opener = functools.partial(open_emulator, setup.panel)
    else:
        bus = NullSpi() if setup.null_bus else None
        opener = functools.partial(open_panel, setup.panel, pin_factory=pin_factory, bus=bus)
    return ScreenThread(opener, Fonts(setup.display.font), setup.display.decision_s)


def voice_thread(setup: FeedbackSetup) -> VoiceThread | None:
    if setup.voice is None:
        return None
    player = Player(["aplay", "-q", "-D", setup.voice.alsa_device])
    return VoiceThread(functools.partial(Prompts, setup.voice.prompts_dir, setup.levels), player)


def local_feedback(setup: FeedbackSetup, *, clock: Clock | None, pin_factory: Any = None) -> Feedback | None:
    """The threads in this process; ``None`` when there is neither a screen nor a voice."""
    screen, voice = screen_thread(setup, pin_factory=pin_factory), voice_thread(setup)
    if screen is None and voice is None:
        return None
    grace = setup.display.offline_grace_s if setup.display is not None else 30.0
    return Feedback(
        lane=setup.lane,
        direction=setup.direction,
        screen=screen,
        voice=voice,
        levels=setup.levels,
        clock=clock,
        offline_grace_s=grace,
    )


def build_feedback(
    config: ControllerConfig,
    board: BoardProfile,
    *,
    clock: Clock,
    pin_factory: Any = None,
    isolate: bool | None = None,
) -> Feedback | None:
    """``isolate``: a child process (the default on real pins) or threads here (the default on
    mock pins, whose screens a test can then look at). ``None`` when there is nothing to drive."""
    setup = feedback_setup(config, board)
    if setup.display is None and setup.voice is None:
        return None
    if isolate is None:
        isolate = not setup.mock_pins
    if not isolate:
        return local_feedback(setup, clock=clock, pin_factory=pin_factory)
    from controller.feedback.process import FeedbackProcess

    return FeedbackProcess(setup, clock=clock)
