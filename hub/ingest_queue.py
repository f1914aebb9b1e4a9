"""What the ingest has received and not yet handled, taken by its worker in batches.

The broker link (:mod:`hub.mqtt_link`) hands over each batch it reads and goes on reading; the
ingest (:mod:`hub.ingest`) sorts the messages into one of these per path, events and heartbeats
each with their own, and a worker per queue takes everything waiting (up to ``batch_max``) as its
next batch. A hub behind on events then holds its backlog here, in the events' queue, and the
heartbeats of the same moment go through theirs within a batch or two: in one queue they waited
behind every event (issue 16). Pure asyncio, no I/O.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Iterable
from typing import Generic, TypeVar

T = TypeVar("T")


class BatchQueue(Generic[T]):
    """Unbounded, like the link's inbox it is filled from (a backlog moves here from there)."""

    def __init__(self, batch_max: int) -> None:
        self._batch_max = batch_max
        self._items: deque[T] = deque()
        self._waiting = asyncio.Event()

    def __len__(self) -> int:
        return len(self._items)

    def put(self, items: Iterable[T]) -> None:
        """Queue ``items`` in order, after what waits already."""
        self._items.extend(items)
        if self._items:
            self._waiting.set()

    async def batches(self) -> AsyncIterator[list[T]]:
        """Each time something waits: all of it, oldest first, up to ``batch_max`` at once."""
        while True:
            while not self._items:
                self._waiting.clear()
                await self._waiting.wait()
            take = min(len(self._items), self._batch_max)
            yield [self._items.popleft() for _ in range(take)]
