"""Background tasks are stopped even when one swallows a cancel (Python 3.11's wait_for can), and
children run together stop together, with the one that resisted named."""

from __future__ import annotations

import asyncio

import pytest

from sitegate.tasks import cancel_until_done, run_together
from tests.support.stubborn import Stubborn

QUICK_S = 0.05
"""The re-cancel interval the tests use, so that a resisting task costs them little time."""


async def test_a_task_that_swallows_a_cancel_is_cancelled_again_until_it_ends(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stubborn = Stubborn()
    task = asyncio.create_task(stubborn.run(), name="relay-worker")
    await asyncio.sleep(0)
    async with asyncio.timeout(10):  # a single cancel and await would wait for ever
        await cancel_until_done([task], recancel_s=QUICK_S)
    assert task.cancelled()
    assert stubborn.cancels == 2
    assert "task 'relay-worker' still running 0.05 s after a cancel; cancelling it again" in caplog.text


async def test_an_error_a_task_ended_with_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    async def broken() -> None:
        raise RuntimeError("broker link lost")

    task = asyncio.create_task(broken(), name="relay-worker")
    await asyncio.sleep(0)
    await cancel_until_done([task])
    assert "relay-worker ended with an error: RuntimeError('broker link lost')" in caplog.text


async def test_a_cancel_of_the_caller_does_not_cut_the_stop_short() -> None:
    stubborn = Stubborn(swallow=3)
    task = asyncio.create_task(stubborn.run())
    await asyncio.sleep(0)
    stopping = asyncio.create_task(cancel_until_done([task], recancel_s=QUICK_S))
    await asyncio.sleep(0)
    stopping.cancel()  # an impatient owner: the task is stopped all the same, then the cancel raised
    async with asyncio.timeout(10):
        await asyncio.gather(stopping, return_exceptions=True)
    assert stopping.cancelled()
    assert task.cancelled()


async def test_children_run_together_stop_together_when_cancelled_even_a_stubborn_one(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stubborn, plain = Stubborn(), Stubborn(swallow=0)
    together = asyncio.create_task(
        run_together({"lane reader": stubborn.run(), "lane uplink": plain.run()}, recancel_s=QUICK_S)
    )
    await asyncio.sleep(0.01)
    together.cancel()
    async with asyncio.timeout(10):  # an asyncio.TaskGroup here waits for ever
        await asyncio.gather(together, return_exceptions=True)
    assert together.cancelled()
    assert (stubborn.cancels, plain.cancels) == (2, 1)
    assert "task 'lane reader' still running" in caplog.text
    assert "lane uplink" not in caplog.text


async def test_the_first_child_that_fails_stops_the_others_and_its_error_is_raised() -> None:
    stubborn = Stubborn()

    async def fails() -> None:
        await asyncio.sleep(0.01)
        raise ConnectionError("broker gone")

    async with asyncio.timeout(10):
        with pytest.raises(ExceptionGroup) as raised:
            await run_together({"drain": fails(), "receive": stubborn.run()}, recancel_s=QUICK_S)
    assert [repr(e) for e in raised.value.exceptions] == ["ConnectionError('broker gone')"]
    assert stubborn.cancels == 2


async def test_a_cancel_of_the_caller_wins_over_errors_the_children_raise_as_they_stop() -> None:
    """A child that fails on its cancel (aiomqtt's iterator: "Disconnected during message
    iteration") must not turn the owner's stop into an error its reconnect loop would catch."""
    stopping = asyncio.Event()

    async def fails_when_stopped() -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            stopping.set()
            raise ConnectionError("Disconnected during message iteration") from None

    together = asyncio.create_task(run_together({"receive": fails_when_stopped()}, recancel_s=QUICK_S))
    await asyncio.sleep(0.01)
    together.cancel()
    async with asyncio.timeout(10):
        await asyncio.gather(together, return_exceptions=True)
    assert stopping.is_set()
    assert together.cancelled()  # failed before: ExceptionGroup([ConnectionError(...)])


async def test_children_that_all_end_end_the_run() -> None:
    ended: list[str] = []

    async def ends(name: str) -> None:
        await asyncio.sleep(0)
        ended.append(name)

    await run_together({"a": ends("a"), "b": ends("b")})
    await run_together({})
    assert sorted(ended) == ["a", "b"]
