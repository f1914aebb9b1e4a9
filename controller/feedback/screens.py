"""What one screen says, as plain values: built from the labels table, drawn by :mod:`.render`.

Kept apart from drawing so that what a worker is told can be checked without a font or a device.
"""

from __future__ import annotations

from dataclasses import dataclass

from controller.feedback.names import MaskedName
from wire.labels import DIRECTION_NAMES, Subject, Tone, label_for
from wire.models import Direction


@dataclass(frozen=True, slots=True)
class Screen:
    subject: Subject
    header: str
    """The lane: "A1 进场"."""
    verdict: str
    person: MaskedName | None
    next_step: str
    tone: Tone

    def texts(self) -> tuple[str, ...]:
        """Every string the screen may draw (a test checks no ID number is among them)."""
        return tuple(t for t in (self.header, self.verdict, self.person, self.next_step) if t)


def screen_for(
    subject: Subject, *, lane: str, direction: Direction, person: MaskedName | None = None
) -> Screen:
    label = label_for(subject)
    return Screen(
        subject=subject,
        header=f"{lane} {DIRECTION_NAMES[direction].zh}",
        verdict=label.verdict.zh,
        person=person,
        next_step=label.next_step.zh,
        tone=label.tone,
    )
