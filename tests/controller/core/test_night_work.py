"""Night work (夜间施工): a permit admits outside working hours, inside its window, on its dates.

The dates are site-local, and a window that spans midnight counts for the date it starts on. The
named moments (00:30, 23:59:59, across midnight, 29 February, the permit's last day) are examples;
the properties hold the rule to a reference over every moment of a few days around a permit.
"""

from datetime import date, datetime, time, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from controller.core.decision import Lane, Swipe, decide
from controller.core.policy import NightWork, Policy, TimeWindow, night_permit
from controller.core.roster import RosterEntry
from wire.models import Caveat, Decision, Direction, Reason
from wire.roles import RosterRole

CST = timezone(timedelta(hours=8))
LEAP_NIGHTS = NightWork("NW-2024-001", date(2024, 2, 28), date(2024, 2, 29), TimeWindow(time(22), time(6)))
EVENING = NightWork("NW-2024-002", date(2024, 2, 29), date(2024, 2, 29), TimeWindow(time(20), time(23, 59)))
WORKER = RosterEntry("p-1", RosterRole.WORKER)
POLICY = Policy(night_work=(LEAP_NIGHTS,))


def at(day: int, hour: int, minute: int = 0, second: int = 0, month: int = 2) -> datetime:
    return datetime(2024, month, day, hour, minute, second, tzinfo=CST)


@pytest.mark.parametrize(
    ("moment", "covered"),
    [
        (at(28, 0, 30), False),  # 00:30 on the first date belongs to the night of the 27th
        (at(28, 22), True),  # the first night starts on the first date
        (at(28, 23, 59, 59), True),
        (at(29, 0, 30), True),  # 00:30 on 29 February: the night that began on the 28th
        (at(29, 5, 59, 59), True),
        (at(29, 6), False),  # the window's end is outside it
        (at(29, 12), False),
        (at(29, 23, 59, 59), True),  # the last date's night starts on the last date...
        (at(1, 0, 30, month=3), True),  # ...and runs across midnight into 1 March
        (at(1, 22, month=3), False),  # a night starting after the last date
        (at(27, 23), False),  # a night starting before the first date
    ],
)
def test_a_window_across_midnight_counts_for_the_date_it_starts(moment: datetime, covered: bool) -> None:
    assert LEAP_NIGHTS.covers(RosterRole.WORKER, moment) is covered


@pytest.mark.parametrize(
    ("moment", "covered"),
    [
        (at(29, 20), True),
        (at(29, 23, 58, 59), True),
        (at(29, 23, 59), False),  # a same-day window ends at its end
        (at(28, 21), False),
        (at(1, 21, month=3), False),
    ],
)
def test_a_window_within_the_day_on_the_permits_last_day(moment: datetime, covered: bool) -> None:
    assert EVENING.covers(RosterRole.WORKER, moment) is covered


def test_a_permit_naming_roles_admits_only_those() -> None:
    welders = NightWork("NW-1", date(2024, 2, 28), date(2024, 2, 29), TimeWindow(time(22), time(6)))
    managers_only = NightWork(
        "NW-2",
        date(2024, 2, 28),
        date(2024, 2, 29),
        TimeWindow(time(22), time(6)),
        frozenset({RosterRole.MANAGER}),
    )
    assert welders.covers(RosterRole.SUPERVISOR, at(28, 23))
    assert not managers_only.covers(RosterRole.WORKER, at(28, 23))
    assert night_permit((managers_only, welders), RosterRole.WORKER, at(28, 23)) is welders
    assert night_permit((managers_only,), RosterRole.WORKER, at(28, 23)) is None


def test_outside_hours_inside_a_permit_is_granted_with_the_night_work_caveat() -> None:
    verdict = decide(Swipe(None, None, WORKER), Lane(Direction.IN, at(29, 0, 30), POLICY))
    assert verdict.decision is Decision.GRANTED
    assert verdict.warnings == (Reason.OUTSIDE_HOURS, Caveat.NIGHT_WORK)


def test_within_hours_no_permit_is_needed_and_none_is_recorded() -> None:
    verdict = decide(Swipe(None, None, WORKER), Lane(Direction.IN, at(29, 9), POLICY))
    assert (verdict.decision, verdict.warnings) == (Decision.GRANTED, ())


def test_outside_hours_and_outside_every_permit_is_refused() -> None:
    verdict = decide(Swipe(None, None, WORKER), Lane(Direction.IN, at(1, 22, month=3), POLICY))
    assert verdict.reason is Reason.OUTSIDE_HOURS


def test_a_permit_does_not_lift_the_other_rules() -> None:
    ended = RosterEntry("p-1", RosterRole.WORKER, exit_date=date(2024, 2, 27))
    verdict = decide(Swipe(None, None, ended), Lane(Direction.IN, at(28, 23), POLICY))
    assert verdict.reason is Reason.ASSIGNMENT_ENDED


def _reference(permit: NightWork, moment: datetime) -> bool:
    """Walk the nights: the one starting on each permitted date, at its start, for its length."""
    start, end = permit.window.start, permit.window.end
    length = (datetime.combine(date.min, end) - datetime.combine(date.min, start)) % timedelta(days=1)
    day = permit.first_date
    while day <= permit.last_date:
        opens = datetime.combine(day, start, tzinfo=moment.tzinfo)
        if opens <= moment < opens + length:
            return True
        day += timedelta(days=1)
    return False


times = st.times().map(lambda t: t.replace(second=0, microsecond=0))


@given(
    first=st.dates(min_value=date(2024, 2, 20), max_value=date(2024, 3, 5)),
    days=st.integers(min_value=0, max_value=5),
    start=times,
    end=times,
    offset=st.integers(min_value=-3 * 24 * 3600, max_value=10 * 24 * 3600),
)
def test_covers_agrees_with_walking_the_nights(
    first: date, days: int, start: time, end: time, offset: int
) -> None:
    if start == end:
        return
    permit = NightWork("NW-1", first, first + timedelta(days=days), TimeWindow(start, end))
    moment = datetime.combine(first, time(0), tzinfo=CST) + timedelta(seconds=offset)
    assert permit.covers(RosterRole.WORKER, moment) is _reference(permit, moment)


@given(moment=st.datetimes(min_value=datetime(2024, 2, 27), max_value=datetime(2024, 3, 2)))
def test_a_worker_is_admitted_at_night_exactly_when_a_permit_covers_the_moment(moment: datetime) -> None:
    now = moment.replace(tzinfo=CST)
    verdict = decide(Swipe(None, None, WORKER), Lane(Direction.IN, now, POLICY))
    in_hours = POLICY.working_hours[RosterRole.WORKER].contains(now.time())
    assert verdict.granted is (in_hours or LEAP_NIGHTS.covers(RosterRole.WORKER, now))
    assert (Caveat.NIGHT_WORK in verdict.warnings) is (verdict.granted and not in_hours)
