"""Ingest bench: simulated controllers publish access events through the real broker into the real
hub process until the hub has committed them all, against the broker's bare rate for the very same
messages with a subscriber that only counts, measured in the same run.

    .venv/bin/python bench/ingest.py [--store sqlite|postgres] [--events 100000] [--devices 50]
        [--window 50] [--granted 0.9] [--publisher mosquitto_pub|aiomqtt] [--hubs 1] [--profile FILE]
        [--deadline-s S]

Parts, all started here on loopback and free ports: a private mosquitto (sitegate.mosquitto); the
hub's database (a SQLite file in a temporary directory, or a private PostgreSQL from
sitegate.postgres); the hub as its own process (``sitegate hub``, default batching, share group).

The simulated controllers are ``--devices`` MQTT v5 clients, each connected under its device id
and publishing its share of the events, in seq order, on its ``up/<device>/event`` topic at QoS 1
with ``--window`` publishes in flight. By default each is a ``mosquitto_pub -l`` process (the C
client, Debian's mosquitto-clients): Python clients cost about as much CPU per message as the
consumers being measured, and on a 2-CPU machine they would take it from them (``--publisher
aiomqtt`` runs them as aiomqtt clients in this process, for comparison). The payloads are the
uplink's: ``wire.codec.encode`` of ``wire.models.AccessEvent`` (a ``--granted`` share are granted
passages of synthetic registry people, in then out, so the hub's presence and attendance work is
part of the load; the rest are denied swipes), all encoded before the clock starts. One more
client in this process watches the storage acks on ``down/+/ack``, as the lanes would each on
their own.

Two phases on one broker, the same payloads in both, one right after the other (machines are
noisy; ratios are taken within a run):

* raw: a child process with one bare aiomqtt subscriber (bench/_bare_mqtt.py) on the hub's form
  of subscription (MQTT v5 ``$share/<group>/sitegate/v1/up/+/event``, QoS 1) that only counts.
  ``raw_msgs_per_s`` is the number of events over the time from the first publish to the last
  message it received.
* hub: the hub process (started, and subscribed per ``/healthz``, before the clock starts; with
  ``--hubs N``, N of them splitting the stream on the shared subscription, as the hub scales out).
  ``hub_events_per_s`` is the number of events over the time from the first publish to the
  storage acknowledgement that covers each device's last event (the hub publishes a
  ``StorageAck`` only after the commit, with each device's contiguous watermark). Then the
  access events table is read back: ``lost`` = published (device, seq) with no row,
  ``duplicates`` = rows beyond one per (device, seq).

``ratio`` = hub_events_per_s / raw_msgs_per_s (goal: >= 0.6 on both stores; ``lost`` and
``duplicates`` 0). The hub builds paho's MQTT v5 property tables once (hub.paho_tables) where a
plain client builds them for every message; ``--raw-shared-tables`` gives the bare subscriber the
same receive path, to see how the hub's own work compares with receiving alone (``raw_subscriber``
in the report says which ran). ``publish_msgs_per_s`` (hub phase) and ``raw_publish_msgs_per_s``
(raw phase) are the publishers' own rates, first publish to last PUBACK: when one is close to the
matching end-to-end rate, the publishers rather than the consumer set the pace. ``hub_link_drops``
counts the times the hub's ingest lost its broker link (its log says so): it reconnects with a
clean session, and what the broker had queued for it is gone, so with these controllers, which do
not resend, it shows up as ``lost`` and ``acked_all`` false. ``loadavg_1m`` is the machine's load
when the run ended: other work on a 2-CPU machine moves both rates, which is why only their ratio
is compared.

The simulated controllers do not resend (a real controller would, after ``resend_after_s``): a
message the broker drops shows up as ``lost`` instead of being hidden by a resend. With
``--profile FILE`` the hub runs under cProfile (slower: compare ratios only with each other) and
its hottest functions go to stderr. Progress goes to stderr; the last stdout line is one JSON
object; exit status 1 if a goal is missed (not with ``--smoke``), 2 if the bench could not finish
(every wait is bounded, the whole run by ``--deadline-s``, default enough for the size; the
message names what it waited for), 128 + N when ended by signal N. Whatever way it ends, the
broker, the hubs, PostgreSQL and the publishers are stopped (bench/_lifetime.py).
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
import os  # noqa: E402
import random  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from collections.abc import AsyncIterator, Mapping  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Any, Protocol  # noqa: E402

import aiomqtt  # noqa: E402

from bench._common import (  # noqa: E402
    Passages,
    Run,
    bench_parser,
    device_ids,
    link_drops,
    place_devices,
    print_profile,
    split,
    started,
    tail,
)
from bench._lifetime import Lifetime, die_with_parent, log, read_line  # noqa: E402
from sitegate.mosquitto import Mosquitto  # noqa: E402
from sitegate.netutil import spawn, stop_group  # noqa: E402
from wire.codec import decode, encode  # noqa: E402
from wire.models import StorageAck  # noqa: E402
from wire.topics import Channel, shared, subscription, topic_for  # noqa: E402

GOAL_RATIO = 0.6
RAW_GROUP = "bench-raw"
STALL_S = 30.0
"""A phase that makes no progress for this long is over: what has not arrived by then is lost."""
PROGRESS_EVERY_S = 2.0
CONNECT_S = 30.0
BARE_MQTT = str(Path(__file__).with_name("_bare_mqtt.py"))
"""The bare subscriber's script: a child that imports aiomqtt and little else (this script's
imports cost ~1 CPU-s a start)."""


# -- the workload --------------------------------------------------------------------------------


def workload(events: int, devices: list[str], granted: float, seed: int) -> dict[str, list[bytes]]:
    """Each device's payloads in seq order; the devices' events interleave at random."""
    rng = random.Random(seed)
    traffic = Passages(events, granted, seed)
    order = [device for device, n in split(events, devices).items() for _ in range(n)]
    rng.shuffle(order)
    payloads: dict[str, list[bytes]] = {device: [] for device in devices}
    for device in order:
        payloads[device].append(encode(traffic.event(device, len(payloads[device]) + 1)))
    return payloads


# -- the simulated controllers -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Published:
    started: float
    """Monotonic time the clock started: just before the first publish."""
    pubacked: float
    """Monotonic time every publish had its PUBACK."""


class Publishers(Protocol):
    async def publish(self) -> Published:
        """Send every device's payloads once, in seq order per device, at QoS 1."""
        ...


