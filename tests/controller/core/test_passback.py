"""Who is inside and how far to trust it: the passage book, the daily expiry, the site view, and the
anti-passback rule that reads them. Pure: every instant is chosen here."""

from __future__ import annotations

import itertools
from datetime import UTC, time, timedelta

from hypothesis import given
from hypothesis import strategies as st

from controller.core.decision import Lane, Swipe, decide
from controller.core.passback import Passage, PassbackBook, SiteView, inside_expired
from controller.core.policy import AntiPassback, Policy
from controller.core.roster import RosterEntry
from tests.support.clock import site_time
from wire.clock import SITE_ZONE
from wire.models import Caveat, Decision, Direction, Reason
from wire.roles import RosterRole

MORNING = site_time(2026, 11, 24, 10, 0)
EVENING = time(20, 0)


def test_an_entry_expires_at_the_first_cutoff_after_it() -> None:
    assert not inside_expired(MORNING, site_time(2026, 11, 24, 19, 59, 59), EVENING)
    assert inside_expired(MORNING, site_time(2026, 11, 24, 20, 0), EVENING)
    late = site_time(2026, 11, 24, 21, 0)  # a manager who came in after the workers' day
    assert not inside_expired(late, site_time(2026, 11, 25, 19, 59), EVENING)
    assert inside_expired(late, site_time(2026, 11, 25, 20, 0), EVENING)
    exactly = site_time(2026, 11, 24, 20, 0)
    assert not inside_expired(exactly, site_time(2026, 11, 25, 19, 0), EVENING)
    night = site_time(2026, 11, 24, 23, 0)  # a night shift's site: the day ends at 06:00
    assert not inside_expired(night, site_time(2026, 11, 25, 5, 59, 59), time(6))
    assert inside_expired(night, site_time(2026, 11, 25, 6, 0), time(6))


def test_expiry_is_judged_in_the_sites_zone_whatever_zone_the_entry_was_stamped_in() -> None:
    stamped_utc = MORNING.astimezone(UTC)  # how lanes stamp their records
    assert not inside_expired(stamped_utc, site_time(2026, 11, 24, 19, 0), EVENING)
    assert inside_expired(stamped_utc, site_time(2026, 11, 24, 20, 0), EVENING)


