from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from controller.core.decision import RULES, Swipe, decide
from controller.core.roster import Role, RosterEntry
from wire.models import Decision, Reason

TODAY = date(2026, 11, 24)
WORKER = RosterEntry("p-1", Role.WORKER, entry_date=date(2026, 1, 1), exit_date=date(2026, 12, 31))


@pytest.mark.parametrize(
    ("swipe", "reason"),
    [
        (Swipe(None, None, WORKER), Reason.GRANTED),
        (Swipe(None, TODAY, WORKER), Reason.GRANTED),  # valid through today inclusive
        (Swipe("check digit is 3, expected 7", None, WORKER), Reason.INVALID_ID_NUMBER),
        (Swipe(None, TODAY - timedelta(days=1), WORKER), Reason.CARD_EXPIRED),
        (Swipe(None, None, None), Reason.NOT_REGISTERED),
        (
            Swipe(None, None, RosterEntry("p", Role.WORKER, entry_date=TODAY + timedelta(1))),
            Reason.ASSIGNMENT_NOT_STARTED,
        ),
        (
            Swipe(None, None, RosterEntry("p", Role.WORKER, exit_date=TODAY - timedelta(1))),
            Reason.ASSIGNMENT_ENDED,
        ),
        (Swipe(None, None, RosterEntry("p", Role.WORKER, entry_date=TODAY, exit_date=TODAY)), Reason.GRANTED),
        # the first objection wins: an invalid number is reported even if the card is also expired
        (Swipe("bad", TODAY - timedelta(days=1), None), Reason.INVALID_ID_NUMBER),
        (Swipe(None, TODAY - timedelta(days=1), None), Reason.CARD_EXPIRED),
    ],
)
def test_rules_table(swipe: Swipe, reason: Reason) -> None:
    verdict = decide(swipe, TODAY)
    assert verdict.reason is reason
    assert verdict.granted == (reason is Reason.GRANTED)
    assert verdict.decision is (Decision.GRANTED if reason is Reason.GRANTED else Decision.DENIED)


def test_invalid_number_detail_is_reported_but_other_denials_carry_none() -> None:
    assert (
        decide(Swipe("check digit is 3, expected 7", None, None), TODAY).detail
        == "check digit is 3, expected 7"
    )
    assert decide(Swipe(None, None, None), TODAY).detail == ""


dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 1, 1))
entries = st.none() | st.builds(
    RosterEntry, st.just("p"), st.sampled_from(Role), st.none() | dates, st.none() | dates
)


@given(st.none() | st.just("bad"), st.none() | dates, entries, dates)
def test_granted_only_when_no_rule_objects(problem, valid_to, entry, today) -> None:
    swipe = Swipe(problem, valid_to, entry)
    verdict = decide(swipe, today)
    objections = [
        r(swipe, today) for r in RULES if swipe.entry is not None or r.__name__ != "_assignment_current"
    ]
    if verdict.granted:
        assert all(o is None for o in objections)
        assert entry is not None
    else:
        assert verdict.reason is next(o for o in objections if o is not None)
