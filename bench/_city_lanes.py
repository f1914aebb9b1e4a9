"""The lanes of bench/city.py: one simulator process runs a share of the city's lanes, each its
own MQTT v5 connection over TLS with its own certificate, on one asyncio loop (through
bench/_mqtt_lite.py's LiteClient: aiomqtt with less housekeeping per client, the same packets).

A lane here is the controller's link without its hardware: the journal's semantics kept in memory
(every event gets the next seq and stays until a storage ack covers it; on every connection the
lane sends again whatever is not acknowledged, in seq order, so a broker or hub that loses
messages shows up as resends, never as loss), the retained ``online``/``offline`` presence with
a last will, heartbeats, and the controller's own roster handling (controller.roster_sync: the
signature, hashes and continuity checked; kept in memory instead of on disk). Its roster is what
the bench reads to see a registry change or the watchlist arrive.

Certificates: each lane's key, CSR and certificate are made here from the hub's CA
(provisioning.ca, the code the enrolment API runs) rather than through 10,000 HTTP enrolments;
the enrolment path itself is proven by tests/provisioning/test_provision_end_to_end.py.

The process talks to bench/city.py by lines: commands on stdin (``kill`` the lanes chosen to die,
``stop``), JSON on stdout (``status`` every second, ``done`` with everything measured at the end).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gc
import json
import os
import random
import resource
import socket
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import aiomqtt

from bench._city_world import City, arrival_share
from bench._mqtt_lite import LiteClient
from controller.core.roster import EMPTY_ROSTER, Roster
from controller.resend_timer import ResendTimer
from controller.roster_sync import Ready, RosterSync
from controller.tls import tls_context
from provisioning.ca import CertificateAuthority, generate_key, make_csr, write_key, write_public
from sitegate.backoff import backoff_delays
from wire.codec import decode, encode
from wire.models import (
    AccessEvent,
    CardKind,
    Decision,
    Direction,
    Heartbeat,
    PresenceState,
    PresenceStatus,
    Reason,
    StorageAck,
)
from wire.topics import Channel, topic_for

WINDOW = 20
"""QoS 1 publishes a lane has in flight at once."""
RECONNECT_FIRST_S = 2.0
RECONNECT_MAX_S = 20.0
STATUS_EVERY_S = 1.0
CONNECT_TIMEOUT_S = 30.0
GC_YOUNG_THRESHOLD = 50_000
"""Net allocations between the collector's young collections (Python's default: 700)."""


class CollectorClock:
    """The CPU time this process spends in Python's cyclic garbage collector (``gc.callbacks``),
    for the report."""

    def __init__(self) -> None:
        self.total_s = 0.0
        self.full_s = 0.0
        """Of which in full collections (generation 2, every tracked object walked)."""
        self._started = 0.0
        gc.callbacks.append(self._on_phase)

    def _on_phase(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.process_time()
            return
        took = time.process_time() - self._started
        self.total_s += took
        if info["generation"] == 2:
            self.full_s += took


def emit(kind: str, **body: Any) -> None:
    sys.stdout.write(json.dumps({"kind": kind, **body}) + "\n")
    sys.stdout.flush()


def issue_certificates(ca_dir: Path, home: Path, devices: list[str]) -> None:
    """Key, CSR and certificate of each lane, as enrolment makes them (EC P-256)."""
    ca = CertificateAuthority.load(ca_dir)
    for device in devices:
        directory = home / device
        if (directory / "device.crt").exists():
            continue
        directory.mkdir(parents=True, exist_ok=True)
        key_pem = generate_key()
        write_key(directory / "device.key", key_pem, overwrite=True)
        write_public(directory / "device.crt", ca.issue_client(make_csr(device, key_pem), device))


@dataclass
class Watch:
    """A registry change or the watchlist flag the bench waits to see at this lane."""

    index: int
    digest: str
    kind: str  # "assign" | "exit" | "watchlist"
    seen_at: float | None = None
    key: str = field(init=False)
    """``index`` as the status line's key (made once: the status counts every watch every second)."""

    def __post_init__(self) -> None:
        self.key = str(self.index)


