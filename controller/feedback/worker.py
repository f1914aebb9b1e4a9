"""Feedback off the decision path: two threads, each fed by a bounded queue that keeps the newest.

The service calls :meth:`Feedback.decided` after the relay has moved; it appends to two small
deques and sets two events, and returns: no lock is held for longer than an append, no I/O is done,
nothing can raise into the decision. The screen thread draws the newest screen and drops the ones
it never got to (counted in ``stale``); the voice thread plays the newest prompt, and a newer one
stops the one still playing. A decision stays on screen for ``hold_s``, then the lane's idle state
comes back (the service reports it through :meth:`Feedback.lane_state`).

A display that is missing or fails, a font that cannot be loaded, a sound device that refuses the
prompt: each is logged once as a lane fault (``faults``), retried every ``RETRY_S`` and logged
again when it recovers. Nothing of it reaches the relay.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from controller.feedback.fonts import Fonts
from controller.feedback.names import MaskedName
from controller.feedback.screens import Screen, screen_for
from controller.feedback.state import LaneFacts, lane_state
from controller.feedback.voice import Levels, Player, Prompts
from wire.clock import Clock
from wire.labels import LaneState, OfficeRead, Subject
from wire.models import Direction, Reason

log = logging.getLogger(__name__)

QUEUE_SIZE = 4
RETRY_S = 30.0
T = TypeVar("T")


class _Newest(Generic[T]):
    """A bounded queue read newest-first: what is older than the newest item is stale and dropped."""

    def __init__(self, size: int = QUEUE_SIZE) -> None:
        self._items: deque[T] = deque(maxlen=size)
        self.ready = threading.Event()
        self.stale = 0

    def put(self, item: T) -> None:
        self._items.append(item)  # a full deque drops its oldest: never blocks
        self.ready.set()

    def take(self) -> T | None:
        self.ready.clear()
        newest = None
        while True:
            try:
                item = self._items.popleft()
            except IndexError:
                return newest
            if newest is not None:
                self.stale += 1
            newest = item


class _Fault:
    """One component's fault: logged when it starts and when it ends, not at every retry."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.message: str | None = None
        self.since = 0.0

    def failed(self, err: BaseException) -> None:
        if self.message is None:
            log.error("lane fault: %s: %s", self.what, err)
        self.message = f"{type(err).__name__}: {err}"
        self.since = time.monotonic()

    def cleared(self) -> None:
        if self.message is not None:
            log.warning("lane fault cleared: %s works again", self.what)
        self.message = None

    def retry_due(self) -> bool:
        return self.message is None or time.monotonic() - self.since >= RETRY_S


class _Worker(Generic[T]):
    """A daemon thread fed by a :class:`_Newest` queue, with its own fault."""

    def __init__(self, name: str, what: str) -> None:
        self.queue: _Newest[T] = _Newest()
        self.fault = _Fault(what)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        raise NotImplementedError

    def _join(self, timeout: float) -> None:
        self._stop.set()
        self.queue.ready.set()
        if self._thread.is_alive():
            self._thread.join(timeout)


class ScreenThread(_Worker[Screen]):
    """Draws screens on a luma device opened (and reopened after a fault) in this thread."""

    def __init__(self, open_device: Callable[[], Any], fonts: Fonts, hold_s: float) -> None:
        super().__init__("sitegate-screen", "display")
        self._open = open_device
        self.fonts = fonts
        self.hold_s = hold_s
        self.device: Any = None
        self.idle: Screen | None = None
        self.shown: Screen | None = None
        self.drawn = 0

    def show(self, screen: Screen) -> None:
        self.queue.put(screen)

    def set_idle(self, screen: Screen) -> None:
        self.idle = screen
        self.queue.ready.set()  # redrawn at once unless a decision is being held

    def close(self, timeout: float = 2.0) -> None:
        self._join(timeout)
        if self.device is not None:
            try:
                self.device.cleanup()
            except Exception as err:  # noqa: BLE001 - a panel gone at shutdown is nothing to stop for
                log.debug("display cleanup: %s", err)

    def _run(self) -> None:
        held_until = 0.0
        while not self._stop.is_set():
            wait = max(0.05, held_until - time.monotonic()) if held_until else RETRY_S
            self.queue.ready.wait(min(wait, RETRY_S))
            if self._stop.is_set():
                return
            screen = self.queue.take()
            now = time.monotonic()
            if screen is not None:
                held_until = now + self.hold_s
            elif held_until and now >= held_until:
                held_until = 0.0
            if screen is None and not held_until:
                screen = self.idle
            if screen is not None and (screen is not self.shown or self.fault.message is not None):
                self._draw(screen)

    def _draw(self, screen: Screen) -> None:
        if self.device is None and not self.fault.retry_due():
            return
        try:
            if self.device is None:
                self.device = self._open()
            from controller.feedback.render import render  # Pillow: imported where drawing happens

            picture = render(screen, self.device.size, self.device.mode, self.fonts)
            self.device.display(picture.image)
        except Exception as err:  # noqa: BLE001 - any driver or font failure is a lane fault, never a crash
            self.fault.failed(err)
            self.device = None
            return
        self.fault.cleared()
        self.shown = screen
        self.drawn += 1


