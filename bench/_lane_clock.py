"""The lane clock the lane benches run on: from a fixed time of day (inside every role's default
working hours) on the latest site date where that time has passed, ticking with the monotonic clock.

A run of minutes stays well inside the day, so a bench gets the same grants at 00:30 as at noon.
Never ahead of the real clock: the hub (a process on the real clock) keeps a record stamped in its
future as clock-suspect and relays no such passage, so at 00:30 a lane at "10:00 today" would have
had none of its passages heard by its siblings; a lane hours behind is a lane whose records arrive
late, which is normal.
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
        now = datetime.now(self.zone)  # the only reading of the real clock
        start = datetime.combine(now.date(), at, tzinfo=self.zone)
        if start > now:
            start = datetime.combine(now.date() - timedelta(days=1), at, tzinfo=self.zone)
        self._start = start.astimezone(UTC)
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