class Holder:
    """Holds the lane's roster as the LaneService does; checks the watches on every swap."""

    def __init__(self, lane: Lane) -> None:
        self._lane = lane
        self._roster: Roster = EMPTY_ROSTER

    @property
    def roster(self) -> Roster:
        return self._roster

    @roster.setter
    def roster(self, roster: Roster) -> None:
        self._roster = roster
        self._lane.roster_changed()


class MemoryRosterSync(RosterSync):
    """The controller's roster handling, kept in memory (10,000 lanes' fsyncs are not the point)."""

    def _save(self, ready: Ready) -> Roster:
        return ready.roster


@dataclass
class Lane:
    device_id: str
    project_id: str
    label: str
    arrivals: list[tuple[float, str, str]]
    """(seconds into the rush, person id, credential hash) of each entry, in time order."""
    watches: list[Watch]
    sim: Simulator
    seq: int = 0
    acked: int = 0
    pending: dict[int, tuple[bytes, float]] = field(default_factory=dict)
    """seq -> (payload, monotonic time it was journalled): the journal's unacknowledged part."""
    lags: list[tuple[float, float]] = field(default_factory=list)
    """(journalled at, acknowledged at) of each event."""
    generation: int = 0
    resends: int = 0
    arrived: bool = False
    """Every one of its people has swiped (or the lane was killed first)."""
    connected: bool = False
    connections: int = 0
    killed: bool = False
    client: LiteClient | None = None
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    sync: MemoryRosterSync | None = None
    holder: Holder | None = None
    first_roster_at: float | None = None

    def roster_changed(self) -> None:
        assert self.holder is not None
        roster = self.holder.roster
        now = time.monotonic()
        if self.first_roster_at is None:
            self.first_roster_at = now
        today = datetime.now(UTC).date()
        for watch in self.watches:
            if watch.seen_at is None and _holds(roster, watch, today):
                watch.seen_at = now

    def journal(self, person_id: str, digest: str) -> None:
        self.seq += 1
        event = AccessEvent(
            device_id=self.device_id,
            seq=self.seq,
            boot_id="city-bench-boot",
            mono_ns=time.monotonic_ns(),
            wall_time=datetime.now(UTC),
            clock_synced=True,
            project_id=self.project_id,
            lane=self.label,
            direction=Direction.IN,
            decision=Decision.GRANTED,
            reason=Reason.GRANTED,
            card_kind=CardKind.RESIDENT,
            credential_hash=digest,
            person_id=person_id,
        )
        self.pending[self.seq] = (encode(event), time.monotonic())
        self.wake.set()


def _holds(roster: Roster, watch: Watch, today: date) -> bool:
    if watch.kind == "watchlist":
        return watch.digest in roster.watchlist
    entry = roster.lookup(watch.digest)
    if watch.kind == "assign":
        return entry is not None
    return entry is None or (entry.exit_date is not None and entry.exit_date < today)


