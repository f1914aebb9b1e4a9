"""A cancelled SQLite connection that closes instead of hanging the event loop for ever.

When a task holding a pooled connection is cancelled, SQLAlchemy's asyncio adapter invalidates the
connection with ``terminate()``: a *graceful* close (``aiosqlite.Connection.close()``) under
``asyncio.shield``, and, if the waiting task is cancelled again, a *force* close (aiosqlite's
``stop()``). With aiosqlite 0.22 the force close ends the worker thread without answering what is
queued before it, so the graceful close still under way waits on a future nobody will resolve, and
whoever waits for that task waits for ever: the hub's shutdown, or the event loop's own close.
``sitegate.tasks.cancel_until_done`` cancels again after 1 s, and a WAL connection's close (a
checkpoint, with ``synchronous=FULL``) took longer than that on a loaded machine: a test's
teardown hung 1 run in 5-6 (tests/hub/oversight/test_api.py). The same bug is reported as
sqlalchemy/sqlalchemy#13039, omnilib/aiosqlite#369 and wapiti-scanner/wapiti#802.

The remedy here: while a connection's graceful close is under way, a force close leaves it alone.
That close finishes on the still-running worker thread and stops it itself; nothing is stranded.
Installed once, by :func:`hub.store.dialect.prepare_sqlite`.
"""

from __future__ import annotations

import weakref
from typing import Any

from sqlalchemy.dialects.sqlite import aiosqlite as adapter

_closing: weakref.WeakSet[Any] = weakref.WeakSet()
"""The aiosqlite connections whose graceful close is under way."""
_installed = False


async def _graceful_close(self: Any) -> None:
    connection = self._connection
    _closing.add(connection)
    try:
        await connection.close()
    finally:
        _closing.discard(connection)


def install() -> None:
    global _installed
    if _installed:
        return
    cls = adapter.AsyncAdapt_aiosqlite_connection
    force_close = cls._terminate_force_close

    def _force_close(self: Any) -> None:
        if self._connection in _closing:
            return  # its close() stops the worker thread once the thread has answered it
        force_close(self)

    cls._terminate_graceful_close = _graceful_close  # type: ignore[method-assign]
    cls._terminate_force_close = _force_close  # type: ignore[method-assign]
    _installed = True