class MosquittoPub:
    """One ``mosquitto_pub -l`` process per device (libmosquitto, C): cheap enough on the CPU that
    the two consumers measured here, not the publishers, set the pace on a 2-CPU machine.

    Each connects as its device (MQTT v5) and is seen connected in the broker's log before the
    clock starts; then its payloads go to its stdin, one per line (compact JSON holds no newline),
    and it exits once every publish has its PUBACK.
    """

    def __init__(
        self, life: Lifetime, broker: Mosquitto, payloads: Mapping[str, list[bytes]], window: int
    ) -> None:
        self._life = life
        self._broker = broker
        self._window = window
        self._lines = {device: b"".join(p + b"\n" for p in ps) for device, ps in payloads.items()}
        if any(b"\n" in p for ps in payloads.values() for p in ps):
            raise ValueError("a payload holds a newline: mosquitto_pub -l would split it")
        self._phases = 0

    async def publish(self) -> Published:
        self._phases += 1
        procs = {
            device: spawn(
                [
                    *("mosquitto_pub", "-h", self._broker.host, "-p", str(self._broker.port), "-V", "5"),
                    *("-i", device, "-q", "1", "-M", str(self._window)),
                    *("-t", topic_for(device, Channel.EVENT), "-l"),
                ],
                stdin=subprocess.PIPE,
                preexec_fn=die_with_parent(),
            )
            for device in self._lines
        }
        try:
            await self._connected(self._phases)
            started = time.monotonic()
            await self._life.wait(
                asyncio.gather(*(self._feed(procs[device], lines) for device, lines in self._lines.items())),
                f"{len(procs)} mosquitto_pub processes to send their events and get every PUBACK",
                detail=lambda: f"{sum(p.poll() is None for p in procs.values())} still running",
            )
            failed = [device for device, proc in procs.items() if proc.returncode != 0]
            if failed:
                raise RuntimeError(f"mosquitto_pub failed for {', '.join(failed[:5])}")
            return Published(started, time.monotonic())
        finally:
            for proc in procs.values():
                stop_group(proc)  # the whole group, at once if it has already exited

    async def _connected(self, times: int) -> None:
        """Until the broker's log shows every device connected ``times`` times (once a phase)."""
        missing: list[str] = []

        def connected() -> bool:
            text = self._broker.log_path.read_text(errors="replace")
            missing[:] = [device for device in self._lines if text.count(f" as {device} (") < times]
            return not missing

        await self._life.until(
            connected,
            "the broker's log to show every mosquitto_pub connected",
            within_s=CONNECT_S,
            detail=lambda: f"{len(missing)} not connected, e.g. {', '.join(missing[:3])}",
        )

    @staticmethod
    async def _feed(proc: subprocess.Popen[bytes], lines: bytes) -> None:
        """Its lines to its stdin, then until it exits (in a thread: a stopped group ends the wait)."""

        def feed() -> None:
            assert proc.stdin is not None
            with proc.stdin:
                proc.stdin.write(lines)
            proc.wait()

        await asyncio.to_thread(feed)


