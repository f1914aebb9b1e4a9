"""Store-and-forward across real failures: the hub ends with exactly the journal's events.

A real mosquitto, the real hub process (SQLite) and real controller uplinks with their SQLite
journals. The hub is killed with SIGKILL mid-ingest, the broker is restarted mid-drain, a lane
comes back after 10,000 events offline; every time the hub must hold each (device, seq) once,
none missing, and the lane must forget exactly what the hub acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from controller.config import MqttConfig
from controller.journal import Journal
from controller.uplink import Uplink
from hub.store import Store
from sitegate.hubproc import HubLauncher
from sitegate.mosquitto import Mosquitto
from tests.controller.test_journal import make_event
from tests.support.placed import place_lanes
from wire.models import AccessEvent

pytestmark = pytest.mark.broker


def events_for(device_id: str):
    def build(seq: int) -> AccessEvent:
        return make_event(seq).model_copy(update={"device_id": device_id})

    return build


async def placed(db: Path, devices: list[str]) -> None:
    """The lanes placed at their gates (project P1, lane A1, entry: what ``make_event`` claims):
    the hub stores only what a placed device sends (hub.events.attribution)."""
    async with await Store.open(f"sqlite+aiosqlite:///{db}") as store:
        await place_lanes(store, [(device, "P1") for device in devices], direction="in")


def append_events(journal: Journal, device_id: str, count: int) -> None:
    """``count`` events of ``device_id``, each through :meth:`Journal.append`, with SQLite's
    ``synchronous=NORMAL`` meanwhile instead of the journal's ``FULL``: nothing here cuts the power,
    and a sync per event was most of the fill (3,000 events: 0.73 CPU-s and 10 s on this machine's
    loaded disk; 0.14 CPU-s and 0.5 s without). Power cuts are tests/controller/
    test_powercut.py's and tests/support/powercut.py's; the link and its acks run on ``FULL``."""
    journal._db.execute("PRAGMA synchronous=NORMAL")
    try:
        for _ in range(count):
            journal.append(events_for(device_id))
    finally:
        journal._db.execute("PRAGMA synchronous=FULL")


def stored_seqs(db: Path, device_id: str) -> list[int]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        rows = conn.execute("SELECT seq FROM access_events WHERE device_id = ? ORDER BY seq", (device_id,))
        return [int(seq) for (seq,) in rows]


@contextlib.asynccontextmanager
async def uplinks(broker: Mosquitto, journals: dict[str, Journal]) -> AsyncIterator[dict[str, Uplink]]:
    config = MqttConfig(
        host=broker.host, port=broker.port, resend_after_s=1.0, window=200, reconnect_window_s=0.5
    )
    links = {device: Uplink(config, device, journal) for device, journal in journals.items()}
    tasks = [asyncio.create_task(link.run()) for link in links.values()]
    try:
        yield links
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def until(predicate, within_s: float, what: str) -> None:
    deadline = time.monotonic() + within_s
    while not predicate():
        assert time.monotonic() < deadline, f"{what} not reached within {within_s:.0f} s"
        await asyncio.sleep(0.05)


async def test_ten_thousand_offline_events_arrive_exactly_once(broker: Mosquitto, tmp_path: Path) -> None:
    journal = Journal(tmp_path / "lane.sqlite3")
    append_events(journal, "lane-off-1", 10_000)  # the link is down all this time
    db = tmp_path / "hub.sqlite3"
    await placed(db, ["lane-off-1"])
    with HubLauncher(db, broker.host, broker.port):
        async with uplinks(broker, {"lane-off-1": journal}) as links:
            started = time.monotonic()
            await until(lambda: journal.backlog() == 0, 60, "drained backlog")
            elapsed = time.monotonic() - started
            links["lane-off-1"].notify()
    assert stored_seqs(db, "lane-off-1") == list(range(1, 10_001))
    assert journal.acked_through == 10_000
    print(f"drained 10,000 events in {elapsed:.2f} s ({10_000 / elapsed:.0f} events/s)")


async def test_hub_killed_mid_ingest_and_broker_restarted_mid_drain(
    broker: Mosquitto, tmp_path: Path
) -> None:
    devices = [f"lane-kill-{n}" for n in range(3)]
    journals = {d: Journal(tmp_path / f"{d}.sqlite3") for d in devices}
    for device, journal in journals.items():
        append_events(journal, device, 3_000)
    db = tmp_path / "hub.sqlite3"
    await placed(db, devices)
    async with uplinks(broker, journals):
        with HubLauncher(db, broker.host, broker.port) as hub:
            await until(lambda: any(j.acked_through > 200 for j in journals.values()), 30, "first acks")
            hub.proc.send_signal(signal.SIGKILL)  # mid-ingest: no clean shutdown, no final acks
            hub.proc.wait(10)
        broker.restart()  # mid-drain, while the lanes still hold unacknowledged events
        with HubLauncher(db, broker.host, broker.port):
            await until(lambda: all(j.backlog() == 0 for j in journals.values()), 90, "every journal drained")
    for device in devices:
        assert stored_seqs(db, device) == list(range(1, 3_001)), device
