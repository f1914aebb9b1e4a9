"""City bench: a Hangzhou-sized city against the real broker and the real hub on PostgreSQL, one
morning rush with faults, on one machine (issue 16).

    .venv/bin/python bench/city.py [--lanes 10000] [--projects 4000] [--people 600000]
        [--assigned 400000] [--speed 12] [--changes 1000] [--kill 500] [--flapping 0.01]
        [--keepalive-s 20] [--simulators N] [--hubs 1] [--no-faults] [--profile FILE] [--keep]
        [--smoke] [--deadline-s S]

Parts, all started here on loopback: a private PostgreSQL (sitegate.postgres); mosquitto with the
production TLS listener and ACL (sitegate.mosquitto ``with_tls``: each lane's certificate CN is its
MQTT username, the ACL lets it write only its own up topics); the hub's CA (provisioning.ca), which
signs the broker's, the hub's and every lane's certificate; the hub as its own process
(``sitegate hub``, TLS broker link), or ``--hubs`` of them.

Several hubs (``--hubs N``, issue 16: where one hub process is the limit): N ``sitegate hub``
processes on the one database and broker, as production runs instances behind a load balancer.
The broker takes a client's id from its certificate's CN (``use_username_as_clientid``), so two
hubs with one certificate would log each other out: each has its own (``sitegate.hub``,
``sitegate.hub.2``, ...; provisioning/broker.py), each named in the broker's ACL, and its own
HTTP port, all in one share group: the broker hands each event and heartbeat to one of them
(MQTT v5 shared subscription; exactly once across instances is what bench/ingest_failover.py
proves), presence to all. The registry changes go through hub 1's API (its roster publisher sends
the changed rosters at once); the console's reads go to the hubs in turn (round robin). The "hub
restarts" fault restarts hub 1 only; the others keep running (and take the lanes' events
meanwhile). ``--profile`` profiles hub 1.

Reading the scaling: run ``--hubs 1`` and ``--hubs 2`` with every other flag the same (the same
``--seed`` makes the same city, plan, faults and arrivals, so the runs differ only in the hubs).
What more hubs move, when one hub is the limit: ``stored_per_s_peak`` (the most events storage acks
covered in one second of the peak window, the middle fifth, away from the faults: a hub that
keeps up stores at the arrival rate, ``peak_events_per_s``, one that falls behind at what it can;
outside that window the acks after a restart cover a backlog at once, which says nothing of the
rate) up, ``ingest_lag_p50_ms``/``p99`` at the peak and ``drained_after_rush_s`` down.
``hub_cpu_s_per_1k_events`` is over all the hubs, so it says what the split costs (each hub's own
share in ``hub_cpu_s_each``); on a machine with fewer free cores than hubs it cannot scale, and
``loadavg_1m`` says how busy the machine was.

The city (bench/_city_world.py): 13 districts, ``--projects`` projects each with its general
contractor as a party, ``--lanes`` gates spread over them, ``--people`` people with sealed ID
numbers of whom ``--assigned`` are assigned (credential hashes under each project's site key),
loaded with COPY before the hub starts; the hub then compiles and signs every project's roster.

The lanes (bench/_city_lanes.py) run in ``--simulators`` processes (one per 2,500 lanes by
default), each lane its own TLS connection with its own certificate, journal semantics (seq,
storage acks, resends on every reconnection), presence with a last will, heartbeats, and the
controller's own roster verification. The rush: every assigned person enters once at one of their
project's lanes, along a normal curve over 90 minutes (σ 15 min) played ``--speed`` times faster
(speed 12: 7.5 minutes, peak ≈ 2,100 entries/s at 400,000 people). During it, steadily: GET of
the device board (``/api/v1/devices``), a project's headcount, a project's access log; and
``--changes`` registry changes through the API as the enterprises' accounts make them (4 in 5
assignments of unassigned people, 1 in 5 exits), and one watchlist flag by the city.

Faults, away from the peak (the middle fifth of the rush, where the ingest lag is measured): at
30 % ``--kill`` lanes lose their connection at once and never come back; at 65 % the broker
restarts; at 80 % the hub (hub 1) restarts. ``--flapping`` of the lanes drop their connection now and then
throughout and come back by their backoff.

Last stdout line, one JSON object: ``lanes``, ``connected`` (lanes connected before the rush),
``connect_all_s``, ``events``, ``lost`` and ``duplicates`` (every lane's journal against the
hub's access events table), ``peak_events_per_s`` (entries journalled in the busiest second),
``ingest_lag_p50_ms``/``ingest_lag_p99_ms`` (journalled at the lane → its storage ack back at the
lane, for the events of the peak window), ``presence_wrong`` (killed lanes the hub still shows
online 1.5 × keep-alive after the kill, plus live lanes it shows offline then),
``watchlist_fanout_s`` (the flag → every lane of the flagged person's project runs a roster that
lists them: the hub's watchlist is per project, a flagged person is on the rosters of the
projects they are assigned to), ``propagation_p99_ms`` (a change's request → every lane of that
project runs a roster that shows it), ``api_p99_ms`` (per endpoint, during the rush),
``hub_rss_mb``/``broker_rss_mb`` (peak resident sets; the largest hub), ``hubs``,
``hub_cpu_s`` and ``hub_cpu_s_per_1k_events`` (during the rush and its drain, summed over the
hubs, a restarted hub's instance before its restart included), ``hub_cpu_s_each`` (per hub),
``stored_per_s_peak``, ``simulator_cpu_s`` (``simulator_gc_s``/``simulator_gc_full_s`` of it in
the garbage collector), the times the faults took, ``loadavg_1m``. Exit
status 1 if a goal is missed (not with ``--smoke``), 2 if the bench could not finish (every wait
is bounded; the message names what it waited for), 128 + N when ended by signal N. Whatever way
it ends, every process it started (every hub) is stopped (bench/_lifetime.py).
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
import resource  # noqa: E402
import subprocess  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from typing import Any  # noqa: E402

import aiohttp  # noqa: E402
from sqlalchemy import true  # noqa: E402

from bench._city_world import DISTRICTS, PASSWORD, City, load  # noqa: E402
from bench._common import (  # noqa: E402
    BoundedHub,
    add_city_account,
    print_profile,
    run_dir,
    stored_keys,
    tail,
    tally,
)
from bench._lifetime import Lifetime, bench_lifetime, die_with_parent, log  # noqa: E402
from bench._site import Api  # noqa: E402
from hub.api.present import liveness  # noqa: E402
from hub.devices.devices import statuses  # noqa: E402
from hub.registry.keyfile import load_data_key  # noqa: E402
from hub.rosters.keys import load_signing_key, public_key_b64  # noqa: E402
from hub.store import Store  # noqa: E402
from provisioning.ca import HUB_IDENTITY, CertificateAuthority, write_key, write_public  # noqa: E402
from sitegate.mosquitto import Mosquitto  # noqa: E402
from sitegate.netutil import spawn  # noqa: E402
from sitegate.postgres import PostgresServer  # noqa: E402

RUSH_REAL_S = 90 * 60
LANES_PER_SIMULATOR = 2500
PEAK_WINDOW = (0.4, 0.6)
KILL_AT, BROKER_AT, HUB_AT = 0.3, 0.65, 0.8
API_EVERY_S = 1.0
SHARE_GROUP = "city"
GOALS = {
    "lost": 0,
    "duplicates": 0,
    "ingest_lag_p99_ms": 1000,
    "presence_wrong": 0,
    "watchlist_fanout_s": 60,
    "propagation_p99_ms": 1000,
    "hub_rss_mb": 2048,
    "held_by_live_lanes": 0,
}


def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


# -- the simulators ---------------------------------------------------------------------------------


class Simulators:
    """The lane processes: commands to their stdin, their JSON lines read by a thread each."""

    def __init__(self, life: Lifetime, plan_path: Path, lanes: int, count: int) -> None:
        self.life = life
        per = -(-lanes // count)
        self.procs: list[subprocess.Popen[bytes]] = []
        self.status: list[dict[str, Any]] = []
        self.done: list[dict[str, Any] | None] = []
        self.ready: list[bool] = []
        self.killed: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        for k, first in enumerate(range(0, lanes, per)):
            proc = spawn(
                [
                    sys.executable,
                    __file__,
                    "--simulator",
                    str(plan_path),
                    str(first),
                    str(min(per, lanes - first)),
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                preexec_fn=die_with_parent(),
            )
            self.procs.append(proc)
            self.status.append({})
            self.done.append(None)
            self.ready.append(False)
            threading.Thread(target=self._read, args=(k, proc), daemon=True).start()

    def _read(self, k: int, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = json.loads(raw)
            kind = line.pop("kind")
            with self._lock:
                if kind == "ready":
                    self.ready[k] = True
                elif kind == "status":
                    self.status[k] = line
                elif kind == "killed":
                    self.killed.append(line)
                elif kind == "done":
                    self.done[k] = line

    def send(self, line: str) -> None:
        for proc in self.procs:
            assert proc.stdin is not None
            proc.stdin.write(line.encode() + b"\n")
            proc.stdin.flush()

    def total(self, key: str) -> int:
        with self._lock:
            return sum(int(s.get(key, 0)) for s in self.status)

    def watches(self) -> dict[str, list[int]]:
        seen: dict[str, list[int]] = {}
        with self._lock:
            for status in self.status:
                for index, (got, of) in status.get("watches", {}).items():
                    now = seen.setdefault(index, [0, 0])
                    now[0] += got
                    now[1] += of
        return seen

    def alive(self) -> str | None:
        dead = [p.pid for p in self.procs if p.poll() is not None]
        return f"simulator process(es) {dead} exited" if dead else None


# -- the hub's side ---------------------------------------------------------------------------------


def proc_cpu_s(pid: int | None) -> float:
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_peak_rss_mb(pid: int | None) -> float:
    if pid is None:
        return 0.0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@dataclass
class Meter:
    """The hubs' and the broker's CPU and peak RSS: each hub's CPU summed over its restarts (by the
    hub's number), the resident sets the largest any instance reached."""

    ended_cpu_s: dict[int, float] = field(default_factory=dict)
    hub_rss_mb: float = 0.0
    broker_rss_mb: float = 0.0

    def hub_ending(self, number: int, pid: int | None) -> None:
        self.ended_cpu_s[number] = self.ended_cpu_s.get(number, 0.0) + proc_cpu_s(pid)
        self.hub_rss_mb = max(self.hub_rss_mb, proc_peak_rss_mb(pid))

    def broker_ending(self, pid: int | None) -> None:
        self.broker_rss_mb = max(self.broker_rss_mb, proc_peak_rss_mb(pid))


