"""The time bounds alone (hub.events.time_bounds): which corrected times the hub believes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.events.time_bounds import DEFAULT_BOUNDS, EPOCH, FUTURE_SKEW, Doubt, TimeBounds, doubt
from wire.clock import SITE_ZONE

RECEIVED = datetime(2026, 12, 7, 0, 30, tzinfo=UTC)
ENROLLED = datetime(2026, 3, 1, 9, 0, tzinfo=SITE_ZONE)

instants = st.datetimes(
    min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
allowances = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=2))
enrolments = st.none() | instants


@given(received=instants, late=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=400)))
def test_a_late_record_is_never_suspect_for_being_late(received: datetime, late: timedelta) -> None:
    """A lane offline for days (or a year) delivers old records: only the past bounds judge them."""
    at = received - late
    if at >= EPOCH:
        assert doubt(at, received, None) is None


@given(received=instants, ahead=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30000)))
def test_ahead_of_the_receipt_is_suspect_exactly_beyond_the_skew(
    received: datetime, ahead: timedelta
) -> None:
    found = doubt(received + ahead, received, None)
    assert (found is Doubt.FUTURE) == (ahead > FUTURE_SKEW)


@given(at=instants, received=instants, enrolled=enrolments, skew=allowances, slack=allowances)
def test_the_verdict_is_the_bounds(
    at: datetime, received: datetime, enrolled: datetime | None, skew: timedelta, slack: timedelta
) -> None:
    """Believed exactly when ``at`` lies in [max(epoch, enrolled - slack), received + skew]."""
    bounds = TimeBounds(future_skew=skew, enrolment_slack=slack)
    floor = EPOCH if enrolled is None else max(EPOCH, enrolled - slack)
    assert (doubt(at, received, enrolled, bounds) is None) == (floor <= at <= received + skew)


@given(at=instants, received=instants, enrolled=enrolments, more=allowances)
def test_a_wider_bound_never_makes_a_believed_time_suspect(
    at: datetime, received: datetime, enrolled: datetime | None, more: timedelta
) -> None:
    wider = TimeBounds(future_skew=FUTURE_SKEW + more, enrolment_slack=DEFAULT_BOUNDS.enrolment_slack + more)
    if doubt(at, received, enrolled) is None:
        assert doubt(at, received, enrolled, wider) is None


def test_the_2099_entry_and_the_1971_one_are_suspect() -> None:
    assert doubt(datetime(2099, 1, 1, tzinfo=UTC), RECEIVED, ENROLLED) is Doubt.FUTURE
    assert doubt(datetime(1971, 1, 1, tzinfo=UTC), RECEIVED, None) is Doubt.BEFORE_EPOCH
    assert doubt(datetime(1971, 1, 1, tzinfo=UTC), RECEIVED, ENROLLED) is Doubt.BEFORE_EPOCH


def test_before_the_enrolment_is_suspect_beyond_the_slack_only() -> None:
    slack = DEFAULT_BOUNDS.enrolment_slack
    assert doubt(ENROLLED - slack, RECEIVED, ENROLLED) is None
    assert doubt(ENROLLED - slack - timedelta(microseconds=1), RECEIVED, ENROLLED) is Doubt.BEFORE_ENROLMENT
    # The same instant from a device enrolled before the hub kept enrolment times: the epoch only.
    assert doubt(ENROLLED - timedelta(days=30), RECEIVED, None) is None


def test_the_epoch_is_the_start_of_2020_on_site() -> None:
    assert doubt(EPOCH, RECEIVED, None) is None
    assert doubt(EPOCH - timedelta(microseconds=1), RECEIVED, None) is Doubt.BEFORE_EPOCH
    assert datetime(2019, 12, 31, 16, 0, tzinfo=UTC) == EPOCH


@pytest.mark.parametrize(
    ("at", "received"),
    [
        # Across the site's midnight: an event at 23:59:59 received at 00:05 the next day.
        (datetime(2026, 5, 1, 23, 59, 59, tzinfo=SITE_ZONE), datetime(2026, 5, 2, 0, 5, tzinfo=SITE_ZONE)),
        # A lane a few minutes ahead across midnight: 00:08 stamped, 23:59 received.
        (datetime(2026, 5, 2, 0, 8, tzinfo=SITE_ZONE), datetime(2026, 5, 1, 23, 59, tzinfo=SITE_ZONE)),
        # 29 February, received on 1 March, and a week late into March.
        (datetime(2028, 2, 29, 18, 0, tzinfo=SITE_ZONE), datetime(2028, 3, 1, 0, 0, 1, tzinfo=SITE_ZONE)),
        (datetime(2028, 2, 29, 8, 0, tzinfo=SITE_ZONE), datetime(2028, 3, 7, 8, 0, tzinfo=SITE_ZONE)),
    ],
)
def test_calendar_edges_are_only_arithmetic(at: datetime, received: datetime) -> None:
    assert doubt(at, received, ENROLLED) is None
    assert doubt(at, at - FUTURE_SKEW - timedelta(seconds=1), ENROLLED) is Doubt.FUTURE


def test_bounds_refuse_what_would_believe_nothing_or_everything() -> None:
    with pytest.raises(ValueError, match="negative"):
        TimeBounds(future_skew=timedelta(seconds=-1))
    with pytest.raises(ValueError, match="aware"):
        TimeBounds(epoch=datetime(2020, 1, 1))
