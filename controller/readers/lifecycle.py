"""What every card reader adapter shares: its health as the lane and the heartbeat see it, and
closing it from the event loop while its blocking I/O lives in worker threads."""

from __future__ import annotations

import asyncio
from types import TracebackType

from wire.models import ReaderState


class ReaderLifecycle:
    """``state``/``fault`` for health; subclasses open in ``__aenter__`` and release in ``_close``."""

    def __init__(self, name: str) -> None:
        self.name = name  # the key in the heartbeat's reader_status
        self.state = ReaderState.ABSENT
        self._fault: str | None = "not opened"

    @property
    def healthy(self) -> bool:
        return self.state is ReaderState.OK

    @property
    def fault(self) -> str | None:
        return self._fault

    def _close(self) -> None:
        raise NotImplementedError

    async def aclose(self) -> None:
        """Release the device; for owners that iterate ``cards()`` without ``async with``."""
        await asyncio.to_thread(self._close)
        self.state = ReaderState.ABSENT

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