class AiomqttPublishers:
    """One aiomqtt (paho) MQTT v5 client per device in this process, as the controller's uplink
    connects; ``window`` senders per device take turns on its payloads. Python's per-message cost
    makes this process compete for the CPU with the consumer it measures: kept for comparison."""

    def __init__(
        self, life: Lifetime, broker: Mosquitto, payloads: Mapping[str, list[bytes]], window: int
    ) -> None:
        self._life = life
        self._broker = broker
        self._payloads = payloads
        self._window = window
        self._clients: dict[str, aiomqtt.Client] = {}
        self._stack = contextlib.AsyncExitStack()

    async def __aenter__(self) -> AiomqttPublishers:
        try:
            for device in self._payloads:
                client = aiomqtt.Client(
                    self._broker.host,
                    self._broker.port,
                    identifier=device,
                    protocol=aiomqtt.ProtocolVersion.V5,
                    max_inflight_messages=self._window,
                    timeout=self._life.budget(CONNECT_S),
                )
                client.pending_calls_threshold = self._window * 4
                self._clients[device] = await self._stack.enter_async_context(client)
        except BaseException:
            await self._stack.aclose()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()

    async def publish(self) -> Published:
        started = time.monotonic()
        await self._life.wait(
            asyncio.gather(*(self._send(device) for device in self._payloads)),
            f"{len(self._payloads)} aiomqtt publishers to send their events and get every PUBACK",
        )
        return Published(started, time.monotonic())

    async def _send(self, device: str) -> None:
        client = self._clients[device]
        topic = topic_for(device, Channel.EVENT)
        queue = iter(self._payloads[device])

        async def sender() -> None:
            for payload in queue:  # one iterator shared by ``window`` senders, so seq order holds
                await client.publish(topic, payload, qos=1)

        await asyncio.gather(*(sender() for _ in range(self._window)))


