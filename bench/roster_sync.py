"""Roster sync bench: a 100,000-entry snapshot from the hub's publisher to a lane, against raw MQTT.

    .venv/bin/python bench/roster_sync.py [--entries 100000] [--seed 0] [--dir PATH] [--deadline-s S]

Starts its own mosquitto, then measures twice through it:

* ``compile_s``: ``RosterPublisher.publish()`` on a project of ``--entries`` synthetic people
  before any lane is on it: validate, serialise, hash, sign, encode the manifest and its chunks.
  This is the hub's cost per *version*, paid once whatever the number of lanes (a project with
  forty lanes sends the same encoded bytes forty times), so it is reported on its own and kept
  out of ``sync_s``, which is the cost per *lane*.
* ``sync_s``: from the hub being told that the lane runs v0 (``RosterPublisher.on_status``, as when
  a lane reports or asks for a snapshot; the version is compiled and signed already) until the hub
  side receives the lane's ``RosterStatus`` saying it runs the new version. In between: the ledger
  write, the manifest and its chunks at QoS 1, and the lane, a child process with the real
  ``Uplink`` and ``RosterSync``: the manifest's Ed25519 signature checked, every chunk checked
  against the signed manifest's sha256 and every entry checked as it arrives, the roster written
  with the real roster store (atomic, fsynced) and only then swapped in.
* ``raw_transfer_s``: the very same payloads (same chunking, same sliding window of 8 in flight, QoS 1)
  from a bare aiomqtt publisher to a bare aiomqtt subscriber in a child process
  (bench/_bare_mqtt.py), until the subscriber has counted them all and said so on another topic.

``ratio`` = sync_s / raw_transfer_s (goal: at most 3). ``end_to_end_s`` = compile_s + sync_s, what
one version costs from the registry's facts to a lane running it, with ``end_to_end_ratio`` beside
it. The lane child also reports where its time went (``lane_*``). Progress goes to stderr; the last
stdout line is one JSON object. Exit status 1 if the goal is missed (not with ``--smoke``, which
allows tiny sizes for the test suite's check that the bench still runs), 2 if it could not finish
(every wait is bounded, the whole run by ``--deadline-s``, default enough for the size; the message
names what it waited for), 128 + N when ended by signal N; the broker and both children are
stopped in every case (bench/_lifetime.py). Numbers are for the machine it runs on; a Pi parses
and writes several times slower, while its network is what makes raw transfer slow there.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import base64  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import date, datetime, timedelta, timezone  # noqa: E402
from typing import TYPE_CHECKING, Any, cast  # noqa: E402

import aiomqtt  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from bench._lifetime import Lifetime, bench_lifetime, die_with_parent, read_line  # noqa: E402
from controller.cli import settle_heap  # noqa: E402
from controller.config import MqttConfig  # noqa: E402
from controller.core.roster import EMPTY_ROSTER, Roster  # noqa: E402
from controller.journal import Journal  # noqa: E402
from controller.roster_sync import RosterSync  # noqa: E402
from controller.uplink import Uplink  # noqa: E402
from sitegate.mosquitto import Mosquitto  # noqa: E402
from sitegate.netutil import spawn, stop_group  # noqa: E402
from wire.roster import RosterStatus, decode_roster_status  # noqa: E402
from wire.topics import Channel, topic_for  # noqa: E402

if TYPE_CHECKING:
    from hub.rosters import MemorySource

GOAL_RATIO = 3.0
PROJECT_ID = "BENCH-0001"
DEVICE_ID = "lane-bench-r1"
RAW_TOPIC = "bench/raw"
RAW_DONE = "bench/raw-done"
ROLES = ("worker", "worker", "worker", "worker", "manager", "supervisor")
VISITOR_SHARE = 0.01
CHILD_START_S = 30.0
BARE_MQTT = str(Path(__file__).with_name("_bare_mqtt.py"))
"""The bare subscriber's script (a child that imports aiomqtt and little else)."""


def population(rng: random.Random, size: int) -> MemorySource:
    """Invented people: keyed-hash-like credential hashes, assignment windows, a few visitors with
    a pass window. No lane is on the project yet: ``measure_sync`` assigns it after compiling.

    The hub's side (hub.rosters) is imported where it is used, not with this script, which also
    runs as the lane child: the lane needs the controller, not the hub (~0.5 CPU-s of imports)."""
    from hub.rosters import MemorySource

    source = MemorySource()
    first = date(2025, 1, 1)
    opens = datetime(2025, 6, 1, 8, tzinfo=timezone(timedelta(hours=8)))
    for index in range(size):
        credential_hash = hashlib.sha256(rng.randbytes(16)).hexdigest()
        start = first + timedelta(days=rng.randrange(365))
        fields: dict[str, Any] = {"person_id": f"p-{index:07d}", "entry_date": start}
        if rng.random() < VISITOR_SHARE:
            fields["role"] = "visitor"
            fields["pass_from"] = opens + timedelta(hours=rng.randrange(24 * 90))
            fields["pass_until"] = fields["pass_from"] + timedelta(hours=rng.randrange(1, 12))
        else:
            fields["role"] = rng.choice(ROLES)
        if rng.random() < 0.7:
            fields["exit_date"] = start + timedelta(days=rng.randrange(30, 720))
        source.put(PROJECT_ID, credential_hash, **fields)
    for _ in range(25):
        source.flag(PROJECT_ID, hashlib.sha256(rng.randbytes(16)).hexdigest())
    return source


