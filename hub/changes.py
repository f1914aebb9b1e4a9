"""A "something changed" signal for the live screens (大屏), per hub process.

The ingest tells it that a batch was stored (its ``on_stored`` hook); every screen's event stream
holds a subscription and re-reads its figures when told. Bursts are folded: the morning peak
stores hundreds of batches a second, a screen needs to hear at most one change per
:attr:`Changes.debounce_s`. Nothing is kept but the subscriptions: a second hub instance has its
own, fed by the batches its own ingest stores (each screen's stream is held by one instance, whose
share of the traffic changes its figures' reads every second anyway; the page also re-reads on a
slow timer, so a change stored by the other instance shows within that).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

from aiohttp import web


class Changes:
    """Fans one debounced signal out to any number of subscribers (asyncio, one loop)."""

    def __init__(self, debounce_s: float = 1.0) -> None:
        self.debounce_s = debounce_s
        self._subscribers: set[asyncio.Event] = set()
        self._pending: asyncio.TimerHandle | None = None
        self.closed = False

    def __len__(self) -> int:
        return len(self._subscribers)

    def changed(self) -> None:
        """Something was stored: each subscriber hears of it within ``debounce_s``, once for a burst.
        Called from the loop (the ingest's hook runs there)."""
        if self._pending is None:
            self._pending = asyncio.get_running_loop().call_later(self.debounce_s, self._signal)

    def _signal(self) -> None:
        self._pending = None
        for event in self._subscribers:
            event.set()

    @contextlib.contextmanager
    def subscription(self) -> Iterator[asyncio.Event]:
        """An event set at each signal; the subscriber clears it once it has read the figures."""
        event = asyncio.Event()
        self._subscribers.add(event)
        try:
            yield event
        finally:
            self._subscribers.discard(event)

    def close(self) -> None:
        """The hub is stopping: every subscriber is woken and finds :attr:`closed` set, so its
        stream ends now. aiohttp waits for open handlers when it stops (60 s by default) and does
        not cancel one whose client has gone: a screen's stream, asleep between keep-alives, held
        every hub stop until SIGKILL (10 s a console test module, 25 s or more for an operator)."""
        self.closed = True
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
        for event in self._subscribers:
            event.set()


CHANGES = web.AppKey("changes", Changes)
"""The app's one broadcaster: the ingest's stored batches in, the screens' event streams out."""