@given(
    since_minute=st.integers(0, 3 * 24 * 60),
    since_second=st.integers(0, 59),
    cutoff_minute=st.integers(0, 24 * 60 - 1),
)
def test_every_entry_expires_within_a_day_and_only_at_the_cutoff(
    since_minute: int, since_second: int, cutoff_minute: int
) -> None:
    since = site_time(2026, 11, 24) + timedelta(minutes=since_minute, seconds=since_second)
    cutoff = time(cutoff_minute // 60, cutoff_minute % 60)
    # The first minute at which it has expired: later than the entry, at most a day after it,
    # and on the cutoff's time of day.
    moment = since.replace(second=0) + timedelta(minutes=1)
    while not inside_expired(since, moment, cutoff):
        moment += timedelta(minutes=1)
        assert moment - since <= timedelta(days=1, minutes=1)
    assert moment.astimezone(SITE_ZONE).time() == cutoff
    assert not inside_expired(since, moment - timedelta(seconds=1), cutoff)


def test_the_lane_always_believes_its_own_eyes() -> None:
    book = PassbackBook()
    later = Passage(Direction.OUT, MORNING + timedelta(hours=1), "lane-a2", 7)
    assert book.offer("p-1", later)
    book.record("p-1", Direction.IN, MORNING, seq=3)  # its clock is behind the sibling's: still its own
    assert book.held("p-1") == Passage(Direction.IN, MORNING, None, 3)
    assert book.inside("p-1") is True


def test_a_sibling_passage_counts_only_if_newer() -> None:
    book = PassbackBook([("p-1", Passage(Direction.IN, MORNING, None, 1))])
    older = Passage(Direction.OUT, MORNING - timedelta(minutes=1), "lane-a2", 4)
    same = Passage(Direction.OUT, MORNING, "lane-a2", 5)
    newer = Passage(Direction.OUT, MORNING + timedelta(minutes=1), "lane-a2", 6)
    assert not book.offer("p-1", older) and not book.offer("p-1", same)
    assert book.offer("p-1", newer) and not book.offer("p-1", newer)
    assert book.held("p-1") == newer
    untimed = PassbackBook([("p-2", Direction.IN)])  # from a journal of before passages had times
    assert untimed.offer("p-2", older)


@given(st.permutations(list(range(6))), st.lists(st.integers(0, 5), max_size=6))
def test_any_order_of_arrival_and_any_repeats_leave_the_latest(order: list[int], repeats: list[int]) -> None:
    passages = [
        Passage(
            Direction.IN if n % 2 == 0 else Direction.OUT,
            MORNING + timedelta(minutes=n),
            f"lane-{n % 3}",
            n + 1,
        )
        for n in range(6)
    ]
    book = PassbackBook()
    for n in itertools.chain(order, repeats):
        book.offer("p-1", passages[n])
    assert book.held("p-1") == passages[-1]


def test_only_a_timed_entry_expires() -> None:
    book = PassbackBook(
        [
            ("in", Passage(Direction.IN, MORNING)),
            ("out", Passage(Direction.OUT, MORNING)),
            ("untimed", Passage(Direction.IN, None)),
        ]
    )
    tomorrow = site_time(2026, 11, 25, 7, 0)
    assert book.expired("in", tomorrow, EVENING) == Passage(Direction.IN, MORNING)
    assert book.expired("in", MORNING + timedelta(hours=1), EVENING) is None
    assert book.expired("out", tomorrow, EVENING) is None
    assert book.expired("untimed", tomorrow, EVENING) is None
    assert book.expired("in", tomorrow, None) is None  # expiry off
    assert book.expired("nobody", tomorrow, EVENING) is None


# --- the site view ---------------------------------------------------------------------------------

S = 1_000_000_000


def test_the_view_is_unverified_until_the_answer_to_its_request() -> None:
    view = SiteView(60)
    assert view.problem(0) == "no word from the hub about the site yet"
    view.synced(1 * S, {"lane-a2": timedelta(0)}, answers=None)  # a periodic sync before asking
    assert view.problem(1 * S) == "not yet caught up since connecting"
    view.asked("n1")
    view.synced(2 * S, {"lane-a2": timedelta(0)}, answers="n0")  # answers an older request
    assert not view.verified(2 * S)
    view.synced(3 * S, {"lane-a2": timedelta(0)}, answers="n1")
    assert view.verified(3 * S)
    view.asked("n2")  # reconnected: whatever was relayed meanwhile is lost until caught up
    assert not view.verified(3 * S)


def test_silence_of_the_hub_or_of_a_sibling_beyond_the_bound() -> None:
    view = SiteView(60)
    view.asked("n")
    view.synced(0, {"lane-a2": timedelta(seconds=10), "lane-a3": None}, answers="n")
    assert view.verified(50 * S)  # a sibling never heard (never installed) recorded nothing
    assert view.problem(51 * S) == "lane lane-a2 silent for 61 s"
    view.synced(51 * S, {"lane-a2": timedelta(seconds=1)}, answers=None)
    assert view.verified(110 * S)
    assert view.problem(112 * S) == "no word from the hub about the site for 61 s"
    view.synced(112 * S, {"lane-a2": timedelta(seconds=-5)}, answers=None)  # the hubs' clocks differ
    assert view.verified(112 * S)


def test_a_lane_alone_on_its_site_needs_no_word_to_trust_itself() -> None:
    view = SiteView(60)
    view.asked("n")
    view.synced(0, {}, answers="n")
    assert view.verified(10_000 * S)


# --- the rule ----------------------------------------------------------------------------------------

WORKER = RosterEntry("p-1", RosterRole.WORKER)


def verdict(mode: AntiPassback, direction: Direction, verified: bool, inside: bool | None = True):
    lane = Lane(direction, MORNING, Policy(anti_passback=mode), passback_verified=verified)
    return decide(Swipe(None, None, WORKER, inside=inside), lane)


def test_hard_anti_passback_is_only_as_hard_as_the_lanes_knowledge() -> None:
    refused = verdict(AntiPassback.HARD, Direction.IN, verified=True)
    assert (refused.decision, refused.reason) == (Decision.DENIED, Reason.ANTI_PASSBACK)
    admitted = verdict(AntiPassback.HARD, Direction.IN, verified=False)
    assert (admitted.decision, admitted.warnings) == (
        Decision.GRANTED,
        (Reason.ANTI_PASSBACK, Caveat.PASSBACK_UNVERIFIED),
    )
    assert verdict(AntiPassback.SOFT, Direction.IN, verified=False).warnings == (Reason.ANTI_PASSBACK,)
    assert verdict(AntiPassback.HARD, Direction.IN, verified=False, inside=False).warnings == ()
    assert verdict(AntiPassback.HARD, Direction.OUT, verified=False).warnings == ()
    assert verdict(AntiPassback.OFF, Direction.IN, verified=False).warnings == ()


def test_the_default_policy_forgets_at_the_end_of_the_working_day() -> None:
    assert Policy().inside_expires_at == EVENING
