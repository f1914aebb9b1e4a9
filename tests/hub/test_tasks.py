"""Background tasks are stopped even when one swallows a cancel (Python 3.11's wait_for can)."""

from __future__ import annotations

import asyncio

import pytest

from hub.tasks import cancel_until_done


async def test_a_task_that_swallows_a_cancel_is_cancelled_again_until_it_ends() -> None:
    swallowed = 0

    async def stubborn() -> None:
        nonlocal swallowed
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                swallowed += 1
                if swallowed == 1:
                    continue  # what wait_for does when the cancel lands as its future completes
                raise

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    async with asyncio.timeout(10):  # a single cancel and await would wait for ever
        await cancel_until_done([task])
    assert task.cancelled()
    assert swallowed == 2


async def test_an_error_a_task_ended_with_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    async def broken() -> None:
        raise RuntimeError("broker link lost")

    task = asyncio.create_task(broken(), name="relay-worker")
    await asyncio.sleep(0)
    await cancel_until_done([task])
    assert "relay-worker ended with an error: RuntimeError('broker link lost')" in caplog.text
