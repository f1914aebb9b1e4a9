"""The access decision: one table of rules, checked in order; the first hard objection denies.

The order is the order a guard would ask: is this person on the watchlist (that must raise an
alert whatever else is wrong), is the lane open at all, is this a real card number, is the card
still valid, do we accept this kind of credential, is the holder on our roster, is today within
their assignment, is it within their hours, are they already inside. Each rule returns an
:class:`Objection` or ``None``. A soft objection (anti-passback in soft mode) does not deny; it is
carried on the granted event as a warning.

Exits are never refused for hours or anti-passback: nobody is kept on a site for having arrived
late or for an entry the system missed. Fire-alarm free egress bypasses this module entirely
(see the gate state machine).

Hard anti-passback is only as hard as the lane's knowledge of its site (invariant 10): while the
lane cannot vouch that it has heard every passage its sibling lanes recorded
(``Lane.passback_verified`` false, see :class:`controller.core.passback.SiteView`), the objection is
soft and carries the :attr:`~wire.models.Caveat.PASSBACK_UNVERIFIED` caveat: the person is admitted
and the record says why.

Working hours yield the same way to a night-work permit (夜间施工) on its dates: outside hours
inside a permit's window is admitted with ``outside_hours`` and the :attr:`~wire.models.Caveat.NIGHT_WORK`
caveat, so the record shows the night work without a new field on the event.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from controller.core.policy import AntiPassback, Policy, night_permit
from controller.core.roster import RosterEntry
from wire.models import Caveat, Decision, Direction, Reason
from wire.roles import RosterRole


@dataclass(frozen=True, slots=True)
class Swipe:
    """The facts about a presented credential that the rules look at (no personal data)."""

    id_number_problem: str | None
    """Why the card's number is not a valid number, or ``None`` when it is (or for a UID)."""
    card_valid_to: date | None
    """Last day the card is valid; ``None`` for a long-term card or a UID."""
    entry: RosterEntry | None
    """The roster's entry for this credential, or ``None`` when the credential is not on it."""
    watchlisted: bool = False
    uid_only: bool = False
    """The credential is a card UID, not a certified ID-module read."""
    inside: bool | None = None
    """Anti-passback state: last recorded passage was an entry (True), an exit (False), or none
    (an entry expired by the site's daily cutoff counts as none)."""


@dataclass(frozen=True, slots=True)
class Lane:
    """Where and when the swipe happens; ``now`` is aware and in the site's zone."""

    direction: Direction
    now: datetime
    policy: Policy = field(default_factory=Policy)
    disabled: bool = False
    passback_verified: bool = True
    """The lane has heard from its whole site recently enough to trust its anti-passback state."""


@dataclass(frozen=True, slots=True)
class Objection:
    reason: Reason
    hard: bool = True
    alert: bool = False
    caveat: Caveat | None = None
    """Why a rule that would object hard objects only softly (carried beside its reason)."""


@dataclass(frozen=True, slots=True)
class Verdict:
    decision: Decision
    reason: Reason
    detail: str = ""
    alert: bool = False
    warnings: tuple[Reason | Caveat, ...] = ()

    @property
    def granted(self) -> bool:
        return self.decision is Decision.GRANTED


Rule = Callable[[Swipe, Lane], Objection | None]


def _watchlist(swipe: Swipe, lane: Lane) -> Objection | None:
    return Objection(Reason.WATCHLISTED, alert=True) if swipe.watchlisted else None


def _lane_enabled(swipe: Swipe, lane: Lane) -> Objection | None:
    return Objection(Reason.LANE_DISABLED) if lane.disabled else None


def _id_number_valid(swipe: Swipe, lane: Lane) -> Objection | None:
    return Objection(Reason.INVALID_ID_NUMBER) if swipe.id_number_problem is not None else None


def _card_not_expired(swipe: Swipe, lane: Lane) -> Objection | None:
    valid_to = swipe.card_valid_to
    if valid_to is not None and valid_to < lane.now.date():
        return Objection(Reason.CARD_EXPIRED)
    return None


def _credential_accepted(swipe: Swipe, lane: Lane) -> Objection | None:
    if swipe.uid_only and not lane.policy.accept_uid_only:
        return Objection(Reason.CREDENTIAL_NOT_ACCEPTED)
    return None


def _registered(swipe: Swipe, lane: Lane) -> Objection | None:
    return Objection(Reason.NOT_REGISTERED) if swipe.entry is None else None


def _assignment_current(swipe: Swipe, lane: Lane) -> Objection | None:
    entry = swipe.entry
    assert entry is not None  # _registered runs first
    today = lane.now.date()
    if entry.entry_date is not None and today < entry.entry_date:
        return Objection(Reason.ASSIGNMENT_NOT_STARTED)
    if entry.exit_date is not None and today > entry.exit_date:
        return Objection(Reason.ASSIGNMENT_ENDED)
    return None


def _within_hours(swipe: Swipe, lane: Lane) -> Objection | None:
    entry = swipe.entry
    assert entry is not None
    if lane.direction is Direction.OUT:
        return None
    if entry.role is RosterRole.VISITOR:
        start, end = entry.pass_from, entry.pass_until
        if start is None or end is None or not start <= lane.now < end:
            return Objection(Reason.OUTSIDE_HOURS)
        return None
    window = lane.policy.working_hours.get(entry.role)
    if window is None or window.contains(lane.now.time()):
        return None
    if night_permit(lane.policy.night_work, entry.role, lane.now) is not None:
        return Objection(Reason.OUTSIDE_HOURS, hard=False, caveat=Caveat.NIGHT_WORK)
    return Objection(Reason.OUTSIDE_HOURS)


def _anti_passback(swipe: Swipe, lane: Lane) -> Objection | None:
    mode = lane.policy.anti_passback
    if mode is AntiPassback.OFF or lane.direction is Direction.OUT or swipe.inside is not True:
        return None
    if mode is AntiPassback.HARD and not lane.passback_verified:
        return Objection(Reason.ANTI_PASSBACK, hard=False, caveat=Caveat.PASSBACK_UNVERIFIED)
    return Objection(Reason.ANTI_PASSBACK, hard=mode is AntiPassback.HARD)


RULES: tuple[Rule, ...] = (
    _watchlist,
    _lane_enabled,
    _id_number_valid,
    _card_not_expired,
    _credential_accepted,
    _registered,
    _assignment_current,
    _within_hours,
    _anti_passback,
)


def decide(swipe: Swipe, lane: Lane) -> Verdict:
    warnings: list[Reason | Caveat] = []
    for rule in RULES:
        objection = rule(swipe, lane)
        if objection is None:
            continue
        if not objection.hard:
            warnings.append(objection.reason)
            if objection.caveat is not None:
                warnings.append(objection.caveat)
            continue
        detail = swipe.id_number_problem or "" if objection.reason is Reason.INVALID_ID_NUMBER else ""
        return Verdict(Decision.DENIED, objection.reason, detail, objection.alert)
    return Verdict(Decision.GRANTED, Reason.GRANTED, warnings=tuple(warnings))
