"""hub.changes: a burst of stored batches is one signal to every subscriber, after the debounce."""

from __future__ import annotations

import asyncio

from hub.changes import Changes


async def test_a_burst_is_one_signal_to_each_subscriber() -> None:
    changes = Changes(debounce_s=0.05)
    with changes.subscription() as first, changes.subscription() as second:
        for _ in range(50):
            changes.changed()
        assert not first.is_set()  # not before the debounce
        await asyncio.wait_for(asyncio.gather(first.wait(), second.wait()), 5)
        first.clear()
        await asyncio.sleep(0.15)
        assert not first.is_set()  # the burst was one signal
        changes.changed()
        await asyncio.wait_for(first.wait(), 5)
    assert len(changes) == 0
    changes.close()


async def test_closing_wakes_every_subscriber_and_says_so() -> None:
    changes = Changes(debounce_s=60)
    with changes.subscription() as first, changes.subscription() as second:
        changes.changed()  # pending for a minute: cancelled by the close
        changes.close()
        assert first.is_set() and second.is_set() and changes.closed
