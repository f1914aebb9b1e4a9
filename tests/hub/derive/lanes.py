"""Access events from lanes that number their own journals: each device counts its seqs from 1."""

from __future__ import annotations

import itertools
from datetime import datetime

from tests.hub.factories import make_event
from wire.models import AccessEvent, Direction


class Lanes:
    def __init__(self) -> None:
        self._seqs: dict[str, itertools.count[int]] = {}

    def event(
        self,
        device_id: str,
        project_id: str,
        wall_time: datetime,
        direction: Direction,
        person_id: str | None,
        *,
        granted: bool = True,
    ) -> AccessEvent:
        return make_event(
            next(self._seqs.setdefault(device_id, itertools.count(1))),
            device_id=device_id,
            project_id=project_id,
            wall_time=wall_time,
            direction=direction,
            person_id=person_id,
            granted=granted,
        )