class VoiceThread(_Worker[tuple[Subject, int]]):
    """Plays prompts; the prompts are loaded (and scaled to the site's levels) in this thread."""

    def __init__(self, load: Callable[[], Prompts], player: Player) -> None:
        super().__init__("sitegate-voice", "voice")
        self._load = load
        self.player = player
        self.prompts: Prompts | None = None
        self.muted = 0

    def say(self, subject: Subject, level: int) -> None:
        """``level``: the volume in percent the lane's clock says applies now (0: muted)."""
        self.queue.put((subject, level))
        self.player.stop()  # a signal to the running player, if any: the newer outcome matters

    def close(self, timeout: float = 2.0) -> None:
        self.player.stop()
        self._join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.queue.ready.wait()
            item = self.queue.take()
            if item is None or self._stop.is_set():
                continue
            subject, level = item
            try:
                if self.prompts is None:
                    if not self.fault.retry_due():
                        continue
                    self.prompts = self._load()
                wav = self.prompts.get(subject, level)
                if wav is None:
                    self.muted += 1
                else:
                    self.player.play(wav)
            except Exception as err:  # noqa: BLE001 - no sound card, no player, damaged prompts: a fault
                self.fault.failed(err)
                continue
            self.fault.cleared()


FULL_VOLUME = Levels(100, 100, None)


class Feedback:
    """The lane's screen and voice, in threads of this process; either may be absent (``None``).

    What to show and say is decided here, on the lane's side: the masked name, the idle state
    (debounced), and the volume, judged on the lane's injected clock. :class:`Feedback` draws and
    plays in its own threads; :class:`controller.feedback.process.FeedbackProcess` hands the same
    calls to a child process (overriding :meth:`_show` and :meth:`_idle`), out of the lane's GIL.
    """

    def __init__(
        self,
        *,
        lane: str,
        direction: Direction,
        screen: ScreenThread | None = None,
        voice: VoiceThread | None = None,
        levels: Levels = FULL_VOLUME,
        clock: Clock | None = None,
        offline_grace_s: float = 30.0,
    ) -> None:
        self.lane = lane
        self.direction = direction
        self.screen = screen
        self.voice = voice
        self.levels = levels
        self.clock = clock
        self.offline_grace_s = offline_grace_s
        self.state: LaneState | None = None
        self._offline_since: float | None = None
        self._started = False

    def screen_for(self, subject: Subject, person: MaskedName | None = None) -> Screen:
        return screen_for(subject, lane=self.lane, direction=self.direction, person=person)

    def level(self) -> int:
        """The volume now: the quiet volume during the site's quiet hours, on the lane's clock."""
        return self.levels.volume if self.clock is None else self.levels.now(self.clock)

    def start(self) -> None:
        if self._started:
            return
        self._started = True
        for part in (self.screen, self.voice):
            if part is not None:
                part.start()
        self.lane_state(LaneState.READY)

    def decided(self, reason: Reason, person: MaskedName | None = None) -> None:
        """A decision to show and say; returns at once, whatever the display and the sound card do."""
        self._show(reason, person, self.level())

    def office_read(self, subject: OfficeRead, person: MaskedName | None = None) -> None:
        """An office reader's card read (registration mode): "card read", or "not sent"."""
        self._show(subject, person, self.level())

    def lane_state(self, state: LaneState) -> None:
        """The idle screen; a change is spoken, except the return to ready from starting up."""
        if state is self.state:
            return
        first, self.state = self.state is None, state
        self._idle(state, not (first and state is LaneState.READY), self.level())

    def _show(self, subject: Subject, person: MaskedName | None, level: int) -> None:
        if self.screen is not None:
            self.screen.show(self.screen_for(subject, person))
        if self.voice is not None:
            self.voice.say(subject, level)

    def _idle(self, state: LaneState, speak: bool, level: int) -> None:
        if self.screen is not None:
            self.screen.set_idle(self.screen_for(state))
        if self.voice is not None and speak:
            self.voice.say(state, level)

    def observe(self, facts: LaneFacts, *, online: bool) -> None:
        """One look at the lane: ``online`` is debounced here (a broker restart is not news)."""
        now = time.monotonic()
        if online:
            self._offline_since = None
        elif self._offline_since is None:
            self._offline_since = now
        debounced = online or now - (self._offline_since or now) < self.offline_grace_s
        self.lane_state(
            lane_state(
                LaneFacts(facts.free_egress, facts.journal_ok, facts.disabled, facts.readers_ok, debounced)
            )
        )

    async def watch(self, facts: Callable[[], tuple[LaneFacts, bool]], interval_s: float = 0.5) -> None:
        """Until cancelled: the idle state, from ``facts`` read on the event loop every ``interval_s``."""
        while True:
            try:
                lane, online = facts()
                self.observe(lane, online=online)
                self.tick()
            except Exception as err:  # noqa: BLE001 - the idle screen must never take the lane down
                log.error("feedback: could not read the lane's state: %s", err)
            await asyncio.sleep(interval_s)

    def tick(self) -> None:
        """Housekeeping at every look (the child process's supervision); nothing in-process."""

    @property
    def faults(self) -> list[str]:
        return [
            f"{part.fault.what}: {part.fault.message}"
            for part in (self.screen, self.voice)
            if part is not None and part.fault.message is not None
        ]

    def close(self) -> None:
        for part in (self.screen, self.voice):
            if part is not None:
                part.close()
