"""The lane's clock, injectable: a Pi has no RTC, so every event carries the boot id, the
monotonic clock and whether the wall clock was synchronised when it was stamped.

:class:`LaneClock` is :class:`wire.clock.Clock` (the one protocol lane and hub read time through)
plus those two facts; the lane service is typed on it, so a test hands a lane
``tests.support.clock.FakeClock`` and says exactly which instant it lives in. :class:`SystemClock`
is the real one. Synchronisation is read from the kernel (``adjtimex`` reports TIME_ERROR while
NTP has not synchronised the clock), which holds whichever NTP client the image uses.

:class:`LaneTime` is the time the lane's rules are judged on: the clock's wall time while it stays
on the lane's monotonic line, the line's time when it steps (:mod:`controller.core.timeline`).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import logging
import uuid
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Protocol

from controller.atomic_storage import DamagedFile, read_json, write_atomically
from controller.core import timeline
from wire import clock as wire_clock
from wire.clock import SITE_ZONE, Clock

log = logging.getLogger(__name__)

_TIME_ERROR = 5
_TIMEX_BUFFER = 512  # larger than struct timex on every Linux ABI; zeroed means "modes = 0, read only"
_RECHECK_NS = 10_000_000_000


class LaneClock(Clock, Protocol):
    """What a lane stamps on its records besides the time: which boot, and whether to trust the wall."""

    boot_id: str

    def synced(self) -> bool:
        """Whether the wall clock was synchronised (NTP) when read: the hub corrects or flags times."""
        ...


def read_boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return str(uuid.uuid4())


def kernel_clock_synced() -> bool:
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name, use_errno=True)
        buf = ctypes.create_string_buffer(_TIMEX_BUFFER)
        state = libc.adjtimex(buf)
    except (OSError, AttributeError):
        return False
    return bool(state >= 0 and state != _TIME_ERROR)


class SystemClock(wire_clock.SystemClock):
    """The real clock of the machine the lane runs on, with its boot id and the kernel's sync state."""

    def __init__(self, zone: str | tzinfo = SITE_ZONE) -> None:
        super().__init__(zone)
        self.boot_id = read_boot_id()
        self._synced = kernel_clock_synced()
        self._checked_ns = self.mono_ns()

    def synced(self) -> bool:
        """Re-read at most every 10 s: cheap, and sync status changes rarely."""
        now = self.mono_ns()
        if now - self._checked_ns > _RECHECK_NS:
            self._synced, self._checked_ns = kernel_clock_synced(), now
        return self._synced


_SAVE_EVERY_NS = 60_000_000_000
"""How often the last synchronised time is saved: a lower bound a minute stale is as good, and
an SD card should not be written on every swipe."""


class LaneTime:
    """The lane's defensible time (:mod:`controller.core.timeline`) over its clock: what the date
    and hour rules are judged on. The last synchronised time and the time of the last journaled
    record are saved in ``path`` (the lane's data directory), durably, so that a boot with no
    synchronised clock starts from them; a failing disk costs the save, never the lane."""

    def __init__(self, clock: LaneClock, path: Path) -> None:
        self.clock = clock
        self.path = path
        saved = self._load()
        self.last_synced: datetime | None = saved.get("last_synced")
        self.floor: datetime | None = saved.get("floor")
        self._saved_ns: int | None = None
        self._steps: list[timedelta] = []
        self.line = timeline.start(self._reading(), self.last_synced)
        self.stepped = False
        self.now()

    def _reading(self) -> timeline.Reading:
        return timeline.Reading(self.clock.wall(), self.clock.mono_ns(), self.clock.synced())

    def now(self) -> datetime:
        """The defensible time now, in the clock's zone; notes a step to report (:meth:`steps`)."""
        reading = self._reading()
        judged = timeline.judge(self.line, reading, self.floor)
        self.line, self.stepped = judged.line, judged.stepped
        if judged.step is not None:
            self._steps.append(judged.step)
        if reading.synced and not judged.stepped:
            self.last_synced = judged.at
            self._save_now_and_then()
        return judged.at.astimezone(self.clock.now().tzinfo)

    def steps(self) -> list[timedelta]:
        """The steps noticed since last asked (each to be journaled once)."""
        steps, self._steps = self._steps, []
        return steps

    def recorded(self, at: datetime) -> None:
        """A record was journaled at defensible time ``at``: no later time may be earlier."""
        if self.floor is None or at > self.floor:
            self.floor = at
        self._save_now_and_then()

    def _save_now_and_then(self) -> None:
        now = self.clock.mono_ns()
        if self._saved_ns is not None and now - self._saved_ns < _SAVE_EVERY_NS:
            return
        self._saved_ns = now
        body = {name: value.isoformat() for name, value in self._saved().items() if value is not None}
        try:
            write_atomically(self.path, json.dumps(body).encode())
        except OSError as err:
            log.warning("could not save the lane's time line: %s", err)

    def _saved(self) -> dict[str, datetime | None]:
        return {"last_synced": self.last_synced, "floor": self.floor}

    def _load(self) -> dict[str, datetime]:
        try:
            body = read_json(self.path)
            return {
                name: datetime.fromisoformat(body[name]) for name in ("last_synced", "floor") if name in body
            }
        except FileNotFoundError:
            return {}
        except (DamagedFile, ValueError, TypeError) as err:
            log.error("the lane's saved time line is unusable (%s): starting without it", err)
            return {}
