"""The hub's background tasks: a failure is logged, never raised to the owner; stopping stops them."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import pytest

from hub.background import BackgroundTasks
from hub.errors import HubError

log = logging.getLogger("tests.hub.background")


async def test_failures_are_logged_under_the_owners_name_and_idle_waits_for_all(
    caplog: pytest.LogCaptureFixture,
) -> None:
    tasks = BackgroundTasks("roster publisher", log)
    done: list[str] = []

    async def fine() -> None:
        await asyncio.sleep(0.01)
        done.append("fine")

    async def known() -> None:
        raise HubError("the store is away")

    async def bug() -> None:
        raise KeyError("p-0001")

    for work in (fine(), known(), bug()):
        tasks.spawn(work)
    await asyncio.wait_for(tasks.idle(), 5)
    assert done == ["fine"] and len(tasks) == 0
    assert "roster publisher: the store is away" in caplog.text
    assert "roster publisher failed" in caplog.text and "KeyError" in caplog.text


async def test_stop_ends_a_task_that_swallows_its_first_cancel() -> None:
    tasks = BackgroundTasks("site relay", log)
    started = asyncio.Event()

    async def stubborn() -> None:
        started.set()
        with contextlib.suppress(asyncio.CancelledError):  # as Python 3.11's wait_for may
            await asyncio.sleep(60)
        await asyncio.sleep(60)

    tasks.spawn(stubborn(), "stubborn")
    tasks.spawn(asyncio.sleep(60))
    await started.wait()
    await asyncio.wait_for(tasks.stop(), 10)
    assert len(tasks) == 0
