"""The rules that turn one person's passages into a day of attendance and a presence: pure, no I/O.

A passage is a granted access event of a registered person: ``in`` arrives, ``out`` leaves.
Everything here is a function of the *set* of passages, never of the order they arrived in:
lanes that were offline for days drain late and out of order, and the result must not care.

Days are the site's local calendar day, Asia/Shanghai (what a regulator means by "a day"); an
event at 23:59+08:00 and one at 00:01+08:00 fall on two days.

Attendance of one person on one project on one day:

- ``first_in``: the earliest ``in``; ``last_out``: the latest ``out`` (either may be missing).
- ``passages``: every passage that day.
- ``seconds_on_site``: only *proven* time, each interval's whole seconds. Passages are walked in
  time order; an ``in`` opens an interval and the next ``out`` closes it. An ``in`` after an
  ``in`` restarts the interval at the later one (the person left unrecorded in between, so the
  earlier stretch is not proven). An ``out`` with no open interval (a night shift that began the
  day before) and an ``in`` never closed that day (still inside at midnight, or a forgotten
  swipe-out) count nothing: a forgotten swipe must not credit a whole day. A shift across midnight
  therefore shows as an ``in`` on one day and an ``out`` on the next with no seconds on either.

Presence of one person on one project: the latest passage decides (``on_site`` when it is an
``in``); ``event_time`` is its time; ``since`` is when the current run of passages in that
direction began, counted within the latest passage's local day (a person who swiped in at 08:00
and again at 08:05 is on site since 08:00). "Latest" is ordered by :func:`order_key`, a total
order even for equal times, so any arrival order gives the same row.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from wire.clock import SITE_ZONE, Clock

SECOND = timedelta(seconds=1)


@dataclass(frozen=True, slots=True)
class Passage:
    """A granted access event of a registered person, reduced to what derivation needs."""

    project_id: str
    person_id: str
    wall_time: datetime
    """The event's corrected time (hub.store.timeline): its wall time unless the lane's clock stepped."""
    device_id: str
    arrives: bool
    """``in`` (True) or ``out`` (False)."""


@dataclass(frozen=True, slots=True)
class AttendanceDay:
    project_id: str
    person_id: str
    day: date
    first_in: datetime | None
    last_out: datetime | None
    seconds_on_site: int
    passages: int


@dataclass(frozen=True, slots=True)
class Presence:
    project_id: str
    person_id: str
    on_site: bool
    since: datetime
    device_id: str
    event_time: datetime


PersonKey = tuple[str, str]
"""(project_id, person_id)"""
DayKey = tuple[str, str, date]
"""(project_id, person_id, local day)"""


_recent_day: tuple[datetime, datetime, date] | None = None
"""The UTC bounds [start, end) of the last local day :func:`local_day` worked out, and that day."""


def local_day(instant: datetime) -> date:
    """The site's calendar day of ``instant``.

    Called several times per passage on the ingest's path, where nearly every instant falls on
    the day of the one before: converting with the zone's rules each time was 9 % of the hub's
    CPU. So the last day's bounds are kept, and a conversion is done only outside them.
    """
    global _recent_day
    recent = _recent_day
    if recent is not None and instant.tzinfo is not None and recent[0] <= instant < recent[1]:
        return recent[2]
    day = _converted(instant)
    if instant.tzinfo is not None:
        start, end = day_bounds(day)
        # Only a day whose first and last instants convert back to it (not one cut by an offset
        # change at midnight, which this zone has not had since 1901) is safe to answer from.
        if _converted(start) == day == _converted(end - _TICK):
            _recent_day = (start, end, day)
    return day


_TICK = timedelta(microseconds=1)


def local_today(clock: Clock) -> date:
    """The site's calendar day at the clock's instant: :func:`local_day` of its wall reading, not
    ``clock.today()``, so "today" is the day passages are filed under whatever zone the clock was
    made with."""
    return local_day(clock.wall())


def _converted(instant: datetime) -> date:
    return instant.astimezone(SITE_ZONE).date()


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC instants [start, end) of a local day."""
    start = datetime.combine(day, time(), SITE_ZONE)
    end = datetime.combine(day + timedelta(days=1), time(), SITE_ZONE)
    return start.astimezone(UTC), end.astimezone(UTC)


def order_key(passage: Passage) -> tuple[datetime, str, bool]:
    """Time first; equal times by device, then ``out`` before ``in``: a total order on what matters."""
    return (passage.wall_time, passage.device_id, passage.arrives)


def day_key(passage: Passage) -> DayKey:
    return (passage.project_id, passage.person_id, local_day(passage.wall_time))


def attendance_day(key: DayKey, passages: Iterable[Passage]) -> AttendanceDay:
    """One person-day from all of that day's passages (any order, at least one)."""
    ordered = sorted(passages, key=order_key)
    if not ordered:
        raise ValueError("a day of attendance needs at least one passage")
    project_id, person_id, day = key
    tally = _DayTally(day)
    for passage in ordered:
        tally.add(passage)
    return tally.done(project_id, person_id)


