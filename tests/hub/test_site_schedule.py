"""Which lanes are due a site sync at an instant (hub.site.schedule), on an injected clock: the
first round spread, no periodic sync for a lane alone, a refresh before a live sibling would be
judged silent, at once when a silent one is heard again or the siblings change."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from hub.site.schedule import SyncTiming, Told, due, phase, told
from tests.hub.factories import BASE_TIME

TIMING = SyncTiming()  # silence 90 s, margin 15 s: the longest wait 75 s, the first round 25 s
SITES = {"in-1": "P1", "in-2": "P1", "out-1": "P1", "alone": "P2"}


def siblings(device: str, sites: Mapping[str, str] = SITES) -> tuple[str, ...]:
    return tuple(d for d, p in sites.items() if p == sites[device] and d != device)


def heard(seconds_ago: float, at: datetime = BASE_TIME) -> datetime:
    return at - timedelta(seconds=seconds_ago)


def told_at(
    at: float, device: str, seen: Mapping[str, datetime | None], issued_at: datetime = BASE_TIME
) -> Told:
    return told(at, issued_at, SITES[device], {s: seen.get(s) for s in siblings(device)}, TIMING.silence_s)


def due_at(
    now: float,
    seen: Mapping[str, datetime | None],
    last: Mapping[str, Told],
    sites: Mapping[str, str] = SITES,
) -> list[str]:
    return due(now, sites, lambda d: siblings(d, sites), seen, last, TIMING, started=0.0)


def test_the_first_syncs_are_spread_over_the_first_round() -> None:
    first = {d: phase(d) * TIMING.first_round for d in SITES}
    assert len(set(first)) == len(first) and all(0 <= at < TIMING.first_round == 25 for at in first.values())
    for now in sorted(first.values()):
        assert due_at(now, {}, {}) == sorted(d for d, at in first.items() if at <= now)


def test_a_lane_alone_is_never_due_again() -> None:
    last = {"alone": told_at(0.0, "alone", {})}
    assert "alone" not in due_at(10_000.0, {}, last)


def test_a_live_sibling_is_refreshed_before_the_lane_would_judge_it_silent() -> None:
    """Told at 0 that in-2 was heard 30 s before (out-1 5 s): in-1 judges in-2 silent at 60 s, so
    it is due at 45 s (the margin), once in-2 has been heard since; not every 15 s as before."""
    seen = {"in-1": heard(0), "in-2": heard(30), "out-1": heard(5)}
    last = {d: told_at(0.0, d, seen) for d in SITES}
    later = {**seen, "in-2": heard(-20), "out-1": heard(-25), "in-1": heard(-25)}  # heartbeats since
    assert due_at(44.9, later, last) == []
    assert due_at(45.0, later, last) == ["in-1", "out-1"]  # both hold in-2's 30 s age
    assert due_at(60.0, later, last) == ["in-1", "out-1"]
    assert due_at(69.9, seen, last) == []  # nobody heard since: a sync would only repeat it
    assert due_at(75.0, seen, last) == ["in-1", "in-2", "out-1"]  # the longest wait, heard or not


def test_a_silent_sibling_heard_again_is_news_at_once() -> None:
    seen = {"in-1": heard(0), "in-2": heard(0), "out-1": heard(200)}  # out-1 silent past the bound
    last = {d: told_at(0.0, d, seen) for d in SITES}
    assert due_at(1.0, seen, last) == []
    back = {**seen, "out-1": heard(-1)}
    assert due_at(1.0, back, last) == ["in-1", "in-2"]


def test_a_sibling_never_heard_before_is_news_once_heard() -> None:
    seen: dict[str, datetime | None] = {"in-1": heard(0), "in-2": heard(0), "out-1": None}
    last = {d: told_at(0.0, d, seen) for d in ("in-1", "in-2", "alone")}
    assert due_at(30.0, seen, last) == ["out-1"]  # never told: its first round came
    assert due_at(30.0, {**seen, "out-1": heard(-1)}, last) == ["in-1", "in-2", "out-1"]


def test_a_change_of_siblings_or_project_is_due_at_once() -> None:
    seen = {d: heard(0) for d in SITES}
    last = {d: told_at(0.0, d, seen) for d in SITES}
    assert due_at(1.0, seen, last) == []
    grown = {**SITES, "in-3": "P1", "moved": "P2"}
    assert [d for d in due_at(1.0, seen, last, grown) if d in SITES] == ["alone", "in-1", "in-2", "out-1"]
    last["alone"] = told_at(0.0, "in-1", seen)  # told as if on P1
    assert due_at(1.0, seen, last) == ["alone"]


def test_the_ages_are_the_hubs_wall_clock_the_waits_its_monotonic_one() -> None:
    """A wall clock stepped forward (a test's fake one) changes the told ages, not the waits."""
    issued = BASE_TIME + timedelta(hours=5)
    seen = {"in-1": heard(20, issued), "in-2": heard(20, issued), "out-1": heard(20, issued)}
    last = {"in-1": told_at(100.0, "in-1", seen, issued_at=issued)}
    assert last["in-1"].silent_at == {"in-2": 170.0, "out-1": 170.0}
    assert TIMING.tick_s == 5.0 and SyncTiming(longest_s=0.2).tick_s == 0.1