# -- the lane (child process) ------------------------------------------------------------------


class TimedLane:
    """Holds the roster like a LaneService does, and notes when it was swapped in."""

    def __init__(self) -> None:
        self._roster: Roster = EMPTY_ROSTER
        self.swapped_at = 0.0

    @property
    def roster(self) -> Roster:
        return self._roster

    @roster.setter
    def roster(self, roster: Roster) -> None:
        self._roster = roster
        self.swapped_at = time.monotonic()


async def lane_main(host: str, port: int, workdir: Path, public_key: str) -> None:
    lane = TimedLane()
    journal = Journal(workdir / "journal.sqlite3")
    uplink = Uplink(MqttConfig(host=host, port=port), DEVICE_ID, journal)
    sync = RosterSync(
        lane,
        device_id=DEVICE_ID,
        project_id=PROJECT_ID,
        public_key=base64.b64decode(public_key),
        roster_path=workdir / "roster.json",
        send=uplink.send,
    )
    marks: dict[str, float] = {"messages": 0, "handling_s": 0.0}

    async def timed(payload: bytes) -> None:
        started = time.monotonic()
        marks.setdefault("first_at", started)
        marks["last_at"] = started
        await sync(payload)
        marks["messages"] += 1
        marks["handling_s"] += time.monotonic() - started
        if lane.roster.version and "reported" not in marks:
            marks["reported"] = 1
            print(
                json.dumps({**marks, "swapped_at": lane.swapped_at, "entries": len(lane.roster)}), flush=True
            )

    uplink.on(Channel.ROSTER, timed)
    settle_heap()  # as the controller does once it has started (controller.cli)
    runner = asyncio.create_task(uplink.run())
    while not await sync.report():  # noqa: ASYNC110 - True once connected and subscribed; no event says so
        await asyncio.sleep(0.02)
    print("ready", flush=True)
    await runner


# -- the hub side (this process) ----------------------------------------------------------------


def start_child(what: str, script: str, *args: str) -> subprocess.Popen[str]:
    """``script`` as a child, in a process group of its own (``spawn``), once it says ready."""
    command = [sys.executable, script, *args]
    child = cast(  # text=True: its pipes carry str
        "subprocess.Popen[str]",
        spawn(command, stdout=subprocess.PIPE, text=True, preexec_fn=die_with_parent()),
    )
    assert child.stdout is not None
    try:
        line = read_line(child.stdout, f"{what} to connect and say ready", CHILD_START_S).strip()
        if line != "ready":
            raise RuntimeError(f"{what} did not start (exit {child.poll()}): {line!r}")
    except BaseException:
        stop_child(child)
        raise
    return child


def stop_child(child: subprocess.Popen[str]) -> None:
    """Its whole process group: SIGTERM, SIGKILL after 10 s (``stop_group``)."""
    stop_group(child, grace=10)


async def measure_sync(
    life: Lifetime, broker: Mosquitto, source: MemorySource, workdir: Path
) -> tuple[dict[str, Any], list[bytes]]:
    from hub.rosters import RosterLedger, RosterPublisher
    from hub.rosters.keys import public_key_raw

    key = Ed25519PrivateKey.generate()
    ledger = await RosterLedger.open(f"sqlite+aiosqlite:///{workdir / 'hub.db'}")
    public = base64.b64encode(public_key_raw(key)).decode()
    life.step("starting the lane (a child process)")
    lane = start_child("the lane child", __file__, "--lane", str(broker.port), str(workdir / "lane"), public)
    try:
        async with (
            aiomqtt.Client(
                broker.host, broker.port, identifier="bench-hub", max_inflight_messages=64
            ) as sender,
            aiomqtt.Client(broker.host, broker.port, identifier="bench-hub-status") as listener,
        ):
            sender.pending_calls_threshold = 1000
            await listener.subscribe(topic_for(DEVICE_ID, Channel.ROSTER_STATUS), qos=1)
            async with RosterPublisher(source, sender, key, ledger) as publisher:
                life.step("compile: publishing to a project with no lane yet")
                compiling = time.monotonic()
                version = await publisher.publish(PROJECT_ID)
                compile_s = time.monotonic() - compiling
                source.assign(PROJECT_ID, DEVICE_ID)
                life.step(f"sync: the lane reports v0; v{version} goes to it")
                asks = RosterStatus(device_id=DEVICE_ID, project_id=PROJECT_ID, applied_version=0)
                last_status: list[RosterStatus] = []

                async def until_applied() -> None:
                    async for message in listener.messages:
                        status = decode_roster_status(message.payload)
                        last_status[:] = [status]
                        if status.problem:
                            raise RuntimeError(f"lane refused the roster: {status.problem}")
                        if status.applied_version == version:
                            return

                started = time.monotonic()
                await publisher.on_status(asks)
                await life.wait(
                    until_applied(),
                    f"the lane's report that it runs roster v{version}",
                    detail=lambda: f"its last report: {last_status[0]}" if last_status else "no report yet",
                )
                finished = time.monotonic()
                release = publisher.release(PROJECT_ID)
                assert release is not None
                await life.wait(publisher.idle(), "the roster publisher to go idle")
                if publisher.counters.snapshots_sent != 1:
                    raise RuntimeError(f"expected one snapshot sent, not {publisher.counters}")
        assert lane.stdout is not None
        lane_marks = json.loads(read_line(lane.stdout, "the lane child's timings", CHILD_START_S))
    finally:
        stop_child(lane)
        await ledger.close()
    payloads = [release.manifest, *release.chunks]
    report = {
        "sync_s": finished - started,
        "compile_s": compile_s,
        "lane_first_message_after_s": lane_marks["first_at"] - started,
        "lane_receive_and_parse_s": lane_marks["last_at"] - lane_marks["first_at"],
        "lane_save_and_swap_s": lane_marks["swapped_at"] - lane_marks["last_at"],
        "lane_handling_s": lane_marks["handling_s"],
        "lane_entries": lane_marks["entries"],
        "chunks": len(release.chunks),
        "bytes": sum(len(p) for p in payloads),
    }
    return report, payloads


