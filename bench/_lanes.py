"""Simulated lanes for the benches that need the controller's own resend path (ingest_failover,
restore): a real ``controller.journal.Journal`` and ``controller.uplink.Uplink`` per device, in the
bench's process, journaling synthetic passages at a rate, and the waits on their acknowledgements.

Import it after the bench has put the repository root on ``sys.path`` (as for bench/_common.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Final

from bench._common import Passages
from bench._lifetime import Lifetime, log
from controller.config import MqttConfig
from controller.journal import Journal
from controller.uplink import Uplink

STALL_S: Final = 60.0
"""No acknowledgement for this long (several resend periods) ends the wait: the rest is lost."""
PROGRESS_EVERY_S: Final = 2.0
TICK_S: Final = 0.01


class Lanes:
    """The simulated controllers: a journal and a real uplink per device, journaling at a rate."""

    def __init__(
        self, life: Lifetime, workdir: Path, devices: list[str], traffic: Passages, config: MqttConfig
    ) -> None:
        self._life = life
        self.journals = {device: Journal(workdir / f"{device}.sqlite3") for device in devices}
        self.uplinks = {device: Uplink(config, device, journal) for device, journal in self.journals.items()}
        self._traffic = traffic
        self.journaled = 0

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Lanes]:
        tasks = [asyncio.create_task(uplink.run()) for uplink in self.uplinks.values()]
        try:
            await self._life.until(
                lambda: all(u.connected for u in self.uplinks.values()),
                "every lane's uplink connected",
                within_s=30,
                detail=lambda: f"{sum(not u.connected for u in self.uplinks.values())} not connected",
            )
            yield self
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for journal in self.journals.values():
                journal.close()

    async def journal(self, count: int, rate: float) -> None:
        """Journal ``count`` more events round-robin over the lanes at ``rate`` a second, waking
        each uplink; fails once the bench's deadline has passed."""
        devices = list(self.journals)
        started, target = time.monotonic(), self.journaled + count
        while self.journaled < target:
            due = min(target, target - count + int((time.monotonic() - started) * rate) + 1)
            while self.journaled < due:
                device = devices[self.journaled % len(devices)]
                self.journals[device].append(functools.partial(self._traffic.event, device))
                self.uplinks[device].notify()
                self.journaled += 1
            if not self._life.remaining():
                self._life.fail(f"the lanes could not journal {count} events {self._life.within_deadline}")
            await asyncio.sleep(TICK_S)

    def acked(self) -> int:
        return sum(journal.acked_through for journal in self.journals.values())

    def published(self) -> int:
        return sum(uplink.published for uplink in self.uplinks.values())

    def progress(self, events: int) -> str:
        return f"{self.journaled}/{events} journaled, {self.acked()} acknowledged, {self.published()} sent"

    def last_seqs(self) -> dict[str, int]:
        return {device: journal.last_seq for device, journal in self.journals.items()}


def logging_progress(predicate: Callable[[], bool], progress: Callable[[], str]) -> Callable[[], bool]:
    """``predicate``, which also logs ``progress()`` every PROGRESS_EVERY_S while it is polled."""
    last_log = time.monotonic()

    def checked() -> bool:
        nonlocal last_log
        if time.monotonic() - last_log > PROGRESS_EVERY_S:
            last_log = time.monotonic()
            log(progress())
        return predicate()

    return checked


async def until_acked(life: Lifetime, lanes: Lanes, events: int) -> bool:
    """Until every journal's acknowledged watermark covers its last event; False if it stalls."""
    last_progress, last_seen, last_log = time.monotonic(), -1, time.monotonic()
    while not (lanes.journaled == events and lanes.acked() == events):
        acked, now = lanes.acked(), time.monotonic()
        if acked != last_seen:
            last_progress, last_seen = now, acked
        elif now - last_progress > STALL_S:
            return False
        if not life.remaining():
            life.fail(
                f"the lanes' events were not all acknowledged {life.within_deadline}:"
                f" {lanes.progress(events)}"
            )
        if now - last_log > PROGRESS_EVERY_S:
            last_log = now
            log(lanes.progress(events))
        await asyncio.sleep(0.05)
    return True
