"""A lane on a disk that fills up (issue 20): the fault is shown, reported, and clears by itself."""

from __future__ import annotations

from collections.abc import AsyncIterator

from controller.core.cards import CardRead, ReadFailure
from controller.core.indication import SYSTEM_FAULT, indication_for
from controller.service import LaneService
from tests.controller.test_service import card, close_lane, make_lane
from tests.support.disk import small_disk
from wire.models import Reason


class OneCard:
    name = "one-card"
    healthy = True

    def __init__(self, presented: CardRead) -> None:
        self.presented = presented

    async def cards(self) -> AsyncIterator[CardRead | ReadFailure]:
        yield self.presented


class NotedOutputs:
    """Which indications the lane gave, in order (wraps the real outputs)."""

    def __init__(self, lane: LaneService) -> None:
        self.shown: list[object] = []
        real = lane.outputs.indicate

        def indicate(indication: object) -> None:
            self.shown.append(indication)
            real(indication)  # type: ignore[arg-type]

        lane.outputs.indicate = indicate  # type: ignore[method-assign]


async def test_a_full_disk_is_a_system_fault_that_clears_by_itself_and_is_reported() -> None:
    with small_disk() as disk:
        lane = make_lane(disk.root)
        try:
            noted = NotedOutputs(lane)
            disk.fill()
            await lane._consume(OneCard(card()))
            assert lane.journal.last_seq == 0  # nothing recorded, so nothing opened
            assert noted.shown[-1] == SYSTEM_FAULT != indication_for(Reason.UNREADABLE_CARD)
            assert lane.problems()
            assert lane.heartbeat().journal_fault is True
            disk.free()
            assert lane.problems() == []  # no swipe needed: a probe write succeeded
            assert lane.heartbeat().journal_fault is False
            assert lane.lane_facts()[0].journal_ok
        finally:
            close_lane(lane)
