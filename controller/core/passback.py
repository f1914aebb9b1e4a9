"""Who is inside, as far as this controller knows: the state anti-passback reads.

Updated when a passage is recorded (a confirmed rotation, or a grant on a lane without a rotation
sensor); persisted by the journal in the same transaction as the event that changed it, so a
power cut cannot leave the two disagreeing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

from wire.models import Direction


class PassbackBook:
    def __init__(self, known: Iterable[tuple[str, Direction]] = ()) -> None:
        self._last: dict[str, Direction] = dict(known)

    def inside(self, person_id: str | None) -> bool | None:
        if person_id is None:
            return None
        last = self._last.get(person_id)
        return None if last is None else last is Direction.IN

    def record(self, person_id: str, direction: Direction) -> None:
        self._last[person_id] = direction

    def snapshot(self) -> Mapping[str, Direction]:
        return MappingProxyType(dict(self._last))
