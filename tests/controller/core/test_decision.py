"""The rule table, one row per rule and per interaction worth naming; then properties over all inputs."""

from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from controller.core.decision import RULES, Lane, Swipe, decide
from controller.core.policy import AntiPassback, Policy, TimeWindow
from controller.core.roster import RosterEntry
from wire.models import Decision, Direction, Reason
from wire.roles import RosterRole

CST = timezone(timedelta(hours=8))
NOW = datetime(2026, 11, 24, 9, 30, tzinfo=CST)
TODAY = NOW.date()
WORKER = RosterEntry("p-1", RosterRole.WORKER, entry_date=date(2026, 1, 1), exit_date=date(2026, 12, 31))
MANAGER = RosterEntry("p-2", RosterRole.MANAGER)
VISITOR = RosterEntry(
    "p-3", RosterRole.VISITOR, pass_from=NOW - timedelta(hours=1), pass_until=NOW + timedelta(hours=1)
)
IN = Lane(Direction.IN, NOW)
OUT = Lane(Direction.OUT, NOW)
NIGHT = NOW.replace(hour=22)
SOFT = Policy(anti_passback=AntiPassback.SOFT)


def ok(entry=WORKER, **facts) -> Swipe:
    return Swipe(None, None, entry, **facts)


@pytest.mark.parametrize(
    ("swipe", "lane", "reason"),
    [
        (ok(), IN, Reason.GRANTED),
        (Swipe(None, TODAY, WORKER), IN, Reason.GRANTED),  # valid through today inclusive
        (Swipe("check digit is 3, expected 7", None, WORKER), IN, Reason.INVALID_ID_NUMBER),
        (Swipe(None, TODAY - timedelta(days=1), WORKER), IN, Reason.CARD_EXPIRED),
        (ok(None), IN, Reason.NOT_REGISTERED),
        (
            ok(RosterEntry("p", RosterRole.WORKER, entry_date=TODAY + timedelta(1))),
            IN,
            Reason.ASSIGNMENT_NOT_STARTED,
        ),
        (
            ok(RosterEntry("p", RosterRole.WORKER, exit_date=TODAY - timedelta(1))),
            IN,
            Reason.ASSIGNMENT_ENDED,
        ),
        (ok(RosterEntry("p", RosterRole.WORKER, entry_date=TODAY, exit_date=TODAY)), IN, Reason.GRANTED),
        (ok(watchlisted=True), IN, Reason.WATCHLISTED),
        (ok(None, watchlisted=True), OUT, Reason.WATCHLISTED),  # a hit needs no roster entry
        (ok(), Lane(Direction.IN, NOW, disabled=True), Reason.LANE_DISABLED),
        (ok(uid_only=True), IN, Reason.CREDENTIAL_NOT_ACCEPTED),
        (ok(uid_only=True), Lane(Direction.IN, NOW, Policy(accept_uid_only=True)), Reason.GRANTED),
        # working hours: workers 06:00-20:00 on entry; managers exempt; exits never refused for hours
        (ok(), Lane(Direction.IN, NIGHT), Reason.OUTSIDE_HOURS),
        (ok(), Lane(Direction.OUT, NIGHT), Reason.GRANTED),
        (ok(MANAGER), Lane(Direction.IN, NIGHT), Reason.GRANTED),
        (ok(VISITOR), IN, Reason.GRANTED),
        (ok(VISITOR), Lane(Direction.IN, NOW + timedelta(hours=2)), Reason.OUTSIDE_HOURS),
        (
            ok(RosterEntry("p", RosterRole.VISITOR)),
            IN,
            Reason.OUTSIDE_HOURS,
        ),  # a visitor without a pass window
        # anti-passback: a second entry without an exit
        (ok(inside=True), IN, Reason.ANTI_PASSBACK),
        (ok(inside=True), OUT, Reason.GRANTED),
        (ok(inside=False), IN, Reason.GRANTED),
        (ok(inside=True), Lane(Direction.IN, NOW, SOFT), Reason.GRANTED),
        (ok(inside=True), Lane(Direction.IN, NOW, Policy(anti_passback=AntiPassback.OFF)), Reason.GRANTED),
        # the first objection wins
        (Swipe("bad", TODAY - timedelta(days=1), None), IN, Reason.INVALID_ID_NUMBER),
        (Swipe(None, TODAY - timedelta(days=1), None), IN, Reason.CARD_EXPIRED),
        (
            Swipe("bad", None, None, watchlisted=True),
            Lane(Direction.IN, NOW, disabled=True),
            Reason.WATCHLISTED,
        ),
    ],
)
def test_rules_table(swipe: Swipe, lane: Lane, reason: Reason) -> None:
    verdict = decide(swipe, lane)
    assert verdict.reason is reason
    assert verdict.decision is (Decision.GRANTED if reason is Reason.GRANTED else Decision.DENIED)


