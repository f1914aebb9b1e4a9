"""Offline week bench: a lane journals 100,000 events with the broker unreachable, then the link
returns and the journal drains into the real hub process until every event is acknowledged.

    .venv/bin/python bench/offline_drain.py [--events 100000]

Real parts: the controller's SQLite journal (one durable transaction per event, as at a turnstile),
its Uplink, a private mosquitto, and the hub as its own process on SQLite. The link issue asks that a
lane keep working offline for at least 7 days of events (>= 100,000) and drain at >= 2,000 events/s
when the link returns. Last stdout line: one JSON object with ``events``, ``append_s``,
``drain_s``, ``events_per_s``, ``lost``, ``duplicates``; exit status 1 when a goal is missed.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import contextlib  # noqa: E402
import json  # noqa: E402
import sqlite3  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime  # noqa: E402

from controller.config import MqttConfig  # noqa: E402
from controller.journal import Journal  # noqa: E402
from controller.uplink import Uplink  # noqa: E402
from sitegate.hubproc import hub_process  # noqa: E402
from sitegate.mosquitto import Mosquitto  # noqa: E402
from wire.models import AccessEvent, CardKind, Decision, Direction, Reason  # noqa: E402

DEVICE = "lane-offline-1"
GOAL_EVENTS_PER_S = 2000


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def event(seq: int) -> AccessEvent:
    return AccessEvent(
        device_id=DEVICE,
        seq=seq,
        boot_id="bench-boot-0001",
        mono_ns=seq * 1_000_000,
        wall_time=datetime.now(UTC),
        clock_synced=False,
        project_id="P-BENCH",
        lane="A1",
        direction=Direction.IN,
        decision=Decision.DENIED,
        reason=Reason.NOT_REGISTERED,
        card_kind=CardKind.RESIDENT,
        credential_hash=f"{seq:064x}",
    )


async def drain(journal: Journal, broker: Mosquitto, events: int) -> float:
    config = MqttConfig(host=broker.host, port=broker.port, window=500, reconnect_window_s=0.5)
    uplink = Uplink(config, DEVICE, journal)
    task = asyncio.create_task(uplink.run())
    started = time.monotonic()
    try:
        last_report = started
        while journal.acked_through < events:
            await asyncio.sleep(0.05)
            if time.monotonic() - last_report > 2:
                last_report = time.monotonic()
                log(f"drain: acknowledged through {journal.acked_through}")
            if time.monotonic() - started > 600:
                raise TimeoutError("not drained within 10 minutes")
        return time.monotonic() - started
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="sitegate-offline-") as tmp:
        root = Path(tmp)
        journal = Journal(root / "journal.sqlite3")
        started = time.monotonic()
        for n in range(args.events):
            journal.append(event)
            if (n + 1) % 20_000 == 0:
                log(f"offline: {n + 1} events journaled")
        append_s = time.monotonic() - started
        db = root / "hub.sqlite3"
        with Mosquitto() as broker, hub_process(db, broker.host, broker.port):
            drain_s = asyncio.run(drain(journal, broker, args.events))
        journal.close()
        with contextlib.closing(sqlite3.connect(db)) as conn:
            stored = [
                int(s)
                for (s,) in conn.execute("SELECT seq FROM access_events WHERE device_id = ?", (DEVICE,))
            ]
    unique = set(stored)
    report = {
        "events": args.events,
        "append_s": round(append_s, 2),
        "drain_s": round(drain_s, 2),
        "events_per_s": round(args.events / drain_s),
        "lost": len(set(range(1, args.events + 1)) - unique),
        "duplicates": len(stored) - len(unique),
        "goal_events_per_s": GOAL_EVENTS_PER_S,
    }
    print(json.dumps(report))
    ok = report["events_per_s"] >= GOAL_EVENTS_PER_S and report["lost"] == 0 and report["duplicates"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
