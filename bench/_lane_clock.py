"""The lane clock the lane benches run on: today's date at the site, from a fixed time of day
(inside every role's default working hours), ticking with the monotonic clock.

A run of minutes stays well inside the day, so a bench gets the same grants at 00:30 as at noon.
It is a ``controller.clock.LaneClock``: the service judges hours and dates by it and stamps events.
Import it after the bench has put the repository root on ``sys.path``.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta, tzinfo
from datetime import time as time_of_day

from wire.clock import SITE_ZONE

BENCH_TIME_OF_DAY = time_of_day(10, 0)


class BenchClock:
    def __init__(self, boot_id: str, at: time_of_day = BENCH_TIME_OF_DAY, zone: tzinfo = SITE_ZONE) -> None:
        self.boot_id = boot_id
        self.zone = zone
        today = datetime.now(self.zone).date()  # the only reading of the real clock: its date
        self._start = datetime.combine(today, at, tzinfo=self.zone).astimezone(UTC)
        self._start_ns = time.monotonic_ns()

    def wall(self) -> datetime:
        return self._start + timedelta(microseconds=(time.monotonic_ns() - self._start_ns) // 1000)

    def now(self) -> datetime:
        return self.wall().astimezone(self.zone)

    def today(self) -> date:
        return self.now().date()

    def mono_ns(self) -> int:
        return time.monotonic_ns()

    def synced(self) -> bool:
        return True
