"""Drain bench: a lane journals a backlog of 100,000 events with the broker unreachable (an outage),
then the link returns and the journal drains into the real hub process until every event is
acknowledged.

    .venv/bin/python bench/drain.py [--events 100000] [--store sqlite|postgres] [--deadline-s S]

Real parts: the controller's SQLite journal (one durable transaction per event, as at a turnstile),
its Uplink, a private mosquitto, and the hub as its own process on SQLite (a file in a temporary
directory) or PostgreSQL (a private server). The link issue asks that a lane keep working offline
for at least 7 days of events (>= 100,000) and drain at >= 2,000 events/s when the link returns.
``drain_s`` runs from the uplink's start until the journal's acknowledged watermark covers the whole
backlog, so it includes connecting. Last stdout line: one JSON object with ``backlog``,
``drain_events_per_s``, ``lost``, ``duplicates`` (and ``store``, ``append_s``, ``drain_s``); exit
status 1 when a goal is missed (the rate not with ``--smoke``), 2 when the bench could not finish
(``--deadline-s``, default enough for the size, ends a run that is stuck, naming what it waited
for), 128 + N when ended by signal N; the broker, the hub and PostgreSQL are stopped in every case
(bench/_lifetime.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import functools  # noqa: E402
import json  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

from bench._common import STORES, Hub, access_event, database, place_devices, stored_keys, tally  # noqa: E402
from bench._lifetime import Lifetime, bench_lifetime, log  # noqa: E402
from controller.config import MqttConfig  # noqa: E402
from controller.journal import Journal  # noqa: E402
from controller.uplink import Uplink  # noqa: E402
from sitegate.mosquitto import Mosquitto  # noqa: E402

DEVICE = "lane-offline-1"
GOAL_EVENTS_PER_S = 2000


async def drain(life: Lifetime, journal: Journal, broker: Mosquitto, events: int) -> float:
    config = MqttConfig(host=broker.host, port=broker.port, window=500, reconnect_window_s=0.5)
    uplink = Uplink(config, DEVICE, journal)
    task = asyncio.create_task(uplink.run())
    started = last_report = time.monotonic()

    def drained() -> bool:
        nonlocal last_report
        if time.monotonic() - last_report > 2:
            last_report = time.monotonic()
            log(f"drain: acknowledged through {journal.acked_through}")
        return journal.acked_through >= events or task.done()

    try:
        await life.until(
            drained,
            f"the hub's acknowledgements never covered the backlog of {events} events",
            detail=lambda: f"acknowledged through seq {journal.acked_through}, {uplink.published} published",
            poll_s=0.05,
        )
        if journal.acked_through < events:  # the uplink ended by itself
            life.fail(f"the uplink stopped before the backlog drained: {task.exception()!r}")
        return time.monotonic() - started
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def default_deadline_s(events: int) -> float:
    """Several times what a run of that size takes here (≈ 1 ms to journal an event, drained at
    thousands a second), so only a run that is stuck reaches it."""
    return 120.0 + 0.006 * events


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000, help="the backlog (default 100000)")
    parser.add_argument("--store", choices=STORES, default="sqlite")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="never fails on the goal (tiny sizes connect more than they drain)",
    )
    parser.add_argument(
        "--deadline-s", type=float, help="the whole run's deadline (default: 120 s + 6 ms an event)"
    )
    args = parser.parse_args(argv)
    if args.events < 1:
        parser.error("--events must be at least 1")
    with (
        bench_lifetime("drain", args.deadline_s or default_deadline_s(args.events)) as life,
        tempfile.TemporaryDirectory(prefix="sitegate-drain-") as tmp,
    ):
        root = Path(tmp)
        journal = Journal(root / "journal.sqlite3")
        build = functools.partial(access_event, DEVICE)
        life.step(f"journaling a backlog of {args.events} events offline")
        started = time.monotonic()
        for n in range(args.events):
            journal.append(build)
            if (n + 1) % 20_000 == 0:
                log(f"offline: {n + 1} events journaled")
            if n % 100 == 0 and not life.remaining():
                life.fail(f"only {n + 1} of {args.events} events journaled {life.within_deadline}")
        append_s = time.monotonic() - started
        life.step(f"starting the {args.store} store, mosquitto and the hub")
        with database(args.store, root) as url, Mosquitto() as broker:
            with Hub(url, broker, state_dir=root, log_path=root / "hub.log"):
                asyncio.run(place_devices(url, [DEVICE]))
                life.step("draining the backlog into the hub")
                drain_s = asyncio.run(drain(life, journal, broker, args.events))
                life.step("stopping the hub")
            journal.close()
            life.step("counting the stored events")
            counted = tally({DEVICE: args.events}, asyncio.run(stored_keys(url)))
            life.step("stopping the broker and the store")
    report = {
        "store": args.store,
        "backlog": args.events,
        "append_s": round(append_s, 2),
        "drain_s": round(drain_s, 2),
        "drain_events_per_s": round(args.events / drain_s),
        "lost": counted.lost,
        "duplicates": counted.duplicates,
        "goal_events_per_s": GOAL_EVENTS_PER_S,
    }
    print(json.dumps(report))
    ok = report["drain_events_per_s"] >= GOAL_EVENTS_PER_S and counted.lost == counted.duplicates == 0
    return 0 if ok or (args.smoke and counted.lost == counted.duplicates == 0) else 1


if __name__ == "__main__":
    sys.exit(main())
