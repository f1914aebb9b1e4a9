"""The access decision: one table of rules, checked in order; the first that objects denies.

The order is the order a guard would ask: is this a real card number, is the card still valid, is
the holder on our roster, is today within their assignment. Each rule returns a :class:`Reason`
to deny, or ``None`` to pass the swipe on; a swipe that every rule passes is granted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from controller.core.roster import RosterEntry
from wire.models import Decision, Reason


@dataclass(frozen=True, slots=True)
class Swipe:
    """The facts about a presented credential that the rules look at (no personal data)."""

    id_number_problem: str | None
    """Why the card's number is not a valid number, or ``None`` when it is (or for a UID)."""
    card_valid_to: date | None
    """Last day the card is valid; ``None`` for a long-term card or a UID."""
    entry: RosterEntry | None
    """The roster's entry for this credential, or ``None`` when the credential is not on it."""


@dataclass(frozen=True, slots=True)
class Verdict:
    decision: Decision
    reason: Reason
    detail: str = ""

    @property
    def granted(self) -> bool:
        return self.decision is Decision.GRANTED


Rule = Callable[[Swipe, date], Reason | None]


def _id_number_valid(swipe: Swipe, today: date) -> Reason | None:
    return Reason.INVALID_ID_NUMBER if swipe.id_number_problem is not None else None


def _card_not_expired(swipe: Swipe, today: date) -> Reason | None:
    if swipe.card_valid_to is not None and swipe.card_valid_to < today:
        return Reason.CARD_EXPIRED
    return None


def _registered(swipe: Swipe, today: date) -> Reason | None:
    return Reason.NOT_REGISTERED if swipe.entry is None else None


def _assignment_current(swipe: Swipe, today: date) -> Reason | None:
    entry = swipe.entry
    assert entry is not None  # _registered runs first
    if entry.entry_date is not None and today < entry.entry_date:
        return Reason.ASSIGNMENT_NOT_STARTED
    if entry.exit_date is not None and today > entry.exit_date:
        return Reason.ASSIGNMENT_ENDED
    return None


RULES: tuple[Rule, ...] = (
    _id_number_valid,
    _card_not_expired,
    _registered,
    _assignment_current,
)


def decide(swipe: Swipe, today: date) -> Verdict:
    for rule in RULES:
        reason = rule(swipe, today)
        if reason is not None:
            detail = swipe.id_number_problem or "" if reason is Reason.INVALID_ID_NUMBER else ""
            return Verdict(Decision.DENIED, reason, detail)
    return Verdict(Decision.GRANTED, Reason.GRANTED)
