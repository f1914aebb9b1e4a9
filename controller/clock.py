"""The lane's clock, injectable: a Pi has no RTC, so every event carries the boot id, the
monotonic clock and whether the wall clock was synchronised when it was stamped.

:class:`LaneClock` is :class:`wire.clock.Clock` (the one protocol lane and hub read time through)
plus those two facts; the lane service is typed on it, so a test hands a lane
``tests.support.clock.FakeClock`` and says exactly which instant it lives in. :class:`SystemClock`
is the real one. Synchronisation is read from the kernel (``adjtimex`` reports TIME_ERROR while
NTP has not synchronised the clock), which holds whichever NTP client the image uses.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import uuid
from datetime import tzinfo
from pathlib import Path
from typing import Protocol

from wire import clock as wire_clock
from wire.clock import SITE_ZONE, Clock

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
