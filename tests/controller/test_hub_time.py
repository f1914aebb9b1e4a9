"""The hub's time from its acks, extrapolated on the lane's monotonic clock for a while."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from controller.hub_time import TRUSTED_FOR, HubTime

HUB_AT = datetime(2028, 2, 29, 16, 30, tzinfo=UTC)  # 00:30 on 1 March, Beijing
S = 1_000_000_000


def test_nothing_heard_says_nothing() -> None:
    assert HubTime().now(5 * S) is None


def test_the_hubs_time_goes_on_with_the_monotonic_clock() -> None:
    hub = HubTime()
    hub.observe(HUB_AT, 100 * S)
    assert hub.now(100 * S) == HUB_AT
    assert hub.now(161 * S) == HUB_AT + timedelta(seconds=61)


def test_an_older_ack_arriving_late_does_not_move_it_back() -> None:
    hub = HubTime()
    hub.observe(HUB_AT, 100 * S)
    hub.observe(HUB_AT - timedelta(hours=1), 90 * S)
    assert hub.now(100 * S) == HUB_AT


def test_an_estimate_too_old_or_from_before_is_dropped() -> None:
    hub = HubTime()
    hub.observe(HUB_AT, 100 * S)
    trusted_ns = int(TRUSTED_FOR.total_seconds()) * S
    assert hub.now(100 * S + trusted_ns) == HUB_AT + TRUSTED_FOR
    assert hub.now(100 * S + trusted_ns + S) is None
    assert hub.now(99 * S) is None