def test_watchlist_hit_raises_an_alert_and_nothing_else_does() -> None:
    assert decide(ok(watchlisted=True), IN).alert
    assert not decide(ok(None), IN).alert


def test_soft_anti_passback_admits_with_a_warning() -> None:
    verdict = decide(ok(inside=True), Lane(Direction.IN, NOW, SOFT))
    assert verdict.granted and verdict.warnings == (Reason.ANTI_PASSBACK,)
    assert decide(ok(inside=False), Lane(Direction.IN, NOW, SOFT)).warnings == ()


def test_invalid_number_detail_is_reported_but_other_denials_carry_none() -> None:
    assert (
        decide(Swipe("check digit is 3, expected 7", None, None), IN).detail == "check digit is 3, expected 7"
    )
    assert decide(ok(None), IN).detail == ""


@pytest.mark.parametrize(
    ("window", "inside", "outside"),
    [
        (TimeWindow(time(6), time(20)), [time(6), time(19, 59)], [time(5, 59), time(20), time(23)]),
        (TimeWindow(time(22), time(6)), [time(22), time(1), time(5, 59)], [time(6), time(12), time(21, 59)]),
    ],
)
def test_time_windows_including_night_shifts(window: TimeWindow, inside, outside) -> None:
    assert all(window.contains(t) for t in inside)
    assert not any(window.contains(t) for t in outside)


def test_empty_window_refused() -> None:
    with pytest.raises(ValueError, match="differ"):
        TimeWindow(time(6), time(6))


dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 1, 1))
moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC))
entries = st.none() | st.builds(
    RosterEntry,
    st.just("p"),
    st.sampled_from(RosterRole),
    st.none() | dates,
    st.none() | dates,
    st.none() | moments,
    st.none() | moments,
)
swipes = st.builds(
    Swipe,
    st.none() | st.just("bad"),
    st.none() | dates,
    entries,
    st.booleans(),
    st.booleans(),
    st.none() | st.booleans(),
)
lanes = st.builds(
    Lane,
    st.sampled_from(Direction),
    moments,
    st.builds(
        Policy,
        st.sampled_from(AntiPassback),
        st.just({RosterRole.WORKER: TimeWindow(time(6), time(20))}),
        st.booleans(),
    ),
    st.booleans(),
)


@given(swipes, lanes)
def test_granted_only_when_no_rule_objects_hard(swipe: Swipe, lane: Lane) -> None:
    verdict = decide(swipe, lane)
    objections = []
    for rule in RULES:
        if swipe.entry is None and rule.__name__ in (
            "_assignment_current",
            "_within_hours",
            "_anti_passback",
        ):
            continue
        objections.append(rule(swipe, lane))
    hard = [o for o in objections if o is not None and o.hard]
    if verdict.granted:
        assert not hard and swipe.entry is not None and not swipe.watchlisted and not lane.disabled
        assert verdict.warnings == tuple(o.reason for o in objections if o is not None and not o.hard)
    else:
        assert verdict.reason is hard[0].reason
        assert verdict.alert == hard[0].alert


@given(swipes, moments)
def test_exits_are_never_refused_for_hours_or_passback(swipe: Swipe, now: datetime) -> None:
    verdict = decide(swipe, Lane(Direction.OUT, now))
    assert verdict.reason not in (Reason.OUTSIDE_HOURS, Reason.ANTI_PASSBACK)