def presence_of(passages: Sequence[Passage]) -> Presence:
    """The presence the latest of ``passages`` says, given every passage of that latest one's day."""
    if not passages:
        raise ValueError("a presence needs at least one passage")
    latest = max(passages, key=order_key)
    latest_day = local_day(latest.wall_time)
    since = latest.wall_time
    for passage in sorted(passages, key=order_key, reverse=True):
        if local_day(passage.wall_time) != latest_day or passage.arrives != latest.arrives:
            break
        since = passage.wall_time
    return Presence(
        project_id=latest.project_id,
        person_id=latest.person_id,
        on_site=latest.arrives,
        since=since,
        device_id=latest.device_id,
        event_time=latest.wall_time,
    )


def derive(passages: Iterable[Passage]) -> tuple[list[AttendanceDay], list[Presence]]:
    """Attendance for every person-day present in ``passages`` (each day given whole) and the
    presence of every person, as far as these passages tell (the caller keeps a newer one)."""
    days: dict[DayKey, list[Passage]] = {}
    for passage in passages:
        days.setdefault(day_key(passage), []).append(passage)
    attendance = [attendance_day(key, day) for key, day in sorted(days.items())]
    latest_day: dict[PersonKey, DayKey] = {}
    for key, day in days.items():
        person = key[:2]
        best = latest_day.get(person)
        if best is None or max(map(order_key, day)) > max(map(order_key, days[best])):
            latest_day[person] = key
    presences = [presence_of(days[key]) for _, key in sorted(latest_day.items())]
    return attendance, presences


def presence_key(presence: Presence) -> tuple[datetime, str, bool]:
    """:func:`order_key` of the passage a presence was taken from."""
    return (presence.event_time, presence.device_id, presence.on_site)


def continue_record(
    latest: Presence, start_day: AttendanceDay | None, passages: Sequence[Passage]
) -> tuple[list[AttendanceDay], Presence] | None:
    """One person's attendance days and presence after ``passages``, carried on from what is
    stored instead of recomputed from every passage; None when that is not possible.

    ``latest`` is the person's stored presence on the project: its passage is the latest stored
    one. ``start_day`` is the stored attendance (if any) of the day the passages start on. When
    every passage comes after ``latest`` (by :func:`order_key`), the walk of
    :func:`attendance_day` and the run of :func:`presence_of` simply go on from where they
    stopped: if the passages start on the latest passage's day, ``start_day`` holds that day's
    counts so far and the open interval, if any, is the latest passage itself (an ``in``); a later
    day has no stored passages at all. The result is then exactly what recomputing from every
    passage gives (``tests/hub/derive`` holds that for generated streams). Anything else (an older
    passage, or stored rows that do not fit) answers None, and the caller recomputes the
    touched days from their passages.
    """
    ordered = sorted(passages, key=order_key)
    if not ordered or order_key(ordered[0]) <= presence_key(latest):
        return None
    days: list[AttendanceDay] = []
    today: _DayTally | None = None
    on_site, since, device_id, event_time = latest.on_site, latest.since, latest.device_id, latest.event_time
    event_day = local_day(event_time)
    for passage in ordered:
        day = local_day(passage.wall_time)
        if today is None:  # the day the passages start on: the latest passage's, or a later one
            if start_day is None and day == event_day:
                return None  # that day has stored passages, so it has an attendance row
            if start_day is not None and (start_day.day != day or day != event_day):
                return None  # a row for a day later than every stored passage
            if start_day is None:
                today = _DayTally(day)
            else:
                today = _DayTally.carried_on(start_day, event_time if on_site else None)
        elif day != today.day:
            days.append(today.done(latest.project_id, latest.person_id))
            today = _DayTally(day)
        today.add(passage)
        if passage.arrives != on_site or day != event_day:
            since = passage.wall_time
        on_site, device_id, event_time, event_day = passage.arrives, passage.device_id, passage.wall_time, day
    assert today is not None
    days.append(today.done(latest.project_id, latest.person_id))
    return days, Presence(latest.project_id, latest.person_id, on_site, since, device_id, event_time)


@dataclass(slots=True)
class _DayTally:
    """The walk of one day's passages in :func:`order_key` order: :func:`attendance_day` runs it
    over a whole day, :func:`continue_record` carries a stored day on with it."""

    day: date
    first_in: datetime | None = None
    last_out: datetime | None = None
    seconds: int = 0
    passages: int = 0
    opened: datetime | None = None

    @classmethod
    def carried_on(cls, stored: AttendanceDay, opened: datetime | None) -> _DayTally:
        return cls(
            stored.day, stored.first_in, stored.last_out, stored.seconds_on_site, stored.passages, opened
        )

    def add(self, passage: Passage) -> None:
        """The next passage in :func:`order_key` order."""
        self.passages += 1
        if passage.arrives:
            self.opened = passage.wall_time
            if self.first_in is None:
                self.first_in = passage.wall_time
            return
        if self.opened is not None:
            self.seconds += (passage.wall_time - self.opened) // SECOND
            self.opened = None
        self.last_out = passage.wall_time

    def done(self, project_id: str, person_id: str) -> AttendanceDay:
        return AttendanceDay(
            project_id, person_id, self.day, self.first_in, self.last_out, self.seconds, self.passages
        )
