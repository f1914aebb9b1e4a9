"""The controller's clock, injectable: a Pi has no RTC, so every event carries the boot id, the
monotonic clock and whether the wall clock was synchronised when it was stamped.

Synchronisation is read from the kernel (``adjtimex`` reports TIME_ERROR while NTP has not
synchronised the clock), which holds whichever NTP client the image uses.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

_TIME_ERROR = 5
_TIMEX_BUFFER = 512  # larger than struct timex on every Linux ABI; zeroed means "modes = 0, read only"


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


class SystemClock:
    def __init__(self, timezone: str = "Asia/Shanghai") -> None:
        self.zone = ZoneInfo(timezone)
        self.boot_id = read_boot_id()
        self._synced = kernel_clock_synced()
        self._checked = time.monotonic()

    def wall(self) -> datetime:
        return datetime.now(UTC)

    def mono_ns(self) -> int:
        return time.monotonic_ns()

    def now(self) -> datetime:
        """Aware local time at the site: what working hours and card validity are judged by."""
        return datetime.now(self.zone)

    def today(self) -> date:
        return self.now().date()

    def synced(self) -> bool:
        """Re-read at most every 10 s: cheap, and sync status changes rarely."""
        now = time.monotonic()
        if now - self._checked > 10:
            self._synced, self._checked = kernel_clock_synced(), now
        return self._synced
