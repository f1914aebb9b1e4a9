"""The one HTTP session of a hub worker that calls out: the worker platforms' uploader
(:mod:`hub.platform.uploader`) and the alerts' webhooks (:mod:`hub.workflows.deliveries`).

Each holds a :class:`HttpSession` for as long as it is used as ``async with``, so its requests share
one connection pool and the pool is closed when the worker stops; a request outside that block is a
programming error and says which worker was misused.
"""

from __future__ import annotations

import aiohttp


class HttpSession:
    """An :class:`aiohttp.ClientSession` from :meth:`open` to :meth:`close` (both safe to repeat)."""

    def __init__(self, owner: str) -> None:
        self._owner = owner
        self._session: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def session(self) -> aiohttp.ClientSession:
        """The open session; RuntimeError if the owner is not inside its ``async with``."""
        if self._session is None:
            raise RuntimeError(f"{self._owner} is used as 'async with'")
        return self._session
