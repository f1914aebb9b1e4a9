"""The hub's time as this lane last heard it: what a command's expiry is judged by.

A command carries the hub's ``expires_at``. Judged on the lane's own wall clock, a lane whose clock
runs hours ahead (an unsynchronised boot, a wrong RTC) refuses every command as expired, and one
hours behind executes a command the hub gave up on long ago. Every storage ack carries the hub's
wall time when it sent it; the lane keeps the latest with its own monotonic reading, so "the hub's
time now" is that instant plus the monotonic time since: right within the ack's transit (tens of
milliseconds) whatever the lane's wall clock says. An estimate older than :data:`TRUSTED_FOR` is
dropped (monotonic clocks drift about as much as an RTC over days); without one the lane's wall
clock is all there is.
"""

from __future__ import annotations

from datetime import datetime, timedelta

TRUSTED_FOR = timedelta(hours=6)
"""How long an ack's time is extrapolated on the monotonic clock before the lane's wall clock is
believed again (a crystal's 50 ppm is about 1 s in 6 h)."""


class HubTime:
    """Fed by the uplink (:meth:`observe` on each ack), read by the command runner (:meth:`now`)."""

    def __init__(self) -> None:
        self._heard: tuple[datetime, int] | None = None

    def observe(self, hub_at: datetime, mono_ns: int) -> None:
        """The hub said it was ``hub_at`` when this lane's monotonic clock read ``mono_ns``."""
        if self._heard is None or mono_ns >= self._heard[1]:
            self._heard = (hub_at, mono_ns)

    def now(self, mono_ns: int) -> datetime | None:
        """The hub's wall time at ``mono_ns`` on this lane's monotonic clock; None when not heard
        recently enough to say."""
        if self._heard is None:
            return None
        hub_at, heard_ns = self._heard
        since = timedelta(microseconds=(mono_ns - heard_ns) // 1000)
        if since < timedelta(0) or since > TRUSTED_FOR:
            return None
        return hub_at + since
