"""The lane's defensible time: what its date and hour rules are judged on. Pure, no I/O.

A Pi has no real-time clock and its wall clock can step (an NTP step, a person setting it, a bad
fake-hwclock file). Its monotonic clock cannot. So the lane keeps a *line*: an anchor (a wall time
it believes, and the monotonic reading then), and places every instant at the anchor plus the
monotonic time since. Each reading of the wall clock is judged against that line:

- within :data:`TOLERANCE` of it: believed; a synchronised reading moves the anchor (drift never
  accumulates);
- off the line and the clock has *just become* synchronised (unsynchronised at the reading before,
  or the line was never synchronised this boot): NTP's correction, believed; the step is reported
  (but not a boot's first synchronisation, which every Pi without a real-time clock makes);
- off the line otherwise (a step while synchronised, a clock set by hand while unsynchronised): not
  believed; the lane keeps its line, marks what it records ``clock_stepped`` and reports the step
  once (again only if it moves further).

At start, a line synchronised now starts at the wall clock. One that is not starts at the last
synchronised time the lane saved plus the monotonic time since boot (the least time that can have
passed: a lower bound), or, with nothing saved, at the wall clock (the lane has no better time: its
records carry ``clock_synced`` false for the hub to flag). Whatever the line says, the defensible
time is never earlier than the lane's last journaled record (``floor``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

TOLERANCE = timedelta(seconds=2)
"""Well above NTP's slewing and a Pi's drift between two readings; well below any step that matters
to a date or hour rule."""


@dataclass(frozen=True, slots=True)
class Reading:
    wall: datetime
    mono_ns: int
    synced: bool


@dataclass(frozen=True, slots=True)
class Line:
    anchor_wall: datetime
    anchor_mono_ns: int
    synced: bool
    """The anchor came from a synchronised reading of this boot."""
    last_synced: bool
    """Whether the latest reading judged was synchronised (a false → true change is NTP's word)."""
    reported: timedelta = timedelta(0)
    """The step last reported, so one step is reported once."""

    def place(self, mono_ns: int) -> datetime:
        return self.anchor_wall + timedelta(microseconds=(mono_ns - self.anchor_mono_ns) // 1000)


@dataclass(frozen=True, slots=True)
class Judged:
    line: Line
    at: datetime
    """The defensible time of the reading."""
    stepped: bool
    """The wall clock is off the line and not believed: what is recorded now is ``clock_stepped``."""
    step: timedelta | None = None
    """A step to report now (wall minus line, + forward)."""


def start(reading: Reading, last_synced: datetime | None) -> Line:
    """The line at the lane's start (see the module). An unsynchronised wall clock that differs from
    the lower bound is not reported as a step: the downtime is unknown, not a jump."""
    if reading.synced or last_synced is None:
        return Line(reading.wall, reading.mono_ns, reading.synced, reading.synced)
    line = Line(last_synced, 0, False, False)
    return replace(line, reported=reading.wall - line.place(reading.mono_ns))


def judge(line: Line, reading: Reading, floor: datetime | None = None) -> Judged:
    """The defensible time of ``reading`` on ``line``, and the line after it."""
    off = reading.wall - line.place(reading.mono_ns)
    if abs(off) <= TOLERANCE:
        if reading.synced:
            line = Line(reading.wall, reading.mono_ns, True, True)
        else:
            line = replace(line, last_synced=False, reported=timedelta(0))
        return _floored(Judged(line, reading.wall, stepped=False), floor)
    if reading.synced and not (line.synced and line.last_synced):
        believed = Line(reading.wall, reading.mono_ns, True, True)
        step = off if line.synced else None  # a boot's first synchronisation is not a step
        return _floored(Judged(believed, reading.wall, stepped=False, step=step), floor)
    new_step = abs(off - line.reported) > TOLERANCE
    line = replace(line, last_synced=reading.synced, reported=off if new_step else line.reported)
    return _floored(
        Judged(line, line.place(reading.mono_ns), stepped=True, step=off if new_step else None), floor
    )


def _floored(judged: Judged, floor: datetime | None) -> Judged:
    if floor is None or judged.at >= floor:
        return judged
    return replace(judged, at=floor)