class AckWatcher:
    """Storage acks of every device (``down/+/ack``): when the hub has committed each one's last seq."""

    def __init__(self, life: Lifetime, broker: Mosquitto, published: Mapping[str, int]) -> None:
        self._life = life
        self._broker = broker
        self._published = published
        self.acked = dict.fromkeys(published, 0)
        self.last_ack_at = 0.0
        self._missing = {device for device, n in published.items() if n > 0}
        self._done = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stack = contextlib.AsyncExitStack()

    async def __aenter__(self) -> AckWatcher:
        client = aiomqtt.Client(
            self._broker.host,
            self._broker.port,
            identifier="bench-acks",
            protocol=aiomqtt.ProtocolVersion.V5,
            timeout=self._life.budget(CONNECT_S),
        )
        client.pending_calls_threshold = 100_000
        await self._stack.enter_async_context(client)
        try:
            await client.subscribe(subscription("down", Channel.ACK), qos=1)
        except BaseException:
            await self._stack.aclose()
            raise
        self._task = asyncio.create_task(self._read(client))
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._stack.aclose()

    async def _read(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            assert isinstance(message.payload, bytes | bytearray)
            ack = decode(Channel.ACK, message.payload)
            assert isinstance(ack, StorageAck)
            self.acked[ack.device_id] = max(self.acked[ack.device_id], ack.through_seq)
            self.last_ack_at = time.monotonic()
            if ack.through_seq >= self._published[ack.device_id]:
                self._missing.discard(ack.device_id)
                if not self._missing:
                    self._done.set()

    async def until_acked(self) -> float | None:
        """When the last needed ack arrived; None if the acks stalled for STALL_S first."""
        total = sum(self._published.values())
        last_progress, last_seen = time.monotonic(), -1
        while not self._done.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(PROGRESS_EVERY_S):
                    await self._done.wait()
            done = sum(self.acked.values())
            log(f"hub: {done}/{total} acknowledged")
            if done != last_seen:
                last_progress, last_seen = time.monotonic(), done
            elif time.monotonic() - last_progress > STALL_S:
                return None
            if not self._life.remaining():
                self._life.fail(
                    "the hub's storage acks never covered every device's last event"
                    f" {self._life.within_deadline}: {done} of {total} acknowledged"
                )
        return self.last_ack_at


# -- raw phase: a bare subscriber in a child process ----------------------------------------------


async def raw_phase(
    life: Lifetime, publishers: Publishers, broker: Mosquitto, events: int, shared_tables: bool
) -> tuple[Published, float]:
    """(when publishing started and ended, when the bare subscriber received the last message)."""
    topic = shared(RAW_GROUP, subscription("up", Channel.EVENT))
    flags = ["--shared-tables"] if shared_tables else []
    child = spawn(
        [sys.executable, BARE_MQTT, "count", str(broker.port), str(events), topic, str(STALL_S), *flags],
        stdout=subprocess.PIPE,
        preexec_fn=die_with_parent(),
    )
    assert child.stdout is not None
    try:
        line = await asyncio.to_thread(
            read_line, child.stdout, "the bare subscriber to connect and subscribe", CONNECT_S
        )
        if line.strip() != b"ready":
            raise RuntimeError(f"raw subscriber did not start: {line!r}")
        life.step(f"raw: publishing {events} events to a bare subscriber")
        published = await publishers.publish()
        # It gives up by itself once nothing arrives for STALL_S; the margin is for its exit.
        line = await asyncio.to_thread(
            read_line, child.stdout, f"the bare subscriber's count of {events} events", STALL_S + 30
        )
        if not line:
            raise RuntimeError(f"the bare subscriber exited ({child.wait()}) without a count")
        result = json.loads(line)
    finally:
        stop_group(child)
    if result["count"] != events:
        raise RuntimeError(f"the bare subscriber received {result['count']} of {events} messages")
    return published, float(result["last_at"])


# -- the bench -----------------------------------------------------------------------------------


def rate(count: int, started: float, ended: float) -> float:
    return count / max(ended - started, 1e-9)


@contextlib.asynccontextmanager
async def publishers_for(
    life: Lifetime, kind: str, broker: Mosquitto, payloads: Mapping[str, list[bytes]], window: int
) -> AsyncIterator[Publishers]:
    if kind == "mosquitto_pub":
        yield MosquittoPub(life, broker, payloads, window)
        return
    async with AiomqttPublishers(life, broker, payloads, window) as clients:
        yield clients


async def measure(run: Run, args: argparse.Namespace) -> dict[str, Any]:
    life, url, broker = run.life, run.url, run.broker
    devices = device_ids(args.devices)
    life.step(f"encoding {args.events} events of {len(devices)} devices")
    payloads = workload(args.events, devices, args.granted, args.seed)
    published = {device: len(p) for device, p in payloads.items()}
    profile = run.files / "hub.prof" if args.profile else None
    async with publishers_for(life, args.publisher, broker, payloads, args.window) as publishers:
        life.step("raw: starting a bare subscriber")
        raw, raw_done_at = await raw_phase(life, publishers, broker, args.events, args.raw_shared_tables)
        life.step(f"hub: starting {args.hubs} hub process(es)")
        names = ["hub" if n == 0 else f"hub-{n + 1}" for n in range(args.hubs)]
        logs = [run.log(name) for name in names]
        with contextlib.ExitStack() as hubs:
            # One after the other: the first one migrates the empty database.
            for n, name in enumerate(names):
                hubs.enter_context(run.hub(name, profile_path=None if n else profile))
            await place_devices(url, devices)
            async with AckWatcher(life, broker, published) as acks:
                life.step(
                    f"hub: publishing {args.events} events to {args.hubs} hub process(es) ({args.store})"
                )
                sent = await publishers.publish()
                done_at = await acks.until_acked()
            life.step("hub: stopping the hub process(es)")
    if done_at is None:
        log(f"hub: acks stalled; the end of its log:\n{tail(logs[0])}")
    if profile is not None:
        profile.replace(args.profile)
        print_profile(args.profile)
    counted = await run.counted(published)
    raw_rate = rate(args.events, raw.started, raw_done_at)
    hub_rate = rate(args.events, sent.started, done_at) if done_at is not None else 0.0
    return {
        "store": args.store,
        "events": args.events,
        "devices": args.devices,
        "publisher": args.publisher,
        "hubs": args.hubs,
        "window": args.window,
        "granted": args.granted,
        "raw_subscriber": "aiomqtt + hub.paho_tables" if args.raw_shared_tables else "aiomqtt",
        "raw_msgs_per_s": round(raw_rate),
        "hub_events_per_s": round(hub_rate),
        "ratio": round(hub_rate / raw_rate, 3),
        "lost": counted.lost,
        "duplicates": counted.duplicates,
        "unexpected": counted.unexpected,
        "acked_all": done_at is not None,
        "hub_link_drops": sum(link_drops(path) for path in logs),
        "publish_msgs_per_s": round(rate(args.events, sent.started, sent.pubacked)),
        "raw_publish_msgs_per_s": round(rate(args.events, raw.started, raw.pubacked)),
        "raw_s": round(raw_done_at - raw.started, 3),
        "hub_s": None if done_at is None else round(done_at - sent.started, 3),
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "goal_ratio": GOAL_RATIO,
    }


def main() -> int:
    parser = bench_parser(__doc__, events=100_000, devices=50, deadline_default="180 s + 3 ms an event")
    parser.add_argument("--window", type=int, default=50, help="publishes in flight per device (default 50)")
    parser.add_argument("--granted", type=float, default=0.9, help="share of granted passages (default 0.9)")
    parser.add_argument(
        "--publisher",
        choices=("mosquitto_pub", "aiomqtt"),
        default="mosquitto_pub",
        help="the simulated controllers' MQTT client (default mosquitto_pub: C, light on the CPU)",
    )
    parser.add_argument(
        "--hubs", type=int, default=1, help="hub processes on the one shared subscription (default 1)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--profile", type=Path, help="run the hub under cProfile, keep its stats here")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes allowed; never fails on the goal")
    parser.add_argument(
        "--raw-shared-tables",
        action="store_true",
        help="give the bare subscriber the hub's receive path too (hub.paho_tables), for comparison",
    )
    args = parser.parse_args()
    if not args.smoke and args.events < 10_000:
        parser.error("use at least 10000 events (or --smoke)")
    if args.devices < 1 or args.events < args.devices:
        parser.error("--devices must be at least 1 and at most --events")
    deadline_s = args.deadline_s or 180.0 + 0.003 * args.events
    with started("ingest", args, deadline_s, files_prefix="sitegate-ingest-") as run:
        report = asyncio.run(measure(run, args))
    print(json.dumps(report))
    met = report["ratio"] >= GOAL_RATIO and report["lost"] == report["duplicates"] == 0
    return 0 if args.smoke or met else 1


if __name__ == "__main__":
    sys.exit(main())
