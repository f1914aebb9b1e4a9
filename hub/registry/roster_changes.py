"""Who is told when a committed registry write changed what a site's lanes must know.

An assignment, a watchlist flag or a gate changes a project's roster; the registry calls each
subscribed listener with the project's id after the transaction commits, never before: a listener
compiles and pushes the roster, and must read what was committed. A listener that fails is logged
and does not undo or fail the write (the roster publisher retries on its own).
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Awaitable, Callable, Iterable

log = logging.getLogger(__name__)

RosterListener = Callable[[str], Awaitable[None]]
"""Called with a project's id after a committed write changed what its lanes must know."""


class RosterChanges:
    def __init__(self) -> None:
        self._listeners: list[RosterListener] = []

    def subscribe(self, listener: RosterListener) -> Callable[[], None]:
        """Call ``listener`` after each committed roster change; returns the unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    async def notify(self, project_ids: Iterable[str]) -> None:
        for project_id in sorted(set(project_ids)):
            for listener in list(self._listeners):
                try:
                    await listener(project_id)
                except Exception as err:  # noqa: BLE001 - the write is committed whatever a listener does
                    # The type and where, not the message: a listener's message could quote anything.
                    frame = traceback.extract_tb(err.__traceback__)[-1] if err.__traceback__ else None
                    where = f" at {frame.filename}:{frame.lineno}" if frame else ""
                    log.error(
                        "roster listener failed for project %s: %s%s", project_id, type(err).__name__, where
                    )