@dataclass
class Changes:
    """The registry changes of the rush, planned before it so the lanes know what to look for."""

    watches: list[dict[str, Any]] = field(default_factory=list)
    requested: dict[int, float] = field(default_factory=dict)


def plan_changes(city: City, count: int, rng: random.Random) -> list[dict[str, Any]]:
    pool = list(range(city.assigned, city.people))
    rng.shuffle(pool)
    exits = rng.sample(range(city.assigned), min(city.assigned, count // 5))
    changes: list[dict[str, Any]] = []
    for i in pool[: count - len(exits)]:
        district = city.person_district(i)
        options = range(district, city.projects, DISTRICTS)
        if not options:
            continue
        p = rng.choice(options)
        changes.append({"kind": "assign", "person": i, "project": p, "digest": city.digest(i, p)})
    for i in exits:
        p = city.person_project(i)
        changes.append({"kind": "exit", "person": i, "project": p, "digest": city.digest(i, p)})
    rng.shuffle(changes)
    return changes


class Hub:
    """One hub process (``number`` 1, 2, ...), restartable, each instance's CPU and RSS noted as it
    ends."""

    def __init__(self, launcher: BoundedHub, meter: Meter, number: int) -> None:
        self.launcher = launcher
        self.meter = meter
        self.number = number

    @property
    def pid(self) -> int | None:
        proc = self.launcher.proc
        return None if proc is None else proc.pid

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.launcher.http_port}"

    @property
    def cpu_s(self) -> float:
        """This hub's CPU so far, its instances before a restart included."""
        return self.meter.ended_cpu_s.get(self.number, 0.0) + proc_cpu_s(self.pid)

    def start(self, within_s: float) -> None:
        self.launcher.start(within_s)

    def stop(self) -> None:
        if self.launcher.proc is not None:
            self.meter.hub_ending(self.number, self.pid)
        self.launcher.stop()


async def api_reader(
    life: Lifetime,
    apis: list[Api],
    city: City,
    latencies: dict[str, list[float]],
    until: float,
    rng: random.Random,
) -> None:
    """The console's reads at a steady rate, each to the next hub in turn (a load balancer's round
    robin); a read that fails (hub 1 restarting) is counted apart."""
    turn = 0
    while time.monotonic() < until:
        p = city.project_id(rng.randrange(city.projects))
        for name, path in (
            ("devices", "/api/v1/devices"),
            ("headcount", f"/api/v1/projects/{p}/headcount"),
            ("access_events", f"/api/v1/access-events?project_id={p}&limit=50"),
        ):
            api = apis[turn % len(apis)]
            turn += 1
            started = time.monotonic()
            try:
                await api.call("GET", path)
            except (RuntimeError, aiohttp.ClientError):
                latencies.setdefault(f"{name}_failed", []).append(0.0)
                continue
            latencies.setdefault(name, []).append((time.monotonic() - started) * 1000)
        await asyncio.sleep(API_EVERY_S)


async def make_changes(
    life: Lifetime,
    accounts: dict[int, Api],
    city_api: Api,
    city: City,
    plan: list[dict[str, Any]],
    requested: dict[int, float],
    started: float,
    span: float,
) -> None:
    """Each change at its time, through the API, as its enterprise's account makes it."""
    today = datetime.now(UTC).date()
    for index, change in enumerate(plan):
        at = started + span * (index + 1) / (len(plan) + 1)
        await asyncio.sleep(max(0.0, at - time.monotonic()))
        i, p = change["person"], change["project"]
        api = accounts[city.project_district(p)] if change["kind"] != "watchlist" else city_api
        requested[index] = time.monotonic()
        try:
            if change["kind"] == "assign":
                body = {
                    "person_id": city.person_id(i),
                    "enterprise_id": city.gc_id(city.project_district(p)),
                    "role": "worker",
                    "entry_date": (today - timedelta(days=1)).isoformat(),
                }
                await api.call("POST", f"/api/v1/projects/{city.project_id(p)}/assignments", body)
            elif change["kind"] == "exit":
                body = {"exit_date": (today - timedelta(days=1)).isoformat()}
                await api.call("PATCH", f"/api/v1/assignments/{i + 1}", body)
            else:
                body = {"flag": True, "reason": "城市级布控（压测）"}
                await api.call("PUT", f"/api/v1/persons/{city.person_id(i)}/watchlist", body)
        except (RuntimeError, aiohttp.ClientError) as err:
            log(f"city: change {index} ({change['kind']}) failed: {err}")
            requested.pop(index, None)


async def presence_check(
    life: Lifetime, url: str, sims: Simulators, killed_at: float, keepalive_s: float, flapping: set[str]
) -> tuple[int, float | None]:
    """Until the hub shows every killed lane offline, at most 1.5 × keep-alive; then count the
    killed lanes still online and the live lanes shown offline (flapping ones aside)."""
    await life.until(
        lambda: bool(sims.killed) and len(sims.killed) == len(sims.procs), "the kills", within_s=30
    )
    killed = {d for line in sims.killed for d in line["devices"]}
    bound = killed_at + 1.5 * keepalive_s
    store = await Store.open(url)
    try:
        all_offline_at: float | None = None
        while True:
            now = datetime.now(UTC)
            rows = await statuses(store, true())
            shown = {row.device_id: liveness(row, now, keepalive_s) for row in rows}
            online_killed = [d for d in killed if shown.get(d) == "online"]
            if not online_killed and all_offline_at is None:
                all_offline_at = time.monotonic() - killed_at
            if time.monotonic() >= bound or all_offline_at is not None:
                if time.monotonic() < bound:
                    await asyncio.sleep(bound - time.monotonic())
                    now = datetime.now(UTC)
                    rows = await statuses(store, true())
                    shown = {row.device_id: liveness(row, now, keepalive_s) for row in rows}
                    online_killed = [d for d in killed if shown.get(d) == "online"]
                live_offline = [
                    d
                    for d, state in shown.items()
                    if d not in killed and d not in flapping and state != "online"
                ]
                if live_offline:
                    log(f"city: live lanes shown offline: {len(live_offline)}, e.g. {live_offline[:3]}")
                return len(online_killed) + len(live_offline), all_offline_at
            await asyncio.sleep(0.5)
    finally:
        await store.close()


# -- the run ----------------------------------------------------------------------------------------


async def run(life: Lifetime, args: argparse.Namespace, workdir: Path, pg: PostgresServer) -> dict[str, Any]:
    city = City(args.lanes, args.projects, args.people, args.assigned)
    rng = random.Random(args.seed)
    database = await pg.database("city")
    url, dsn = pg.url(database), pg.dsn(database)
    life.step("migrating the hub's database and making the city's account")
    await add_city_account(url, PASSWORD)
    data_key_file = workdir / "hub-data.key"
    started = time.monotonic()
    life.step(f"loading the city: {args.projects} projects, {args.lanes} lanes, {args.people} people")
    await load(dsn, city, load_data_key(data_key_file))
    load_s = time.monotonic() - started

    life.step("making the CA, the hub's identity, and the lanes' certificates")
    ca = CertificateAuthority.create(workdir / "ca")
    tls_dir = workdir / "hub-tls"
    tls_dir.mkdir()
    for number in range(1, args.hubs + 1):
        cert_pem, key_pem = ca.issue_hub_identity(hub_identity(number))
        write_key(tls_dir / f"{hub_name(number)}.key", key_pem)
        write_public(tls_dir / f"{hub_name(number)}.crt", cert_pem)
    write_public(tls_dir / "ca.crt", ca.cert_pem)
    changes = plan_changes(city, args.changes, rng)
    watch_person = rng.randrange(city.assigned)
    exits = {c["person"] for c in changes if c["kind"] == "exit"}
    while watch_person in exits:
        watch_person = rng.randrange(city.assigned)
    watch_project = city.person_project(watch_person)
    watchlist_index = len(changes) // 2
    changes.insert(
        watchlist_index,
        {
            "kind": "watchlist",
            "person": watch_person,
            "project": watch_project,
            "digest": city.digest(watch_person, watch_project),
        },
    )
    all_lanes = [city.device_id(n) for n in range(city.lanes)]
    shuffled = rng.sample(all_lanes, len(all_lanes))
    doomed = shuffled[: args.kill] if not args.no_faults else []
    flapping = shuffled[args.kill : args.kill + round(args.flapping * city.lanes)]
    rush_s = RUSH_REAL_S / args.speed
    plan = {
        "city": {
            "lanes": city.lanes,
            "projects": city.projects,
            "people": city.people,
            "assigned": city.assigned,
        },
        "seed": args.seed,
        "ca_dir": str(workdir / "ca"),
        "ca_file": str(tls_dir / "ca.crt"),
        "certs_dir": str(workdir / "lanes"),
        "keepalive_s": args.keepalive_s,
        "heartbeat_s": args.keepalive_s / 2,
        "resend_after_s": 10.0,
        "resend_max_s": 60.0,  # the controller's (controller.config.MqttConfig)
        "watches": [{k: c[k] for k in ("kind", "project", "digest")} for c in changes],
        "doomed": doomed,
        "flapping": flapping,
        "flap_period_s": max(2.0, rush_s / 20),
        "rush_s": rush_s,
        "nice": args.simulator_nice,
    }
    plan_path = workdir / "plan.json"
    plan_path.write_text(json.dumps(plan))
    count = args.simulators or max(1, -(-city.lanes // LANES_PER_SIMULATOR))
    sims = Simulators(life, plan_path, city.lanes, count)
    meter = Meter()

    life.step("starting mosquitto (TLS, the production ACL)")
    identities = [hub_identity(number) for number in range(1, args.hubs + 1)]
    broker = Mosquitto.with_tls(ca, hub_identities=identities, revoked_serials=[])
    broker.start()
    try:
        hubs = [Hub(hub_launcher(args, url, broker, workdir, n), meter, n) for n in range(1, args.hubs + 1)]
        with contextlib.ExitStack() as running:
            started = time.monotonic()
            for hub in hubs:
                running.callback(log_tail, workdir / hub_log_name(hub.number))
                running.callback(hub.stop)
                life.step(
                    f"starting hub {hub.number} of {args.hubs} ({args.projects} rosters to compile and sign)"
                )
                hub.start(life.budget(600))
            hub_start_s = time.monotonic() - started
            return await rush(
                life, args, city, url, workdir, broker, hubs, sims, changes, plan, load_s, hub_start_s
            )
    finally:
        meter.broker_ending(broker.pid)
        broker.close()


def hub_identity(number: int) -> str:
    """Hub ``number``'s certificate CN, its MQTT username and client id (the broker takes the
    client id from it: ``use_username_as_clientid``): ``sitegate.hub``, ``sitegate.hub.2``, ..."""
    return HUB_IDENTITY if number == 1 else f"{HUB_IDENTITY}.{number}"


def hub_name(number: int) -> str:
    """Its files' stem: ``hub`` (the one hub's names of a single-hub run), ``hub-2``, ..."""
    return "hub" if number == 1 else f"hub-{number}"


def hub_log_name(number: int) -> str:
    return f"{hub_name(number)}.log"


def hub_config(args: argparse.Namespace, broker: Mosquitto, workdir: Path, number: int) -> Path:
    """Hub ``number``'s config: its own certificate, the one data key and roster signing key.

    The hubs here have no enrolment desk (no CA in their state directory, ``./var/ca``), so none
    rewrites the broker's CRL and ACL. One that had would write its own identity as the ACL's only
    hub (``BrokerFiles.in_directory``: no setting names the other instances) and take the other
    hubs' read rights away at the broker's reload: a gap for several instances with a desk."""
    assert broker.tls is not None
    tls_dir, name = workdir / "hub-tls", hub_name(number)
    config = workdir / f"{name}.toml"
    config.write_text(
        "\n".join(
            [
                f'mqtt_ca_file = "{tls_dir / "ca.crt"}"',
                f'mqtt_cert_file = "{tls_dir / f"{name}.crt"}"',
                f'mqtt_key_file = "{tls_dir / f"{name}.key"}"',
                f'broker_files_dir = "{broker.tls.acl_file.parent}"',
                f'broker_pid_file = "{broker.pid_file}"',
                f'data_key_file = "{workdir / "hub-data.key"}"',
                f'roster_signing_key_file = "{workdir / "roster-signing.key"}"',
                f"device_keepalive_s = {args.keepalive_s}",
                "[http]",
                "lookups_per_account_per_min = 100000",
                "",
            ]
        )
    )
    return config


def hub_launcher(
    args: argparse.Namespace, url: str, broker: Mosquitto, workdir: Path, number: int
) -> BoundedHub:
    """Hub ``number``: its own config and certificate (:func:`hub_config`), MQTT client id and HTTP
    port, the one share group. Only hub 1 runs under ``--profile``."""
    python = [sys.executable]
    if args.profile is not None and number == 1:
        python += ["-m", "cProfile", "-o", str(args.profile.resolve())]
    return BoundedHub(
        url,
        broker.host,
        broker.port,
        config=hub_config(args, broker, workdir, number),
        log=workdir / hub_log_name(number),
        share_group=SHARE_GROUP,
        cwd=workdir,
        python=python,
        extra=["--mqtt-client-id", hub_identity(number)],
        name=f"hub {number}",
    )


def log_tail(path: Path) -> None:
    log(f"city: the end of {path.name}:\n{tail(path, 15)}")


async def rush(
    life: Lifetime,
    args: argparse.Namespace,
    city: City,
    url: str,
    workdir: Path,
    broker: Mosquitto,
    hubs: list[Hub],
    sims: Simulators,
    changes: list[dict[str, Any]],
    plan: dict[str, Any],
    load_s: float,
    hub_start_s: float,
) -> dict[str, Any]:
    meter, hub = hubs[0].meter, hubs[0]
    life.step(f"{len(sims.procs)} simulator(s) issuing {city.lanes} lane certificates")
    await life.until(
        lambda: all(sims.ready), "every simulator's certificates", within_s=600, detail=sims.alive, poll_s=0.2
    )
    public_key = public_key_b64(load_signing_key(workdir / "roster-signing.key"))
    life.step(f"connecting {city.lanes} lanes")
    started = time.monotonic()
    progress = asyncio.create_task(log_progress(sims, started))
    sims.send(
        json.dumps(
            {
                "go": True,
                "roster_public_key": public_key,
                "broker_host": broker.host,
                "broker_port": broker.port,
            }
        )
    )
    await life.until(
        lambda: sims.total("connected") >= city.lanes,
        f"all {city.lanes} lanes connected",
        within_s=args.connect_within_s,
        detail=lambda: f"{sims.total('connected')} connected; {sims.alive() or ''}",
        poll_s=0.2,
    )
    connect_all_s = time.monotonic() - started
    connected = sims.total("connected")
    await life.until(
        lambda: sims.total("rostered") >= city.lanes,
        "every lane's first roster",
        within_s=args.connect_within_s,
        detail=lambda: f"{sims.total('rostered')} of {city.lanes} have one",
        poll_s=0.2,
    )
    rostered_s = time.monotonic() - started
    rush_s = plan["rush_s"]
    t0 = time.monotonic() + 1.0
    life.step(f"the rush: {city.assigned} entries over {rush_s:.0f} s")
    sims.send(f"rush {t0}")

    async with aiohttp.ClientSession() as session:
        # Registry changes through hub 1 (its publisher sends the rosters at once); reads to every hub.
        base = Api(session, hub.base, life)
        city_api = await base.login("city-admin", PASSWORD)
        readers_apis = [city_api] + [
            await Api(session, h.base, life).login("city-admin", PASSWORD) for h in hubs[1:]
        ]
        accounts = {d: await base.login(city.gc_number(d), PASSWORD) for d in range(DISTRICTS)}
        latencies: dict[str, list[float]] = {}
        requested: dict[int, float] = {}
        cpu_before = [h.cpu_s for h in hubs]
        readers = asyncio.create_task(
            api_reader(life, readers_apis, city, latencies, t0 + rush_s, random.Random(1))
        )
        writer = asyncio.create_task(
            make_changes(life, accounts, city_api, city, changes, requested, t0 + 0.05 * rush_s, 0.9 * rush_s)
        )
        faults: dict[str, Any] = {}
        try:
            if not args.no_faults:
                await asyncio.sleep(max(0.0, t0 + KILL_AT * rush_s - time.monotonic()))
                life.step(f"fault: {args.kill} lanes killed at once")
                killed_at = time.monotonic()
                sims.send("kill")
                wrong, offline_s = await presence_check(
                    life, url, sims, killed_at, args.keepalive_s, set(plan["flapping"])
                )
                faults["presence_wrong"] = wrong
                faults["killed_offline_s"] = None if offline_s is None else round(offline_s, 1)
                await asyncio.sleep(max(0.0, t0 + BROKER_AT * rush_s - time.monotonic()))
                life.step("fault: the broker restarts")
                live = city.lanes - args.kill
                meter.broker_ending(broker.pid)
                restarted = time.monotonic()
                broker.stop()
                await asyncio.sleep(1.0)
                broker.start()
                await life.until(
                    lambda: sims.total("connected") >= live - len(plan["flapping"]),
                    "the lanes back after the broker's restart",
                    within_s=120,
                    detail=lambda: f"{sims.total('connected')} of {live} connected",
                    poll_s=0.2,
                )
                faults["broker_restart_all_back_s"] = round(time.monotonic() - restarted, 1)
                await asyncio.sleep(max(0.0, t0 + HUB_AT * rush_s - time.monotonic()))
                life.step("fault: hub 1 restarts" + (" (the others keep running)" if len(hubs) > 1 else ""))
                restarted = time.monotonic()
                hub.stop()
                hub.start(life.budget(600))
                faults["hub_restart_s"] = round(time.monotonic() - restarted, 1)
            await asyncio.sleep(max(0.0, t0 + rush_s - time.monotonic()))
            life.step("the rush is over; waiting for the writes and every storage ack")
            await life.wait(writer, "the registry changes")
            drained_s = await until_drained(sims, args.drain_within_s)
            await until_seen(sims, 60)
        finally:
            readers.cancel()
            writer.cancel()
            await asyncio.gather(readers, writer, return_exceptions=True)
        hub_cpu_each = [h.cpu_s - before for h, before in zip(hubs, cpu_before, strict=True)]
        hub_cpu = sum(hub_cpu_each)
        meter.hub_rss_mb = max(meter.hub_rss_mb, *(proc_peak_rss_mb(h.pid) for h in hubs))
        meter.broker_rss_mb = max(meter.broker_rss_mb, proc_peak_rss_mb(broker.pid))

    progress.cancel()
    life.step("stopping the lanes")
    sims.send("stop")
    await life.until(
        lambda: all(d is not None for d in sims.done),
        "the simulators' reports",
        within_s=60,
        detail=sims.alive,
    )
    reports = [d for d in sims.done if d is not None]
    life.step("counting the stored events")
    journals = {device: n for r in reports for device, n in r["journals"].items()}
    rows = await stored_keys(url)
    counted = tally(journals, rows)
    killed_lanes = {d for r in reports for d in r["killed"]}
    held = {(d, seq) for r in reports for d, seqs in r["held"].items() for seq in seqs}
    held_unstored = held - set(rows)  # still in a lane's journal (a dead one's too): not lost
    events = sum(journals.values())
    lags = [pair for r in reports for pair in r["lags"]]
    peak_from, peak_to = t0 + PEAK_WINDOW[0] * rush_s, t0 + PEAK_WINDOW[1] * rush_s
    peak_lags = [(acked - at) * 1000 for at, acked in lags if peak_from <= at < peak_to]
    per_second = Counter(int(at - t0) for at, _ in lags)
    stored_per_second = Counter(int(acked - t0) for _, acked in lags if peak_from <= acked < peak_to)
    killed = {d for r in reports for d in r["killed"]}
    propagation: list[float] = []
    unseen = 0
    fanout: float | None = None
    for index, change in enumerate(changes):
        seen = [t for r in reports for t in r["watches"].get(str(index), [])]
        lanes_of = [city.device_id(n) for n in city.lanes_of(change["project"])]
        if all(d in killed for d in lanes_of) or index not in requested:
            continue
        got = [t for t in seen if t is not None]
        if len(got) < len([d for d in lanes_of if d not in killed]) or not got:
            unseen += 1
            continue
        latency = max(got) - requested[index]
        if change["kind"] == "watchlist":
            fanout = latency
        else:
            propagation.append(latency * 1000)
    simulator_cpu = sum(r["cpu_s"] for r in reports)
    report: dict[str, Any] = {
        "lanes": city.lanes,
        "hubs": len(hubs),
        "connected": connected,
        "connect_all_s": round(connect_all_s, 1),
        "events": events,
        "lost": counted.lost - len(held_unstored),
        "duplicates": counted.duplicates,
        "peak_events_per_s": max(per_second.values(), default=0),
        "stored_per_s_peak": max(stored_per_second.values(), default=0),
        "ingest_lag_p50_ms": _round(percentile(peak_lags, 0.5)),
        "ingest_lag_p99_ms": _round(percentile(peak_lags, 0.99)),
        "presence_wrong": faults.get("presence_wrong"),
        "watchlist_fanout_s": None if fanout is None else round(fanout, 2),
        "propagation_p99_ms": _round(percentile(propagation, 0.99)),
        "api_p99_ms": {
            k: _round(percentile(v, 0.99)) for k, v in sorted(latencies.items()) if not k.endswith("_failed")
        },
        "hub_rss_mb": round(meter.hub_rss_mb),
        "broker_rss_mb": round(meter.broker_rss_mb),
        "hub_cpu_s_per_1k_events": round(hub_cpu / max(events, 1) * 1000, 3),
        "simulator_cpu_s": round(simulator_cpu, 1),
        "hub_cpu_s": round(hub_cpu, 1),
        "hub_cpu_s_each": [round(c, 1) for c in hub_cpu_each],
        "projects": city.projects,
        "people": city.people,
        "assigned": city.assigned,
        "speed": args.speed,
        "simulator_nice": args.simulator_nice,
        "rush_s": round(rush_s, 1),
        "first_rosters_s": round(rostered_s, 1),
        "load_s": round(load_s, 1),
        "hub_start_s": round(hub_start_s, 1),
        "propagation_p50_ms": _round(percentile(propagation, 0.5)),
        "changes_unseen": unseen,
        "api_failed": {k[: -len("_failed")]: len(v) for k, v in latencies.items() if k.endswith("_failed")},
        "api_p50_ms": {
            k: _round(percentile(v, 0.5)) for k, v in sorted(latencies.items()) if not k.endswith("_failed")
        },
        "unexpected": counted.unexpected,
        "held_by_killed_lanes": sum(d in killed_lanes for d, _ in held_unstored),
        "held_by_live_lanes": sum(d not in killed_lanes for d, _ in held_unstored),
        "drained_after_rush_s": None if drained_s is None else round(drained_s, 1),
        "lane_connections": sum(r["connections"] for r in reports),
        "lane_resends": sum(r["resends"] for r in reports),
        "simulators": len(reports),
        "simulator_rss_mb": round(max((r["rss_mb"] for r in reports), default=0)),
        "simulator_gc_s": round(sum(r.get("gc_s", 0.0) for r in reports), 1),
        "simulator_gc_full_s": round(sum(r.get("gc_full_s", 0.0) for r in reports), 1),
        **faults,
        "loadavg_1m": round(os.getloadavg()[0], 2),
    }
    return report


async def log_progress(sims: Simulators, started: float) -> None:
    """The lanes' counts every 15 s, to stderr (a run of thousands of lanes takes minutes)."""
    while True:
        await asyncio.sleep(15)
        counts = ", ".join(f"{k} {sims.total(k)}" for k in ("connected", "rostered", "journalled", "acked"))
        log(f"city: +{time.monotonic() - started:.0f} s: {counts}")


async def until_drained(sims: Simulators, within_s: float) -> float | None:
    """Until every lane's people have swiped (a busy loop wakes late) and every live lane's journal
    is acknowledged, as each simulator's latest status line says: how long that took after the rush, or
    None if events were still unacknowledged after ``within_s`` (they stay in the lanes' journals,
    counted in the report as held, not lost)."""
    started = time.monotonic()
    last_log = started
    while (unacked := sims.total("unacked")) > 0 or sims.total("arriving") > 0:
        now = time.monotonic()
        if now - started > within_s:
            log(f"city: {unacked} events still unacknowledged {within_s:.0f} s after the rush")
            return None
        if now - last_log >= 10:
            log(f"city: {unacked} events unacknowledged")
            last_log = now
        await asyncio.sleep(0.5)
    return time.monotonic() - started


async def until_seen(sims: Simulators, within_s: float) -> None:
    """Until every change is seen by its project's live lanes, or ``within_s``: what is still
    unseen then is counted in the report, not waited for."""
    ends = time.monotonic() + within_s
    while time.monotonic() < ends and any(got < of for got, of in sims.watches().values()):  # noqa: ASYNC110
        await asyncio.sleep(0.5)  # the counts come from another process's lines: polled


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def missed(report: dict[str, Any]) -> list[str]:
    misses = [
        f"{key} {report[key]} > {goal}"
        for key, goal in GOALS.items()
        if report.get(key) is None or report[key] > goal
    ]
    misses += [f"api_p99_ms[{k}] {v} > 100" for k, v in report["api_p99_ms"].items() if v is None or v > 100]
    if report["connected"] < report["lanes"]:
        misses.append(f"connected {report['connected']} < {report['lanes']}")
    return misses


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lanes", type=int, default=10_000)
    parser.add_argument("--projects", type=int, default=4_000)
    parser.add_argument("--people", type=int, default=600_000)
    parser.add_argument("--assigned", type=int, default=None, help="default: two thirds of --people")
    parser.add_argument(
        "--speed", type=float, default=12.0, help="how much faster than real time the rush plays"
    )
    parser.add_argument("--changes", type=int, default=1000)
    parser.add_argument("--kill", type=int, default=500)
    parser.add_argument("--flapping", type=float, default=0.01)
    parser.add_argument("--keepalive-s", type=int, default=20)
    parser.add_argument(
        "--simulators", type=int, default=0, help="lane processes (default: one per 2,500 lanes)"
    )
    parser.add_argument("--connect-within-s", type=float, default=600.0)
    parser.add_argument("--drain-within-s", type=float, default=300.0)
    parser.add_argument(
        "--simulator-nice",
        type=int,
        default=0,
        help="the simulated lanes' niceness (default 0: they compete with the hub, the broker and the "
        "database as equals). 10 makes them yield the CPU, as devices of their own would; at 10,000 "
        "lanes on 2 cores that made the hub's run worse, not better: the lanes came back from the "
        "broker's restart in 4 s instead of 60 and resent their backlog all at once (129,193 resends, "
        "hub 1.5 GB, lag p99 308 s against 71,141-76,151, 0.6 GB and 166-176 s at 0)",
    )
    parser.add_argument(
        "--hubs",
        type=int,
        default=1,
        help="hub processes on the one database and broker, splitting the lanes' events by the shared "
        "subscription (default 1); hub 1 takes the registry changes and is the one restarted",
    )
    parser.add_argument("--no-faults", action="store_true")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--keep", action="store_true", help="keep the run's files (logs)")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes allowed; never fails on a goal")
    parser.add_argument("--deadline-s", type=float, default=None)
    parser.add_argument(
        "--profile", type=Path, help="run hub 1 under cProfile, its stats here (its last instance's)"
    )
    parser.add_argument("--simulator", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.simulator:
        from bench._city_lanes import main as simulate

        simulate(Path(args.simulator[0]), int(args.simulator[1]), int(args.simulator[2]))
        return 0
    args.assigned = args.people * 2 // 3 if args.assigned is None else args.assigned
    if not (1 <= args.projects <= args.lanes) or not (args.projects <= args.assigned <= args.people):
        parser.error("need 1 <= --projects <= --lanes and --projects <= --assigned <= --people")
    if args.hubs < 1:
        parser.error("--hubs must be at least 1")
    if not args.no_faults and args.kill >= args.lanes:
        parser.error("--kill must be below --lanes")
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # mosquitto inherits it: one fd a lane
    rush_s = RUSH_REAL_S / args.speed
    deadline = (
        args.deadline_s or 300 + args.connect_within_s + rush_s + args.drain_within_s + args.people / 2000
    )
    with bench_lifetime("city", deadline) as life, run_dir("sitegate-city-", args.keep) as workdir:
        life.step("postgres: starting a private server")
        with PostgresServer() as pg:
            report = asyncio.run(run(life, args, workdir, pg))
    print(json.dumps(report, ensure_ascii=False))
    if args.profile is not None and args.profile.exists():
        print_profile(args.profile)
    misses = missed(report)
    if misses:
        log(f"city: goals missed: {'; '.join(misses)}")
    return 0 if args.smoke or not misses else 1


if __name__ == "__main__":
    sys.exit(main())
