"""Time as an input: the one clock protocol the lane and the hub read time through.

Working hours, card validity, "today", token lifetimes and order deadlines are all judged on the
time a clock gives, never on a direct ``datetime.now()``: that is what lets a test (or a check that
pins the whole process tree to 00:30 Beijing time) say exactly which instant the code lives in.
Two readings: the wall clock (aware; it can be stepped) and the monotonic clock (never steps; only
good for intervals).
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, tzinfo
from typing import Protocol
from zoneinfo import ZoneInfo

SITE_ZONE = ZoneInfo("Asia/Shanghai")
"""The notice's calendar: what a site manager and a regulator mean by "a day" and "08:00"."""


class Clock(Protocol):
    """What every reader of time needs; the lane's clock adds its boot id and sync state."""

    @property
    def zone(self) -> tzinfo: ...

    def wall(self) -> datetime:
        """Aware UTC: what is stamped on records."""
        ...

    def now(self) -> datetime:
        """Aware, in the site's zone: what hours and dates are judged by."""
        ...

    def today(self) -> date:
        """The site's calendar day."""
        ...

    def mono_ns(self) -> int:
        """Monotonic nanoseconds: intervals and deadlines, immune to a stepped wall clock."""
        ...


class SystemClock:
    """The real clock."""

    def __init__(self, zone: str | tzinfo = SITE_ZONE) -> None:
        self.zone: tzinfo = ZoneInfo(zone) if isinstance(zone, str) else zone

    def wall(self) -> datetime:
        return datetime.now(UTC)

    def now(self) -> datetime:
        return datetime.now(self.zone)

    def today(self) -> date:
        return self.now().date()

    def mono_ns(self) -> int:
        return time.monotonic_ns()
