"""A reader's card stream consumed in a task, as the lane service consumes it: shared by the tests of
every reader adapter."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Generic, Protocol, TypeVar

from controller.core.cards import ReadFailure

C = TypeVar("C")


class Source(Protocol[C]):
    def cards(self) -> AsyncIterator[C | ReadFailure]: ...


class CardStream(Generic[C]):
    def __init__(self, source: Source[C]) -> None:
        self.source = source
        self.cards: asyncio.Queue[C] = asyncio.Queue()
        self.failures: list[ReadFailure] = []
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for card in self.source.cards():
            if isinstance(card, ReadFailure):  # told to the person at the lane, not a card
                self.failures.append(card)
                continue
            await self.cards.put(card)

    async def next_card(self, within: float = 3.0) -> C:
        return await asyncio.wait_for(self.cards.get(), within)

    async def stop(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


async def until(condition: Callable[[], bool], within: float = 3.0) -> None:
    """Poll: conditions are set by emulator or reader threads, so there is no event to wait on."""
    for _ in range(int(within / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    assert condition(), f"not true within {within} s"
