"""The ingest's queues (hub.ingest_queue): everything waiting as one batch, up to its bound."""

from __future__ import annotations

import asyncio

from hub.ingest_queue import BatchQueue


async def test_a_batch_is_everything_waiting_in_order_up_to_the_bound() -> None:
    queue: BatchQueue[int] = BatchQueue(batch_max=3)
    queue.put([1, 2])
    queue.put([3, 4])
    queue.put([])
    batches = queue.batches()
    assert await anext(batches) == [1, 2, 3]
    assert len(queue) == 1
    assert await anext(batches) == [4]
    waiting = asyncio.ensure_future(anext(batches))
    await asyncio.sleep(0.01)
    assert not waiting.done()  # nothing waits: neither an empty batch nor a busy loop
    queue.put([5])
    assert await asyncio.wait_for(waiting, 1) == [5]


async def test_with_a_key_an_item_like_one_still_waiting_is_dropped_until_it_is_taken() -> None:
    queue: BatchQueue[tuple[str, int]] = BatchQueue(batch_max=10, key=lambda item: item if item[1] else None)
    assert queue.put([("a", 1), ("b", 1), ("a", 1)]) == 1  # within one put, too
    assert queue.put([("a", 1), ("c", 0), ("c", 0)]) == 1  # a key of None is never dropped
    batches = queue.batches()
    assert await anext(batches) == [("a", 1), ("b", 1), ("c", 0), ("c", 0)]
    assert queue.put([("a", 1)]) == 0  # taken: the same item arriving now is queued again
    assert await anext(batches) == [("a", 1)]


async def test_without_a_key_nothing_is_dropped() -> None:
    queue: BatchQueue[int] = BatchQueue(batch_max=10)
    assert queue.put([1, 1, 1]) == 0
    assert await anext(queue.batches()) == [1, 1, 1]
