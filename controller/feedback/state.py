"""Which idle screen a lane shows: its state, from a handful of facts, in one ordered rule.

Pure: the service gathers the facts (:class:`LaneFacts`), this decides. The order is what matters
most to a worker standing there: a fire alarm (leave now) before a lane that cannot record
passages (nobody passes: call the site office), before a lane taken out of service, before a dead
reader, before "offline, but swipe as usual".
"""

from __future__ import annotations

from dataclasses import dataclass

from wire.labels import LaneState


@dataclass(frozen=True, slots=True)
class LaneFacts:
    free_egress: bool = False
    journal_ok: bool = True
    disabled: bool = False
    readers_ok: bool = True
    """At least one of the lane's readers is healthy (a lane with two works on either)."""
    online: bool = True
    """The link to the hub is up, or has been down for less than the display's grace period."""


def lane_state(facts: LaneFacts) -> LaneState:
    if facts.free_egress:
        return LaneState.FIRE_ALARM
    if not facts.journal_ok:
        return LaneState.SYSTEM_FAULT
    if facts.disabled:
        return LaneState.DISABLED
    if not facts.readers_ok:
        return LaneState.READER_FAULT
    if not facts.online:
        return LaneState.OFFLINE
    return LaneState.READY
