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
