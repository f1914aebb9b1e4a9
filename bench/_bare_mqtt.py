"""The bare MQTT subscribers the benches compare their real paths with, each a child process of its
bench, started as this script (not as the bench's own script again): they import aiomqtt and little
else, so a child starts in ~0.15 CPU-s where the bench's script, with the hub's store or the
controller behind its imports, took ~1 CPU-s before it did anything.

    python bench/_bare_mqtt.py count PORT EXPECTED TOPIC STALL_S [--shared-tables]
        bench/ingest.py's: subscribes to TOPIC at QoS 1 (MQTT v5: the hub's shared subscription),
        says "ready", counts until EXPECTED messages arrived or none came for STALL_S, then prints
        {"count", "first_at", "last_at"} (monotonic times) as one JSON line. ``--shared-tables``
        gives it the hub's receive path too (hub.paho_tables).
    python bench/_bare_mqtt.py answer PORT EXPECTED TOPIC DONE_TOPIC
        bench/roster_sync.py's: subscribes to TOPIC at QoS 1, says "ready", and publishes "done" on
        DONE_TOPIC each time EXPECTED more messages arrived, until it is stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

import aiomqtt
from paho.mqtt.subscribeoptions import SubscribeOptions

HOST = "127.0.0.1"


async def count(port: int, expected: int, topic: str, stall_s: float) -> None:
    """Count messages on ``topic``; print first/last receipt times."""
    counted, first_at, last_at = 0, 0.0, 0.0
    async with aiomqtt.Client(
        HOST, port, identifier="bench-raw-sub", protocol=aiomqtt.ProtocolVersion.V5, timeout=30
    ) as client:
        client.pending_calls_threshold = 100_000
        await client.subscribe([(topic, SubscribeOptions(qos=1))])
        print("ready", flush=True)

        async def counting() -> None:
            nonlocal counted, first_at, last_at
            async for _ in client.messages:
                last_at = time.monotonic()
                if not counted:
                    first_at = last_at
                counted += 1
                if counted == expected:
                    return

        counter = asyncio.create_task(counting())
        seen = -1
        while not counter.done():
            await asyncio.wait([counter], timeout=stall_s)
            if counted == seen:
                counter.cancel()
                break
            seen = counted
    print(json.dumps({"count": counted, "first_at": first_at, "last_at": last_at}), flush=True)


async def answer(port: int, expected: int, topic: str, done_topic: str) -> None:
    """Say "done" on ``done_topic`` each time ``expected`` more messages arrived on ``topic``."""
    async with aiomqtt.Client(HOST, port, identifier="bench-raw-sub") as client:
        await client.subscribe(topic, qos=1)
        print("ready", flush=True)
        received = 0
        async for _ in client.messages:
            received += 1
            if received == expected:
                await client.publish(done_topic, b"done", qos=1)
                received = 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    modes = parser.add_subparsers(dest="mode", required=True)
    counting = modes.add_parser("count")
    counting.add_argument("port", type=int)
    counting.add_argument("expected", type=int)
    counting.add_argument("topic")
    counting.add_argument("stall_s", type=float)
    counting.add_argument("--shared-tables", action="store_true")
    answering = modes.add_parser("answer")
    answering.add_argument("port", type=int)
    answering.add_argument("expected", type=int)
    answering.add_argument("topic")
    answering.add_argument("done_topic")
    args = parser.parse_args()
    if args.mode == "answer":
        asyncio.run(answer(args.port, args.expected, args.topic, args.done_topic))
        return 0
    if args.shared_tables:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from hub.paho_tables import install

        install()
    asyncio.run(count(args.port, args.expected, args.topic, args.stall_s))
    return 0


if __name__ == "__main__":
    sys.exit(main())