class Simulator:
    def __init__(self, plan: dict[str, Any], share: list[int]) -> None:
        self.plan = plan
        self.city = City(**plan["city"])
        self.home = Path(plan["certs_dir"])
        self.ca_file = Path(plan["ca_file"])
        self.public_key = base64.b64decode(plan["roster_public_key"])
        self.rng = random.Random(plan["seed"] * 7919 + share[0] if share else 0)
        self.delay = backoff_delays(self.rng, RECONNECT_FIRST_S, RECONNECT_MAX_S)
        self.lanes: dict[str, Lane] = {}
        watches_by_project: dict[int, list[tuple[int, str, str]]] = {}
        for index, change in enumerate(plan["watches"]):
            watches_by_project.setdefault(change["project"], []).append(
                (index, change["digest"], change["kind"])
            )
        rush_s = plan["rush_s"]
        for n in share:
            p = self.city.lane_project(n)
            siblings = self.city.lanes_of(p)
            mine = siblings.index(n)
            arrivals = [
                (rush_s * arrival_share(i), self.city.person_id(i), self.city.digest(i, p))
                for k, i in enumerate(self.city.assigned_to(p))
                if k % len(siblings) == mine
            ]
            arrivals.sort()
            device = self.city.device_id(n)
            self.lanes[device] = Lane(
                device,
                self.city.project_id(p),
                f"L{n}",
                arrivals,
                [Watch(i, d, k) for i, d, k in watches_by_project.get(p, [])],
                self,
            )
        self.doomed = set(plan["doomed"]) & set(self.lanes)
        self.flapping = set(plan["flapping"]) & set(self.lanes)
        self.tasks: list[asyncio.Task[None]] = []
        self.connect_times: list[float] = []
        self.collector = CollectorClock()

    def context(self, device: str) -> Any:
        return tls_context(self.ca_file, self.home / device / "device.crt", self.home / device / "device.key")

    # -- one lane ---------------------------------------------------------------------------------

    async def run_lane(self, lane: Lane) -> None:
        attempt = 0
        context = self.context(lane.device_id)
        while not lane.killed:
            lane.generation += 1
            will = aiomqtt.Will(
                topic_for(lane.device_id, Channel.PRESENCE),
                self.presence(lane, PresenceState.OFFLINE),
                1,
                True,
            )
            try:
                async with LiteClient(
                    self.plan["broker_host"],
                    self.plan["broker_port"],
                    identifier=lane.device_id,
                    protocol=aiomqtt.ProtocolVersion.V5,
                    keepalive=self.plan["keepalive_s"],
                    will=will,
                    timeout=CONNECT_TIMEOUT_S,
                    max_inflight_messages=WINDOW,
                    tls_context=context,
                ) as client:
                    client.pending_calls_threshold = WINDOW * 4
                    attempt = 0
                    await client.publish(
                        topic_for(lane.device_id, Channel.PRESENCE),
                        self.presence(lane, PresenceState.ONLINE),
                        qos=1,
                        retain=True,
                    )
                    await client.subscribe(topic_for(lane.device_id, Channel.ACK), qos=1)
                    await client.subscribe(topic_for(lane.device_id, Channel.ROSTER), qos=1)
                    lane.client, lane.connected = client, True
                    lane.connections += 1
                    self.connect_times.append(time.monotonic())
                    assert lane.sync is not None
                    await lane.sync.report()
                    async with asyncio.TaskGroup() as group:
                        group.create_task(self.receive(lane, client))
                        group.create_task(self.drain(lane, client))
                        group.create_task(self.heartbeats(lane, client))
            except* aiomqtt.MqttError:
                pass
            except* OSError:
                pass
            finally:
                lane.client, lane.connected = None, False
            if lane.killed:
                return
            await asyncio.sleep(self.delay(attempt))
            attempt += 1

    def presence(self, lane: Lane, state: PresenceState) -> bytes:
        return encode(
            PresenceStatus(
                device_id=lane.device_id, state=state, generation=lane.generation, at=datetime.now(UTC)
            )
        )

    async def receive(self, lane: Lane, client: LiteClient) -> None:
        assert lane.sync is not None
        async for message in client.messages:
            payload = bytes(message.payload) if isinstance(message.payload, bytes | bytearray) else b""
            if message.topic.value.endswith("/ack"):
                ack = decode(Channel.ACK, payload)
                assert isinstance(ack, StorageAck)
                now = time.monotonic()
                for seq in range(lane.acked + 1, ack.through_seq + 1):
                    done = lane.pending.pop(seq, None)
                    if done is not None:
                        lane.lags.append((done[1], now))
                lane.acked = max(lane.acked, ack.through_seq)
                lane.wake.set()
            else:
                await lane.sync(payload)

    async def drain(self, lane: Lane, client: LiteClient) -> None:
        """The controller's drain (controller.uplink): windows of QoS 1 publishes in seq order from
        the hub's watermark on every connection, and everything after it again when its resend
        timer (controller.resend_timer) says the hub is silent: nothing acknowledged for
        ``resend_after_s``, or for up to ``resend_max_s`` while its watermark still moves (a hub
        that restarted has lost what the broker had queued for it; one that is behind has not)."""
        resend_after_s = self.plan["resend_after_s"]
        timer = ResendTimer(resend_after_s, self.plan.get("resend_max_s", resend_after_s), time.monotonic())
        topic = topic_for(lane.device_id, Channel.EVENT)
        sent = acked_seen = lane.acked
        while True:
            if lane.acked > acked_seen:
                acked_seen = lane.acked
                timer.progress(time.monotonic(), caught_up=lane.acked >= sent)
            resending = sent > lane.acked and timer.resend_due(time.monotonic())
            if resending:
                sent = lane.acked
                lane.resends += 1
            sent = max(sent, lane.acked)
            batch = [seq for seq in sorted(lane.pending) if seq > sent][:WINDOW]
            if batch:
                if sent == lane.acked and not resending:
                    timer.start(time.monotonic())
                await client.publish_window(topic, [lane.pending[seq][0] for seq in batch])
                sent = batch[-1]
                continue
            lane.wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(resend_after_s / 2):
                    await lane.wake.wait()

    async def heartbeats(self, lane: Lane, client: LiteClient) -> None:
        started = time.monotonic()
        await asyncio.sleep(self.rng.uniform(0, self.plan["heartbeat_s"]))
        while True:
            assert lane.holder is not None
            beat = Heartbeat(
                device_id=lane.device_id,
                sent_at=datetime.now(UTC),
                boot_id="city-bench-boot",
                uptime_s=time.monotonic() - started,
                free_disk_mb=1000.0,
                journal_backlog=len(lane.pending),
                roster_version=lane.holder.roster.version,
                reader_status={},
                clock_synced=True,
                software_version="city-bench",
            )
            client.publish_nowait(topic_for(lane.device_id, Channel.HEARTBEAT), encode(beat), qos=0)
            await asyncio.sleep(self.plan["heartbeat_s"])

    async def arrivals(self, lane: Lane, started: float) -> None:
        """The lane's people swipe in at their times (journalled whether connected or not; a
        killed lane admits nobody more)."""
        for offset, person_id, digest in lane.arrivals:
            delay = started + offset - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            if lane.killed:
                break
            lane.journal(person_id, digest)
        lane.arrived = True

    # -- faults -----------------------------------------------------------------------------------

    def drop(self, lane: Lane) -> None:
        """The lane's connection ends without a DISCONNECT, as when its power goes: the broker
        publishes its last will."""
        client = lane.client
        if client is None:
            return
        sock = client._client.socket()
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def kill(self) -> list[str]:
        for device in self.doomed:
            lane = self.lanes[device]
            lane.killed = True
            self.drop(lane)
        return sorted(self.doomed)

    async def flap(self, period_s: float) -> None:
        flapping = [self.lanes[d] for d in sorted(self.flapping)]
        if not flapping:
            return
        while True:
            await asyncio.sleep(period_s / len(flapping))
            lane = self.rng.choice(flapping)
            if not lane.killed:
                self.drop(lane)

    # -- the process ------------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """Counts over the lanes; the killed ones are left out of the unacknowledged events (what a
        dead lane holds waits in its journal) and of the watches."""
        counts = dict.fromkeys(("connected", "rostered", "journalled", "acked", "unacked", "arriving"), 0)
        seen: dict[str, list[int]] = {}
        for lane in self.lanes.values():  # one pass: this runs every second over every lane
            counts["connected"] += lane.connected
            counts["rostered"] += lane.first_roster_at is not None
            counts["journalled"] += lane.seq
            counts["acked"] += lane.acked
            counts["arriving"] += not lane.arrived
            if lane.killed:
                continue
            counts["unacked"] += len(lane.pending)
            for watch in lane.watches:
                if (of := seen.get(watch.key)) is None:
                    of = seen[watch.key] = [0, 0]
                of[0] += watch.seen_at is not None
                of[1] += 1
        return {**counts, "watches": seen}

    def report(self) -> dict[str, Any]:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        watches: dict[str, list[float | None]] = {}
        for lane in self.lanes.values():
            for watch in lane.watches:
                watches.setdefault(str(watch.index), []).append(watch.seen_at)
        return {
            "journals": {d: lane.seq for d, lane in self.lanes.items()},
            "held": {d: sorted(lane.pending) for d, lane in self.lanes.items() if lane.pending},
            "unacked": {d: len(lane.pending) for d, lane in self.lanes.items() if lane.pending},
            "lags": [pair for lane in self.lanes.values() for pair in lane.lags],
            "connections": sum(lane.connections for lane in self.lanes.values()),
            "resends": sum(lane.resends for lane in self.lanes.values()),
            "watches": watches,
            "killed": sorted(self.doomed),
            "flapping": sorted(self.flapping),
            "connected_now": sorted(d for d, lane in self.lanes.items() if lane.connected),
            "cpu_s": usage.ru_utime + usage.ru_stime,
            "gc_s": self.collector.total_s,
            "gc_full_s": self.collector.full_s,
            "rss_mb": usage.ru_maxrss / 1024,
        }


async def serve(plan: dict[str, Any], share: list[int]) -> None:
    sim = Simulator(plan, share)
    for lane in sim.lanes.values():
        lane.holder = Holder(lane)
        lane.sync = MemoryRosterSync(
            lane.holder,
            device_id=lane.device_id,
            project_id=lane.project_id,
            public_key=sim.public_key,
            roster_path=Path("/nonexistent"),
            send=_sender(lane),
        )
    # What is built so far lives until the end (the city, every lane's arrivals and roster handling):
    # out of the collector's sight, so that its full collections do not walk it again and again.
    # Not a lane's connection: a reconnection leaves the last one's client (cycles) to be collected.
    gc.freeze()
    # And its young collections rarer: thousands of lanes keep tens of thousands of objects alive
    # for seconds (timers, futures, messages in flight); at the default 700 allocations the
    # collector walked each of them several times before it died of its own accord.
    gc.set_threshold(GC_YOUNG_THRESHOLD, 20, 20)
    loop = asyncio.get_running_loop()
    for n, lane in enumerate(sim.lanes.values()):
        sim.tasks.append(loop.create_task(sim.run_lane(lane), name=lane.device_id))
        if n % 50 == 49:
            await asyncio.sleep(0.05)  # a city's lanes do not all dial in the same millisecond
    commands: asyncio.Queue[str] = asyncio.Queue()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

    async def read_commands() -> None:
        while line := await reader.readline():
            await commands.put(line.decode().strip())
        await commands.put("stop")

    sim.tasks.append(loop.create_task(read_commands()))
    while True:
        try:
            command = await asyncio.wait_for(commands.get(), STATUS_EVERY_S)
        except TimeoutError:
            emit("status", **sim.status())
            continue
        if command.startswith("rush "):
            started = float(command.split()[1])
            for lane in sim.lanes.values():
                sim.tasks.append(loop.create_task(sim.arrivals(lane, started)))
            sim.tasks.append(loop.create_task(sim.flap(plan["flap_period_s"])))
        elif command == "kill":
            emit("killed", devices=sim.kill(), at=time.monotonic())
        elif command == "stop":
            break
    # The report first: everything in it is in memory, and a lane's task can swallow its cancel
    # inside aiomqtt (Python 3.11's wait_for), so that waiting for them all may never end; the
    # bench stops this process whatever is left (bench/_lifetime.py).
    emit("done", **sim.report())
    for task in sim.tasks:
        task.cancel()
    await asyncio.wait(sim.tasks, timeout=5)
    sys.stdout.flush()
    os._exit(0)  # not asyncio.run's own shutdown, which would wait for a swallowed cancel too


def _sender(lane: Lane) -> Any:
    async def send(channel: Channel, payload: bytes) -> bool:
        client = lane.client
        if client is None:
            return False
        try:
            await client.publish(topic_for(lane.device_id, channel), payload, qos=1)
        except aiomqtt.MqttError:
            return False
        return True

    return send


def main(plan_path: Path, first: int, count: int) -> None:
    """Issue this share's certificates, say ``ready``, then wait for ``go`` (the bench starts the
    lanes once the hub runs) and run them."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    plan = json.loads(plan_path.read_text())
    os.nice(plan.get("nice", 0))  # devices of their own: the pieces measured get the CPU first
    share = list(range(first, first + count))
    city = City(**plan["city"])
    issue_certificates(Path(plan["ca_dir"]), Path(plan["certs_dir"]), [city.device_id(n) for n in share])
    emit("ready")
    go = sys.stdin.readline()
    if not go.strip():
        return
    plan.update(json.loads(go))
    asyncio.run(serve(plan, share))
