"""A project's site rules, as the hub signed them with the roster, made the lane's :class:`Policy`.

The rules come in the roster's manifest or delta (:class:`wire.roster.RosterRules`) and are made a
policy while the roster is assembled, so a version whose rules a lane cannot use is refused whole,
like a bad entry, and a lane swaps the policy in with the entries it came with. Kept out of the
pure core, which does not import the roster codec.
"""

from __future__ import annotations

from types import MappingProxyType

from controller.core.policy import (
    AntiPassback,
    NightWork,
    Policy,
    TimeWindow,
    end_of_working_day,
    parse_window,
)
from wire.roster import NightWorkWindow, RosterRules, clock_time


def policy_of(rules: RosterRules) -> Policy:
    """ValueError when a window's ends are the same (the wire model refuses that already)."""
    hours = {role: parse_window(text) for role, text in rules.working_hours.items()}
    expires = end_of_working_day(hours)
    if rules.inside_expires_at is not None:
        expires = clock_time(rules.inside_expires_at)
    night_work = tuple(
        NightWork(
            permit.permit,
            permit.first_date,
            permit.last_date,
            parse_window(permit.hours),
            frozenset(permit.roles),
        )
        for permit in rules.night_work
    )
    return Policy(
        AntiPassback(rules.anti_passback),
        MappingProxyType(hours),
        rules.accept_uid_only,
        expires,
        night_work,
    )


def _hours(window: TimeWindow) -> str:
    return f"{window.start:%H:%M}-{window.end:%H:%M}"


def rules_of(policy: Policy) -> RosterRules:
    """The wire form of a policy the hub sent, for the roster file (:func:`policy_of` reads it back
    to an equal policy; an unset ``inside_expires_at`` comes back as the time it stood for)."""
    expires = None if policy.inside_expires_at is None else f"{policy.inside_expires_at:%H:%M}"
    return RosterRules(
        anti_passback=policy.anti_passback.value,
        accept_uid_only=policy.accept_uid_only,
        working_hours={role: _hours(window) for role, window in policy.working_hours.items()},
        inside_expires_at=expires,
        night_work=tuple(
            NightWorkWindow(
                permit=permit.permit,
                first_date=permit.first_date,
                last_date=permit.last_date,
                hours=_hours(permit.window),
                roles=tuple(sorted(permit.roles)),
            )
            for permit in policy.night_work
        ),
    )
