"""A project's access policy: the knobs the rules read, as one frozen value.

Defaults are the conservative choice for a construction site: hard anti-passback, workers admitted
06:00-20:00, managers and supervision staff at any hour, card UIDs alone not accepted (a UID is a
binding key, never proof of identity: a lane needs the ID module's certified read unless the
project decides otherwise), and an "inside" that no exit has cleared forgotten at the end of the
working day (20:00), so a missed exit never locks anyone out beyond that day.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
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
