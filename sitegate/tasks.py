"""Background tasks that stop for certain, shared by the lane and the hub (neither imports the other).

Python 3.11's ``asyncio.wait_for`` (inside aiomqtt's connect, publish and subscribe) swallows a
cancel that lands just as its inner future completes: one ``task.cancel()`` then leaves the task
running. An exit that awaits such a task waits for ever, and so does an ``asyncio.TaskGroup``: it
cancels each child once when it aborts, then waits for all of them, and a second cancel of its
owner does not make it cancel them again. Seen as hangs, under load, of the hub's ingest, a lane's
uplink and the lanes of tests and benches at their shutdown.

So here a task that is still running :data:`RECANCEL_S` after a cancel is named in a warning and
cancelled again, until it has ended; :func:`run_together` runs a service's children the way a
TaskGroup does, but stops them that way. Pure asyncio: no I/O of its own.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Iterable, Mapping
from typing import Any, Final

log = logging.getLogger(__name__)

RECANCEL_S: Final = 1.0
"""How long a cancelled task may take to end before it is named and cancelled again."""


async def _stop(tasks: Iterable[asyncio.Task[Any]], recancel_s: float) -> asyncio.CancelledError | None:
    """Cancel each task until it is done. A cancel of the caller meanwhile does not cut the stop
    short (that would leave the tasks running): it is returned, for the caller to raise."""
    pending = {task for task in tasks if not task.done()}
    interrupted: asyncio.CancelledError | None = None
    while pending:
        for task in pending:
            task.cancel()
        try:
            _, pending = await asyncio.wait(pending, timeout=recancel_s)
        except asyncio.CancelledError as err:
            interrupted = err
            pending = {task for task in pending if not task.done()}
            continue
        for task in pending:
            log.warning(
                "task %r still running %g s after a cancel; cancelling it again", task.get_name(), recancel_s
            )
    return interrupted


def cancel_requested() -> bool:
    """Whether the running task was cancelled and has not taken it back (``Task.cancelling``): for
    a reconnect loop to tell a stop from a lost link when aiomqtt's disconnect, on the way out of
    a cancelled connection, raised an MqttError in the cancel's place."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def _errors(tasks: Iterable[asyncio.Task[Any]]) -> list[BaseException]:
    return [error for task in tasks if not task.cancelled() and (error := task.exception()) is not None]


async def cancel_until_done(tasks: Iterable[asyncio.Task[Any]], *, recancel_s: float = RECANCEL_S) -> None:
    """Cancel each task until it is done; an error a task ended with is logged, not raised. A
    cancel of the caller meanwhile is raised once every task has ended."""
    every = list(tasks)
    interrupted = await _stop(every, recancel_s)
    for task in every:
        if not task.cancelled() and task.exception() is not None:
            log.error("task %s ended with an error: %r", task.get_name(), task.exception())
    if interrupted is not None:
        raise interrupted


async def run_together(
    children: Mapping[str, Coroutine[Any, Any, object]], *, recancel_s: float = RECANCEL_S
) -> None:
    """Run ``children`` (task name -> coroutine) until every one has ended, as ``asyncio.TaskGroup``
    would: the first that fails, or a cancel of the caller, stops the others; a cancel of the caller
    is raised (the children's errors as its cause), else the children's errors together in an
    ``ExceptionGroup`` (``except*`` takes them apart). Unlike a TaskGroup, a child that swallows its
    cancel is cancelled again until it has ended (:func:`cancel_until_done`), so stopping takes
    seconds, not for ever; and a child that fails as it is stopped (aiomqtt's message iterator says
    "Disconnected during message iteration") does not turn the caller's cancel into an error a
    reconnect loop takes for a lost link and goes round again: 200 lanes' uplinks in a test went on
    reconnecting after their one cancel, and the test waited on them until pytest-timeout."""
    tasks = [asyncio.create_task(coroutine, name=name) for name, coroutine in children.items()]
    if not tasks:
        return
    cancelled: asyncio.CancelledError | None = None
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    except asyncio.CancelledError as err:
        cancelled = err
    interrupted = await _stop(tasks, recancel_s)
    errors = _errors(tasks)
    group = BaseExceptionGroup("errors in tasks run together", errors) if errors else None
    stop = cancelled or interrupted
    if stop is not None:
        raise stop from group
    if group is not None:
        raise group
