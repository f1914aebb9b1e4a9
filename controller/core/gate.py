"""The gate's state machine: one transition table, keyed by (state, input).

Rules the table keeps:
1. The arm is released (relay on) only on entering GRANTED or FREE_EGRESS; every way out of those
   states drives the relay off. No other transition touches the relay.
2. A grant is confirmed by the arm's rotation sensor (PASSED) or expires (NOT_PASSED); a new grant
   before either supersedes the old one, which is recorded as not passed.
3. A fire alarm overrides everything: every lane opens for free egress until the alarm clears, and
   nothing but the clearing of the alarm closes it again.
4. A rotation with no grant behind it is a forced or tailgated passage: reported, never ignored.
5. Tamper changes no state: it is reported, and the gate goes on doing what it was doing.

The machine is pure: the service feeds inputs, performs the effects (relay, timers, journal) and
feeds timer expiries back in. Timer inputs carry nothing; a stale expiry (the service cancels
timers it replaces) would be harmless anyway, because a TIMEOUT in IDLE does nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class GateState(StrEnum):
    IDLE = "idle"
    GRANTED = "granted"
    DENIED = "denied"
    FREE_EGRESS = "free_egress"


class GateInput(StrEnum):
    GRANT = "grant"
    DENY = "deny"
    ROTATION = "rotation"
    TIMEOUT = "timeout"
    FIRE_ALARM = "fire_alarm"
    FIRE_CLEARED = "fire_cleared"
    TAMPER = "tamper"


class Effect(StrEnum):
    RELEASE = "release"  # relay on, start the passage timer
    LOCK = "lock"  # relay off, cancel the timer
    INDICATE = "indicate"  # show the decision's indication, start the indication timer
    PASSED = "passed"  # the granted person went through
    NOT_PASSED = "not_passed"  # granted, but the arm never turned
    FORCED = "forced"  # the arm turned with no grant behind it
    OPEN_ALL = "open_all"  # free egress: every relay on, no timer
    CLOSE_ALL = "close_all"
    REPORT_TAMPER = "report_tamper"


@dataclass(frozen=True, slots=True)
class Transition:
    to: GateState
    effects: tuple[Effect, ...] = ()


S, In, E, T = GateState, GateInput, Effect, Transition

TABLE: dict[tuple[GateState, GateInput], Transition] = {
    (S.IDLE, In.GRANT): T(S.GRANTED, (E.INDICATE, E.RELEASE)),
    (S.IDLE, In.DENY): T(S.DENIED, (E.INDICATE,)),
    (S.IDLE, In.ROTATION): T(S.IDLE, (E.FORCED,)),
    (S.IDLE, In.TIMEOUT): T(S.IDLE),
    (S.GRANTED, In.GRANT): T(S.GRANTED, (E.NOT_PASSED, E.INDICATE, E.RELEASE)),
    (S.GRANTED, In.DENY): T(S.GRANTED, (E.INDICATE,)),  # the arm stays released for the granted person
    (S.GRANTED, In.ROTATION): T(S.IDLE, (E.LOCK, E.PASSED)),
    (S.GRANTED, In.TIMEOUT): T(S.IDLE, (E.LOCK, E.NOT_PASSED)),
    (S.DENIED, In.GRANT): T(S.GRANTED, (E.INDICATE, E.RELEASE)),
    (S.DENIED, In.DENY): T(S.DENIED, (E.INDICATE,)),
    (S.DENIED, In.ROTATION): T(S.DENIED, (E.FORCED,)),
    (S.DENIED, In.TIMEOUT): T(S.IDLE),
    (S.FREE_EGRESS, In.GRANT): T(S.FREE_EGRESS, (E.INDICATE,)),
    (S.FREE_EGRESS, In.DENY): T(S.FREE_EGRESS, (E.INDICATE,)),
    (S.FREE_EGRESS, In.ROTATION): T(S.FREE_EGRESS),
    (S.FREE_EGRESS, In.TIMEOUT): T(S.FREE_EGRESS),
    (S.FREE_EGRESS, In.FIRE_ALARM): T(S.FREE_EGRESS),
    (S.FREE_EGRESS, In.FIRE_CLEARED): T(S.IDLE, (E.CLOSE_ALL,)),
}
for _state in (S.IDLE, S.GRANTED, S.DENIED):
    TABLE[(_state, In.FIRE_ALARM)] = T(S.FREE_EGRESS, (E.OPEN_ALL,))
    TABLE[(_state, In.FIRE_CLEARED)] = T(_state)
for _state in GateState:
    TABLE[(_state, In.TAMPER)] = T(_state, (E.REPORT_TAMPER,))
del _state


class Turnstile:
    """The current state plus the table; ``feed`` returns the effects to perform, in order."""

    def __init__(self) -> None:
        self.state = GateState.IDLE

    def feed(self, event: GateInput) -> tuple[Effect, ...]:
        transition = TABLE[(self.state, event)]
        self.state = transition.to
        return transition.effects
