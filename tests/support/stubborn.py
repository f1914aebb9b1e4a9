"""A task body that resists cancellation the way Python 3.11's ``asyncio.wait_for`` can: it
returns instead of raising when a cancel lands as its inner future completes (inside aiomqtt's
publish, say). Here it happens every time, not by chance."""

from __future__ import annotations

import asyncio


class Stubborn:
    """Waits for ever; swallows its first ``swallow`` cancels, ends on the next one."""

    def __init__(self, swallow: int = 1) -> None:
        self.swallow = swallow
        self.cancels = 0
        self.started = asyncio.Event()

    async def run(self) -> None:
        self.started.set()
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                self.cancels += 1
                if self.cancels <= self.swallow:
                    continue
                raise
