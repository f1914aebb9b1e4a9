"""Each lane boot's time line: the corrected time of every record, from the lane's monotonic clock.

Pure, no I/O (:mod:`hub.store.clocks` keeps the state between batches). A lane's wall clock can
step (an NTP step, a Pi booting without a real-time clock, a person setting it) while its monotonic
clock and its sequence numbers stay right: invariant 7, the hub corrects or flags times.

A reading the lane trusts (``clock_synced`` and not ``clock_stepped``: the lane marks every reading
its own time line does not vouch for, :mod:`controller.clock`) is believed, and becomes its boot's
anchor. Any other reading is placed where the boot's anchor puts it, the anchor's wall time plus
the monotonic time since; a boot with no anchor yet leaves it at its wall time (flagged by the
record's own fields). So a clock stepped back an hour does not put the exit before the entry.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class Reading:
    seq: int
    mono_ns: int
    wall_time: datetime
    trusted: bool


@dataclass(frozen=True, slots=True)
class BootLine:
    """What the hub keeps of one boot of one device: its latest trusted reading."""

    anchor_seq: int = 0
    anchor_wall: datetime | None = None
    anchor_mono_ns: int = 0

    def place(self, mono_ns: int) -> datetime | None:
        if self.anchor_wall is None:
            return None
        return self.anchor_wall + timedelta(microseconds=(mono_ns - self.anchor_mono_ns) // 1000)


def corrected_times(line: BootLine, readings: Iterable[Reading]) -> tuple[BootLine, dict[int, datetime]]:
    """The corrected time of each reading (by seq) of one boot, and the boot's line after them.

    The anchor is the trusted reading with the highest seq seen (the nearest one for the records
    that follow, which arrive in seq order but for a resend), so drift never accumulates."""
    ordered = sorted(readings, key=lambda r: r.seq)
    for reading in ordered:
        if reading.trusted and reading.seq > line.anchor_seq:
            line = BootLine(reading.seq, reading.wall_time, reading.mono_ns)
    times: dict[int, datetime] = {}
    for reading in ordered:
        placed = None if reading.trusted else line.place(reading.mono_ns)
        times[reading.seq] = reading.wall_time if placed is None else placed
    return line, times
