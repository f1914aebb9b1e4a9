"""The pure rules of hub.derive.days: days in Asia/Shanghai, proven time only, the latest passage wins."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.derive.days import (
    Passage,
    attendance_day,
    day_bounds,
    derive,
    local_day,
    local_today,
    presence_of,
)
from tests.hub.clocked import AFTER_MIDNIGHT, BEFORE_MIDNIGHT, LEAP_DAY
from tests.support.clock import FakeClock
from wire.clock import SITE_ZONE

CST = timezone(timedelta(hours=8))
DAY = date(2026, 5, 1)


def at(hour: int, minute: int = 0, *, day: date = DAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=CST)


def passage(when: datetime, arrives: bool, *, device: str = "lane-a", person: str = "per-1") -> Passage:
    return Passage("proj-1", person, when, device, arrives)


def day_of(*passages: Passage) -> tuple[int, datetime | None, datetime | None, int]:
    result = attendance_day(("proj-1", "per-1", DAY), passages)
    return result.seconds_on_site, result.first_in, result.last_out, result.passages


@pytest.mark.parametrize(
    ("instant", "today"),
    [
        (BEFORE_MIDNIGHT, date(2026, 12, 6)),
        (AFTER_MIDNIGHT, date(2026, 12, 7)),  # 16:30 UTC on the 6th
        (LEAP_DAY, date(2028, 2, 29)),
    ],
)
def test_local_today_is_the_sites_day_whatever_zone_the_clock_reads_in(
    instant: datetime, today: date
) -> None:
    assert local_today(FakeClock(instant)) == today
    assert local_today(FakeClock(instant, zone=UTC)) == today  # not the UTC clock's own today()
    assert local_today(FakeClock(instant + timedelta(days=1))) == today + timedelta(days=1)


def test_the_hub_has_one_site_zone() -> None:
    assert SITE_ZONE is SITE_ZONE


def test_local_day_is_shanghai_not_utc() -> None:
    assert local_day(at(23, 59)) == DAY
    assert local_day(at(0, 1, day=DAY + timedelta(days=1))) == DAY + timedelta(days=1)
    # 23:59+08:00 is 15:59Z, 00:01+08:00 is 16:01Z on the *same* UTC day.
    assert at(23, 59).astimezone(UTC).date() == at(0, 1, day=DAY + timedelta(days=1)).astimezone(UTC).date()
    start, end = day_bounds(DAY)
    assert start == datetime(2026, 4, 30, 16, tzinfo=UTC)
    assert end == datetime(2026, 5, 1, 16, tzinfo=UTC)


instants = st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
) | st.builds(
    lambda day, ms: datetime.combine(day, datetime.min.time(), SITE_ZONE) + timedelta(milliseconds=ms),
    st.dates(min_value=date(1900, 1, 2), max_value=date(2099, 12, 30)),
    st.sampled_from([-1, 0, 1, 86_399_999, 86_400_000]),
)


@given(st.lists(instants, min_size=1, max_size=30))
def test_local_day_answers_from_its_last_day_only_what_conversion_would(seq: list[datetime]) -> None:
    """The remembered day's bounds never answer for an instant outside it, in any order, in any
    year the zone's rules cover (including the 1901 offset change and 1986-91 summer time)."""
    for instant in seq:
        assert local_day(instant) == instant.astimezone(SITE_ZONE).date()


def test_in_out_pairs_are_summed() -> None:
    seconds, first_in, last_out, count = day_of(
        passage(at(8), True), passage(at(12), False), passage(at(13), True), passage(at(17, 30), False)
    )
    assert seconds == (4 * 60 + 4 * 60 + 30) * 60
    assert (first_in, last_out, count) == (at(8), at(17, 30), 4)


def test_an_in_never_closed_counts_nothing() -> None:
    seconds, first_in, last_out, _ = day_of(
        passage(at(8), True), passage(at(12), False), passage(at(13), True)
    )
    assert seconds == 4 * 3600
    assert (first_in, last_out) == (at(8), at(12))
    assert day_of(passage(at(22), True))[0] == 0


def test_an_out_without_an_in_that_day_counts_nothing() -> None:
    seconds, first_in, last_out, _ = day_of(
        passage(at(6), False), passage(at(8), True), passage(at(9), False)
    )
    assert seconds == 3600
    assert (first_in, last_out) == (at(8), at(9))


def test_an_in_after_an_in_restarts_the_interval() -> None:
    assert day_of(passage(at(8), True), passage(at(13), True), passage(at(17), False))[0] == 4 * 3600
    # and a second out after the interval closed adds nothing
    assert day_of(passage(at(8), True), passage(at(9), False), passage(at(10), False))[0] == 3600


def test_order_of_the_input_does_not_matter() -> None:
    day = [passage(at(8), True), passage(at(12), False, device="lane-b"), passage(at(13), True)]
    assert attendance_day(("proj-1", "per-1", DAY), day) == attendance_day(
        ("proj-1", "per-1", DAY), reversed(day)
    )


def test_an_empty_day_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        attendance_day(("proj-1", "per-1", DAY), [])


def test_presence_is_the_latest_passage_and_since_the_start_of_its_run() -> None:
    p = presence_of([passage(at(7), False), passage(at(8), True), passage(at(8, 5), True, device="lane-b")])
    assert p.on_site
    assert (p.since, p.event_time, p.device_id) == (at(8), at(8, 5), "lane-b")
    left = presence_of([passage(at(8), True), passage(at(17), False)])
    assert not left.on_site
    assert left.since == left.event_time == at(17)


def test_equal_times_are_ordered_by_device_then_in_after_out() -> None:
    same = at(9)
    assert (
        presence_of([passage(same, False, device="lane-b"), passage(same, True, device="lane-a")]).device_id
        == "lane-b"
    )
    assert presence_of([passage(same, False), passage(same, True)]).on_site


def test_derive_splits_days_at_local_midnight_and_keeps_the_newest_presence() -> None:
    late = passage(at(23, 59), True)
    early = passage(at(0, 1, day=DAY + timedelta(days=1)), False)
    days, presences = derive([early, late])
    assert [(d.day, d.first_in, d.last_out, d.seconds_on_site) for d in days] == [
        (DAY, at(23, 59), None, 0),
        (DAY + timedelta(days=1), None, early.wall_time, 0),
    ]
    assert len(presences) == 1
    assert not presences[0].on_site
    assert presences[0].event_time == early.wall_time
