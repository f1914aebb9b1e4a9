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
from collections.abc import AsyncIterator, Callable, Hashable, Iterable
from typing import Generic, TypeVar

T = TypeVar("T")


class BatchQueue(Generic[T]):
    """Unbounded, like the link's inbox it is filled from (a backlog moves here from there).

    With ``key``, an item whose key (not None) equals that of an item still waiting is not
    queued again (:meth:`put` counts it): the ingest keys a lane's events by topic and payload,
    so a resend of what still waits here is dropped on arrival (see :mod:`hub.ingest`)."""

    def __init__(self, batch_max: int, key: Callable[[T], Hashable | None] | None = None) -> None:
        self._batch_max = batch_max
        self._items: deque[T] = deque()
        self._waiting = asyncio.Event()
        self._key = key
        self._keys: set[Hashable] = set()

    def __len__(self) -> int:
        return len(self._items)

    def put(self, items: Iterable[T]) -> int:
        """Queue ``items`` in order, after what waits already; returns how many were dropped as
        the same as one waiting (always 0 without ``key``)."""
        dropped = 0
        if self._key is None:
            self._items.extend(items)
        else:
            for item in items:
                key = self._key(item)
                if key is not None:
                    if key in self._keys:
                        dropped += 1
                        continue
                    self._keys.add(key)
                self._items.append(item)
        if self._items:
            self._waiting.set()
        return dropped

    async def batches(self) -> AsyncIterator[list[T]]:
        """Each time something waits: all of it, oldest first, up to ``batch_max`` at once."""
        while True:
            while not self._items:
                self._waiting.clear()
                await self._waiting.wait()
            take = min(len(self._items), self._batch_max)
            batch = [self._items.popleft() for _ in range(take)]
            if self._keys:
                assert self._key is not None
                for item in batch:
                    key = self._key(item)
                    if key is not None:
                        self._keys.discard(key)
            yield batch
