"""Work a hub component starts for a lane and does not await: logged when it fails, stopped for certain.

The roster publisher and the site relay answer lanes in tasks of their own, so that the ingest
that hands them a message never waits on a send. Such a task must never take its owner (or the
ingest) down with an error, and leaving the owner must stop every one of them
(:func:`sitegate.tasks.cancel_until_done`), which is what :class:`BackgroundTasks` keeps.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from hub.errors import HubError
from sitegate.tasks import cancel_until_done


class BackgroundTasks:
    """The tasks under way for one owner, whose failures go to the owner's ``log``, named ``owner``
    ("roster publisher")."""

    def __init__(self, owner: str, log: logging.Logger) -> None:
        self.owner = owner
        self._log = log
        self._tasks: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return len(self._tasks)

    def spawn(self, work: Coroutine[Any, Any, None], name: str | None = None) -> None:
        task = asyncio.create_task(self._logged(work), name=name)
        self._tasks.add(task)

        def finished(done: asyncio.Task[None]) -> None:
            self._tasks.discard(done)
            # A task cancelled before it first ran (a stop right after a spawn) never started
            # ``work``: close it, or Python warns that a coroutine was never awaited.
            work.close()

        task.add_done_callback(finished)

    async def idle(self) -> None:
        """Until every task, and every task those spawned meanwhile, has finished."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def stop(self) -> None:
        """Cancel every task until it has ended."""
        await cancel_until_done(self._tasks)

    async def _logged(self, work: Coroutine[Any, Any, None]) -> None:
        try:
            await work
        except HubError as err:
            self._log.error("%s: %s", self.owner, err)
        except Exception:  # noqa: BLE001 - logged with its traceback, on the owner's logger
            # a lane's request must never take the owner (or the ingest) down
            self._log.exception("%s failed", self.owner)