async def measure_raw(life: Lifetime, broker: Mosquitto, payloads: list[bytes]) -> float:
    from hub.rosters.publisher import CHUNK_WINDOW

    life.step("starting the bare subscriber (a child process)")
    receiver = start_child(
        "the bare subscriber", BARE_MQTT, "answer", str(broker.port), str(len(payloads)), RAW_TOPIC, RAW_DONE
    )
    try:
        async with (
            aiomqtt.Client(
                broker.host, broker.port, identifier="bench-raw-pub", max_inflight_messages=64
            ) as sender,
            aiomqtt.Client(broker.host, broker.port, identifier="bench-raw-done") as listener,
        ):
            sender.pending_calls_threshold = 1000
            await listener.subscribe(RAW_DONE, qos=1)
            life.step("raw: publishing the same payloads")
            started = time.monotonic()
            window = asyncio.Semaphore(CHUNK_WINDOW)

            async def one(payload: bytes) -> None:
                async with window:
                    await sender.publish(RAW_TOPIC, payload, qos=1)

            async def transfer() -> None:
                await sender.publish(RAW_TOPIC, payloads[0], qos=1)
                await asyncio.gather(*(one(p) for p in payloads[1:]))
                async for _ in listener.messages:
                    return

            await life.wait(
                transfer(), f"the bare subscriber's word that all {len(payloads)} payloads arrived"
            )
            return time.monotonic() - started
    finally:
        stop_child(receiver)


async def bench(life: Lifetime, entries: int, seed: int, workdir: Path) -> dict[str, Any]:
    life.step(f"building {entries} synthetic entries")
    source = population(random.Random(seed), entries)
    (workdir / "lane").mkdir(parents=True, exist_ok=True)
    life.step("starting mosquitto")
    with Mosquitto() as broker:
        report, payloads = await measure_sync(life, broker, source, workdir)
        raw = await measure_raw(life, broker, payloads)
        life.step("stopping mosquitto")
    if report["lane_entries"] != entries:
        raise RuntimeError(f"the lane runs {report['lane_entries']} entries, not {entries}")
    end_to_end = report["compile_s"] + report["sync_s"]
    return {
        "entries": entries,
        **{k: round(v, 4) if isinstance(v, float) else v for k, v in report.items()},
        "raw_transfer_s": round(raw, 4),
        "ratio": round(report["sync_s"] / raw, 2),
        "end_to_end_s": round(end_to_end, 4),
        "end_to_end_ratio": round(end_to_end / raw, 2),
        "goal_ratio": GOAL_RATIO,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="allow tiny sizes (the test suite's check that the bench still runs); never fails on the goal",
    )
    parser.add_argument(
        "--deadline-s", type=float, help="the whole run's deadline (default: 120 s + 2 ms an entry)"
    )
    parser.add_argument("--lane", nargs=3, metavar=("PORT", "DIR", "KEY"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.lane:
        port, directory, key = args.lane
        asyncio.run(lane_main("127.0.0.1", int(port), Path(directory), key))
        return 0
    if not args.smoke and args.entries < 10_000:
        parser.error("use at least 10000 entries (or --smoke)")
    with (
        bench_lifetime("roster_sync", args.deadline_s or 120.0 + 0.002 * args.entries) as life,
        tempfile.TemporaryDirectory(prefix="sitegate-roster-bench-", dir=args.dir) as tmp,
    ):
        result = asyncio.run(bench(life, args.entries, args.seed, Path(tmp)))
    print(json.dumps(result))
    return 0 if args.smoke or result["ratio"] <= GOAL_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
