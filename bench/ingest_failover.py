"""Ingest failover bench: two hub instances split one MQTT v5 shared subscription; one is killed
with SIGKILL mid-run; the survivor must end with every event stored exactly once.

    .venv/bin/python bench/ingest_failover.py [--store sqlite|postgres] [--events 20000]
        [--devices 20] [--rate 2000] [--kill-after 5000] [--resend-after 10] [--deadline-s S]

What guarantees "exactly once" here, and so what this bench tests: the hub does *not* hold the
broker's PUBACK back until its commit. aiomqtt (paho) acknowledges a QoS 1 message when it is read
off the socket, and the ingest then queues it in memory until its batch commits (hub/ingest.py
says so). A hub killed with SIGKILL therefore takes with it messages the broker already counts as
delivered (read but not committed), and the broker does not hand them to the other member of the
share group. Nothing at the broker brings them back. The controller does: it forgets an event only
when a ``StorageAck`` (published by a hub after the commit, with the device's *contiguous*
watermark) covers it, and when the watermark stops moving for ``resend_after_s`` it sends
everything after it again, which the store's (device, seq) uniqueness makes harmless. So the
simulated controllers are the real ones: ``controller.uplink.Uplink`` over a real
``controller.journal.Journal`` per device, in this process, with their resend timer
(``--resend-after``, default 10 s, the controller's default).

Run: a private mosquitto, the database (a SQLite file both hubs open, or a private PostgreSQL),
two ``sitegate hub`` processes with the same share group (both subscribed per ``/healthz`` before
anything is sent). The lanes journal ``--events`` events between them at ``--rate`` events/s (a
``--granted`` share are passages of synthetic people, so presence and attendance are derived by
both hubs at once) and their uplinks send them. When the lanes have had ``--kill-after``
events acknowledged, one hub gets SIGKILL; the lanes keep journaling; the bench waits until every
journal's acknowledged watermark covers its last event, then reads the database back.

Last stdout line, one JSON object: ``events``, ``lost`` (journaled (device, seq) with no row),
``duplicates`` (rows beyond one per (device, seq)), both goals 0; ``resent`` (publishes beyond one
per event: > 0 shows the resend path was used), ``acked_when_killed``, ``recovery_s`` (kill to
the last acknowledgement). Exit status 1 if an event is lost or stored twice, 2 if the bench
could not finish (every wait is bounded, the whole run by ``--deadline-s``, default enough for the
size; the message names what it waited for), 128 + N when ended by signal N. Whatever way it
ends, the broker, both hubs and PostgreSQL are stopped (bench/_lifetime.py).
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
import functools  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
from collections.abc import AsyncIterator, Callable, Mapping  # noqa: E402
from typing import Any  # noqa: E402

from bench._common import (  # noqa: E402
    STORES,
    Hub,
    Passages,
    database,
    device_ids,
    link_drops,
    place_devices,
    run_dir,
    stored_keys,
    tail,
    tally,
)
from bench._lifetime import Lifetime, bench_lifetime, log  # noqa: E402
from controller.config import MqttConfig  # noqa: E402
from controller.journal import Journal  # noqa: E402
from controller.uplink import Uplink  # noqa: E402
from sitegate.mosquitto import Mosquitto  # noqa: E402

SHARE_GROUP = "bench-failover"
STALL_S = 60.0
"""No acknowledgement for this long (several resend periods) ends the wait: the rest is lost."""
PROGRESS_EVERY_S = 2.0
TICK_S = 0.01


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

    async def journal(self, events: int, rate: float) -> None:
        """Journal ``events`` round-robin over the lanes at ``rate`` a second, waking each uplink."""
        devices = list(self.journals)
        started = time.monotonic()
        while self.journaled < events:
            due = min(events, int((time.monotonic() - started) * rate) + 1)
            while self.journaled < due:
                device = devices[self.journaled % len(devices)]
                self.journals[device].append(functools.partial(self._traffic.event, device))
                self.uplinks[device].notify()
                self.journaled += 1
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


async def failover(
    life: Lifetime, args: argparse.Namespace, url: str, broker: Mosquitto, workdir: Path
) -> tuple[dict[str, Any], Mapping[str, int]]:
    config = MqttConfig(
        host=broker.host,
        port=broker.port,
        window=args.window,
        resend_after_s=args.resend_after,
        reconnect_window_s=0.5,
    )
    lanes = Lanes(
        life, workdir, device_ids(args.devices, "lane-fo"), Passages(args.events, args.granted), config
    )
    victim, survivor = (
        Hub(url, broker, name=n, share_group=SHARE_GROUP, state_dir=workdir, log_path=workdir / f"{n}.log")
        for n in ("hub-a", "hub-b")
    )
    # One after the other: the first one migrates the empty database (two hubs migrating one
    # fresh PostgreSQL at once collide on CREATE TABLE).
    life.step("starting two hubs")
    with victim, survivor:
        await place_devices(url, list(lanes.journals))
        life.step(f"two hubs up on one shared subscription ({args.store}); lanes start journaling")
        async with lanes.running():
            journaling = asyncio.create_task(lanes.journal(args.events, args.rate))
            try:
                await life.until(
                    logging_progress(
                        lambda: lanes.acked() >= args.kill_after, lambda: lanes.progress(args.events)
                    ),
                    f"{args.kill_after} events acknowledged before the kill",
                    within_s=120,
                    detail=lambda: lanes.progress(args.events),
                    poll_s=0.05,
                )
                acked_when_killed = lanes.acked()
                victim.kill()
                killed_at = time.monotonic()
                life.step(f"hub-a killed (SIGKILL) with {acked_when_killed} events acknowledged")
                await life.wait(
                    journaling,
                    f"the lanes to journal all {args.events} events",
                    within_s=args.events / args.rate + 30,
                    detail=lambda: lanes.progress(args.events),
                )
                life.step("waiting for every event to be acknowledged")
                done = await until_acked(life, lanes, args.events)
                recovered_at = time.monotonic()
            finally:
                journaling.cancel()
            resent = lanes.published() - args.events
            journaled = lanes.last_seqs()
        if not done:
            log(f"acknowledgements stalled; the end of hub-b's log:\n{tail(workdir / 'hub-b.log')}")
    report = {
        "acked_when_killed": acked_when_killed,
        "resent": resent,
        "recovery_s": round(recovered_at - killed_at, 2),
        "acked_all": done,
        "survivor_link_drops": link_drops(workdir / "hub-b.log"),
    }
    return report, journaled


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--store", choices=STORES, default="sqlite")
    parser.add_argument("--keep", action="store_true", help="keep the run's files (logs, databases)")
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--devices", type=int, default=20, help="simulated controllers (default 20)")
    parser.add_argument("--rate", type=float, default=2000, help="events journaled a second (default 2000)")
    parser.add_argument(
        "--kill-after", type=int, default=5000, help="acknowledged events before the kill (default 5000)"
    )
    parser.add_argument(
        "--resend-after", type=float, default=10.0, help="the uplinks' resend_after_s (default 10)"
    )
    parser.add_argument("--window", type=int, default=200, help="the uplinks' window (default 200)")
    parser.add_argument("--granted", type=float, default=0.9, help="share of granted passages (default 0.9)")
    parser.add_argument(
        "--deadline-s",
        type=float,
        help="the whole run's deadline (default: 180 s + the journaling time at --rate, twice)",
    )
    args = parser.parse_args()
    if not 0 < args.kill_after < args.events:
        parser.error("--kill-after must be between 0 and --events")
    if args.rate <= 0:
        parser.error("--rate must be positive")
    deadline_s = args.deadline_s or 180.0 + 2 * args.events / args.rate + 2 * STALL_S
    with (
        bench_lifetime("ingest_failover", deadline_s) as life,
        run_dir("sitegate-failover-", args.keep) as files,
    ):
        life.step(f"starting the {args.store} store and mosquitto")
        with database(args.store, files) as url, Mosquitto() as broker:
            run, journaled = asyncio.run(failover(life, args, url, broker, files))
            life.step("counting the stored events")
            counted = tally(journaled, asyncio.run(stored_keys(url)))
            life.step("stopping the broker and the store")
    report = {
        "store": args.store,
        "events": args.events,
        "devices": args.devices,
        "lost": counted.lost,
        "duplicates": counted.duplicates,
        "unexpected": counted.unexpected,
        **run,
        "resend_after_s": args.resend_after,
    }
    print(json.dumps(report))
    return 0 if counted.lost == counted.duplicates == 0 and run["acked_all"] else 1


if __name__ == "__main__":
    sys.exit(main())
