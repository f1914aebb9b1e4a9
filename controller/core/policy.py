"""A project's access policy: the knobs the rules read, as one frozen value.

Defaults are the conservative choice for a construction site: hard anti-passback, workers admitted
06:00-20:00, managers and supervision staff at any hour, card UIDs alone not accepted (a UID is a
binding key, never proof of identity: a lane needs the ID module's certified read unless the
project decides otherwise), and an "inside" that no exit has cleared forgotten at the end of the
working day (20:00), so a missed exit never locks anyone out beyond that day.

Night work (夜间施工): a project with a night-work permit for some dates admits the permitted roles
outside their working hours, inside the permit's window, on those dates (:func:`night_permit`).
The hub sets all of this per project and signs it with the roster
(:mod:`controller.roster_rules`); a lane's own configuration holds only the bootstrap default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from types import MappingProxyType

from wire.roles import RosterRole


class AntiPassback(StrEnum):
    OFF = "off"
    SOFT = "soft"
    """Admit, but record the violation as a warning on the event."""
    HARD = "hard"
    """Refuse a second entry until an exit has been recorded."""


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """Local wall-clock window; ``end`` before ``start`` spans midnight (a night shift)."""

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start == self.end:
            raise ValueError("a working-hours window needs a start and an end that differ")

    def contains(self, moment: time) -> bool:
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


def parse_window(text: str) -> TimeWindow:
    """``"HH:MM-HH:MM"`` (checked by the caller's pattern) as a window; ValueError when the two ends
    are the same."""
    start, end = (time.fromisoformat(part) for part in text.split("-"))
    return TimeWindow(start, end)


@dataclass(frozen=True, slots=True)
class NightWork:
    """A night-work permit (夜间施工许可): its window, on the site-local dates it covers.

    A window that spans midnight counts for the date it starts on: a permit for 1-3 March with
    22:00-06:00 admits from 22:00 on 1 March to 06:00 on 4 March, and not at 01:00 on 1 March.
    """

    permit: str
    first_date: date
    last_date: date
    window: TimeWindow
    roles: frozenset[RosterRole] = frozenset()
    """The roles it admits; empty: every role whose hours would refuse."""

    def covers(self, role: RosterRole, moment: datetime) -> bool:
        """``moment`` is site-local (the lane's ``now``)."""
        if self.roles and role not in self.roles:
            return False
        clock = moment.time()
        if not self.window.contains(clock):
            return False
        starts_on = moment.date()
        if self.window.end < self.window.start and clock < self.window.end:
            starts_on -= timedelta(days=1)  # the early hours belong to the night that began yesterday
        return self.first_date <= starts_on <= self.last_date


def night_permit(night_work: tuple[NightWork, ...], role: RosterRole, moment: datetime) -> NightWork | None:
    """The first permit that admits ``role`` at site-local ``moment``, or None."""
    return next((permit for permit in night_work if permit.covers(role, moment)), None)


DEFAULT_HOURS: Mapping[RosterRole, TimeWindow] = MappingProxyType(
    {RosterRole.WORKER: TimeWindow(time(6), time(20))}
)


def end_of_working_day(hours: Mapping[RosterRole, TimeWindow]) -> time:
    """When the site's day ends, for forgetting unexited entries: the end of the workers' window;
    without one, the latest end of any window; with no hours at all, midnight."""
    worker = hours.get(RosterRole.WORKER)
    if worker is not None:
        return worker.end
    return max((window.end for window in hours.values()), default=time(0))


@dataclass(frozen=True, slots=True)
class Policy:
    anti_passback: AntiPassback = AntiPassback.HARD
    working_hours: Mapping[RosterRole, TimeWindow] = field(default_factory=lambda: DEFAULT_HOURS)
    """Roles absent from the map have no hour limit (managers, supervision staff)."""
    accept_uid_only: bool = False
    inside_expires_at: time | None = time(20)
    """Site-local time of day after which an entry recorded before it no longer counts for
    anti-passback (see :mod:`controller.core.passback`); None keeps it until an exit."""
    night_work: tuple[NightWork, ...] = ()
    """Night-work permits: outside their hours, the roles they name are admitted inside a permit's
    window on its dates (with a warning on the record, see :mod:`controller.core.decision`)."""
