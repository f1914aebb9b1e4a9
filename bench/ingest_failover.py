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
import json  # noqa: E402
import time  # noqa: E402
from collections.abc import Mapping  # noqa: E402
from typing import Any  # noqa: E402

from bench._common import Passages, Run, bench_parser, device_ids, link_drops, place_devices, started, tail  # noqa: E402
from bench._lanes import STALL_S, Lanes, logging_progress, until_acked  # noqa: E402
from bench._lifetime import log  # noqa: E402
from controller.config import MqttConfig  # noqa: E402

SHARE_GROUP = "bench-failover"


async def failover(run: Run, args: argparse.Namespace) -> tuple[dict[str, Any], Mapping[str, int]]:
    life, url, broker = run.life, run.url, run.broker
    config = MqttConfig(
        host=broker.host,
        port=broker.port,
        window=args.window,
        resend_after_s=args.resend_after,
        reconnect_window_s=0.5,
    )
    lanes = Lanes(
        life, run.files, device_ids(args.devices, "lane-fo"), Passages(args.events, args.granted), config
    )
    victim, survivor = (run.hub(name, share_group=SHARE_GROUP) for name in ("hub-a", "hub-b"))
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
            log(f"acknowledgements stalled; the end of hub-b's log:\n{tail(run.log('hub-b'))}")
    report = {
        "acked_when_killed": acked_when_killed,
        "resent": resent,
        "recovery_s": round(recovered_at - killed_at, 2),
        "acked_all": done,
        "survivor_link_drops": link_drops(run.log("hub-b")),
    }
    return report, journaled


def main() -> int:
    parser = bench_parser(
        __doc__,
        events=20_000,
        devices=20,
        rate=2000,
        deadline_default="180 s + the journaling time at --rate, twice",
    )
    parser.add_argument(
        "--kill-after", type=int, default=5000, help="acknowledged events before the kill (default 5000)"
    )
    parser.add_argument(
        "--resend-after", type=float, default=10.0, help="the uplinks' resend_after_s (default 10)"
    )
    parser.add_argument("--window", type=int, default=200, help="the uplinks' window (default 200)")
    parser.add_argument("--granted", type=float, default=0.9, help="share of granted passages (default 0.9)")
    args = parser.parse_args()
    if not 0 < args.kill_after < args.events:
        parser.error("--kill-after must be between 0 and --events")
    if args.rate <= 0:
        parser.error("--rate must be positive")
    deadline_s = args.deadline_s or 180.0 + 2 * args.events / args.rate + 2 * STALL_S
    with started("ingest_failover", args, deadline_s, files_prefix="sitegate-failover-") as run:
        outcome, journaled = asyncio.run(failover(run, args))
        counted = asyncio.run(run.counted(journaled))
    report = {
        "store": args.store,
        "events": args.events,
        "devices": args.devices,
        "lost": counted.lost,
        "duplicates": counted.duplicates,
        "unexpected": counted.unexpected,
        **outcome,
        "resend_after_s": args.resend_after,
    }
    print(json.dumps(report))
    return 0 if counted.lost == counted.duplicates == 0 and outcome["acked_all"] else 1


if __name__ == "__main__":
    sys.exit(main())
