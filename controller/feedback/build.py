"""The lane's :class:`~controller.feedback.worker.Feedback`, wired from its configuration and board.

Nothing here touches hardware: the display is opened, and the prompts loaded, by the feedback
threads once the lane runs, so a missing panel or sound card cannot delay or stop the lane's start.
"""

from __future__ import annotations

import functools
from typing import Any

from controller.board import BoardProfile
from controller.config import ControllerConfig
from controller.feedback.display import open_emulator, open_panel
from controller.feedback.render import Fonts
from controller.feedback.voice import Levels, Player, Prompts
from controller.feedback.worker import Feedback, ScreenThread, VoiceThread
from wire.clock import Clock


def _screen(config: ControllerConfig, board: BoardProfile, pin_factory: Any) -> ScreenThread | None:
    display = config.display
    if not display.enabled:
        return None
    emulated = display.device == "emulator" or (display.device == "auto" and config.pin_factory == "mock")
    if emulated:
        opener = functools.partial(open_emulator, board.display)
    elif board.display is None:
        return None  # a board without a panel: nothing to drive
    else:
        opener = functools.partial(open_panel, board.display, pin_factory=pin_factory)
    return ScreenThread(opener, Fonts(display.font), display.decision_s)


def _voice(config: ControllerConfig, clock: Clock) -> VoiceThread | None:
    voice = config.voice
    silent = voice.output == "none" or (voice.output == "auto" and config.pin_factory == "mock")
    if not voice.enabled or silent:
        return None
    levels = Levels(voice.volume, voice.quiet_volume, voice.quiet_window())
    player = Player(["aplay", "-q", "-D", voice.alsa_device])
    return VoiceThread(functools.partial(Prompts, voice.prompts_dir, levels), player, levels, clock)


def build_feedback(
    config: ControllerConfig, board: BoardProfile, *, clock: Clock, pin_factory: Any = None
) -> Feedback | None:
    """``None`` when the lane has neither a screen nor a voice to drive."""
    screen = _screen(config, board, pin_factory)
    voice = _voice(config, clock)
    if screen is None and voice is None:
        return None
    return Feedback(
        lane=config.lane,
        direction=config.direction,
        screen=screen,
        voice=voice,
        offline_grace_s=config.display.offline_grace_s,
    )
