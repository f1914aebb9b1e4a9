"""The one fake clock the tests share: a real object with a settable, advanceable instant.

It serves both the lane (``controller.clock.LaneClock``: boot id and sync state too) and the hub
(``wire.clock.Clock``). The monotonic reading moves with ``advance`` and never with ``set``, as on a
real machine whose wall clock is stepped.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo

from wire.clock import SITE_ZONE


class FakeClock:
    def __init__(
        self,
        at: datetime,
        *,
        zone: tzinfo = SITE_ZONE,
        boot_id: str = "5b1d2e3f-0000-4000-8000-fakeclock000",
        synced: bool = True,
        mono_ns: int = 1_000_000_000,
    ) -> None:
        if at.tzinfo is None:
            raise ValueError("FakeClock needs an aware instant")
        self.zone = zone
        self.boot_id = boot_id
        self._at = at.astimezone(UTC)
        self._mono_ns = mono_ns
        self._synced = synced

    def wall(self) -> datetime:
        return self._at

    def now(self) -> datetime:
        return self._at.astimezone(self.zone)

    def today(self) -> date:
        return self.now().date()

    def mono_ns(self) -> int:
        return self._mono_ns

    def synced(self) -> bool:
        return self._synced

    def set(self, at: datetime) -> None:
        """Step the wall clock (as NTP or a person would); monotonic time does not move."""
        if at.tzinfo is None:
            raise ValueError("FakeClock needs an aware instant")
        self._at = at.astimezone(UTC)

    def advance(self, delta: timedelta | float) -> None:
        """Let time pass: both readings move together."""
        step = delta if isinstance(delta, timedelta) else timedelta(seconds=delta)
        self._at += step
        self._mono_ns += int(step.total_seconds() * 1e9)

    def advance_to(self, at: datetime) -> None:
        """Let time pass until ``at`` (both readings move: not a step, which :meth:`set` is)."""
        if at.tzinfo is None:
            raise ValueError("FakeClock needs an aware instant")
        if at < self._at:
            raise ValueError("time passes forwards: use set to step the clock back")
        self.advance(at - self._at)

    def set_synced(self, synced: bool) -> None:
        self._synced = synced


def site_time(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """An aware instant on the site's calendar (Beijing time), the way tests talk about shifts."""
    return datetime(year, month, day, hour, minute, second, tzinfo=SITE_ZONE)
