"""What a person at the lane sees and hears for each outcome: one table, one row per reason.

A guard learns the patterns; a worker learns that two short beeps mean "not on this site's
roster" and walks to the site office instead of swiping again.
"""

from __future__ import annotations

from dataclasses import dataclass

from wire.models import Reason


@dataclass(frozen=True, slots=True)
class Indication:
    green_s: float = 0.0
    red_s: float = 0.0
    beeps: int = 0
    beep_s: float = 0.1


GRANTED = Indication(green_s=1.5)

SYSTEM_FAULT = Indication(red_s=4.0, beeps=3, beep_s=0.8)
"""The lane cannot record (its journal failed): nobody passes, call the site office. Not a
:class:`Reason` (no decision was made) and unlike every reason's pattern: three long beeps."""

INDICATIONS: dict[Reason, Indication] = {
    Reason.GRANTED: GRANTED,
    Reason.NOT_REGISTERED: Indication(red_s=2.0, beeps=2),
    Reason.INVALID_ID_NUMBER: Indication(red_s=2.0, beeps=4, beep_s=0.05),
    Reason.CARD_EXPIRED: Indication(red_s=2.0, beeps=3),
    Reason.ASSIGNMENT_NOT_STARTED: Indication(red_s=2.0, beeps=1, beep_s=0.4),
    Reason.ASSIGNMENT_ENDED: Indication(red_s=2.0, beeps=1, beep_s=0.4),
    Reason.WATCHLISTED: Indication(red_s=5.0, beeps=1, beep_s=2.0),
    Reason.ANTI_PASSBACK: Indication(red_s=2.0, beeps=2, beep_s=0.3),
    Reason.OUTSIDE_HOURS: Indication(red_s=2.0, beeps=1, beep_s=0.2),
    Reason.LANE_DISABLED: Indication(red_s=1.0),
    Reason.CREDENTIAL_NOT_ACCEPTED: Indication(red_s=2.0, beeps=2, beep_s=0.05),
    Reason.UNREADABLE_CARD: Indication(red_s=1.0, beeps=5, beep_s=0.05),
}


def indication_for(reason: Reason) -> Indication:
    return INDICATIONS[reason]
