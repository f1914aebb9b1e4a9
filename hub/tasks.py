"""Stopping the hub's own background tasks, for certain.

Python 3.11's ``asyncio.wait_for`` (inside aiomqtt's connect and publish) can swallow a cancel that
lands just as its inner future completes: one ``task.cancel()`` then leaves the task running, and
an exit that awaits it waits for ever (seen as hangs of the ingest's and the lanes' shutdown under
load). So a task is cancelled again until it has really ended.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

log = logging.getLogger(__name__)

RECANCEL_S = 1.0


async def cancel_until_done(tasks: Iterable[asyncio.Task[object]]) -> None:
    """Cancel each task until it is done; an error a task ended with is logged, not raised."""
    every = list(tasks)
    pending = {task for task in every if not task.done()}
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=RECANCEL_S)
    for task in every:
        if not task.cancelled() and task.exception() is not None:
            log.error("task %s ended with an error: %r", task.get_name(), task.exception())
