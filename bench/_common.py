"""What the ingest benches share: their start-up (the common arguments; the run's directory, store
and broker: :func:`started`), the store they run on, the hub as a process, synthetic events,
and the exactly-once tally read back from the hub's database. And the site benches' (passback,
propagation) start-up: their arguments, work directory, hub with the city's account, latencies.
(A bench's deadline, its orderly exit on SIGTERM and the cleanup of its processes are in
bench/_lifetime.py.)

Import it after the bench has put the repository root on ``sys.path`` (every bench does that
first, so it runs as ``.venv/bin/python bench/NAME.py`` from anywhere).

The tally is read from the database, not from the hub's counters: the counters live in the hub
process (a killed hub takes its own with it) and the API that shows them needs a login.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import random
import shutil
import statistics
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from sqlalchemy import select

from bench._lifetime import Lifetime, bench_lifetime, budget
from hub.store import Store
from hub.store.schema import access_events, districts, enterprises, gates, projects
from sitegate.hubproc import HubLauncher, HubProcess
from sitegate.mosquitto import Mosquitto
from sitegate.netutil import running_groups, stop_all_groups
from sitegate.postgres import PostgresServer
from wire.models import AccessEvent, CardKind, Decision, Direction, Reason

STORES: Final = ("sqlite", "postgres")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


BENCH_PROJECT = "P-BENCH"
"""The project of the benches' events (:func:`access_event`)."""


def access_event(
    device_id: str,
    seq: int,
    *,
    person_id: str | None = None,
    direction: Direction = Direction.IN,
    wall_time: datetime | None = None,
) -> AccessEvent:
    """A full, valid record with no personal data in it: a granted passage of ``person_id`` (a
    registry id, not an ID number), or without one a denied swipe of an unregistered card."""
    granted = person_id is not None
    return AccessEvent(
        device_id=device_id,
        seq=seq,
        boot_id="bench-boot-0001",
        mono_ns=seq * 1_000_000,
        wall_time=wall_time or datetime.now(UTC),
        clock_synced=False,
        project_id=BENCH_PROJECT,
        lane="A1",
        direction=direction,
        decision=Decision.GRANTED if granted else Decision.DENIED,
        reason=Reason.GRANTED if granted else Reason.NOT_REGISTERED,
        card_kind=CardKind.RESIDENT,
        credential_hash=f"{seq:064x}",
        person_id=person_id,
    )


class Passages:
    """Synthetic lane traffic, one event at a time in arrival order: a ``granted`` share are
    passages of ``events // 4`` synthetic people (about four each, alternating in and out), the
    rest denied swipes; wall times step 1 ms an event, so each person's day is in order."""

    def __init__(self, events: int, granted: float, seed: int = 0) -> None:
        self._rng = random.Random(seed)
        self._people = max(1, events // 4)
        self._granted = granted
        self._inside: set[int] = set()
        self._start = datetime.now(UTC) - timedelta(seconds=events / 1000 + 60)
        self._made = 0

    def event(self, device_id: str, seq: int) -> AccessEvent:
        wall_time = self._start + timedelta(milliseconds=self._made)
        self._made += 1
        if self._rng.random() >= self._granted:
            return access_event(device_id, seq, wall_time=wall_time)
        person = self._rng.randrange(self._people)
        direction = Direction.OUT if person in self._inside else Direction.IN
        self._inside ^= {person}
        return access_event(
            device_id, seq, person_id=f"p-{person:07d}", direction=direction, wall_time=wall_time
        )


def device_ids(count: int, prefix: str = "lane-bench") -> list[str]:
    return [f"{prefix}-{n:04d}" for n in range(1, count + 1)]


def split(events: int, devices: Sequence[str]) -> dict[str, int]:
    """``events`` spread over ``devices`` as evenly as whole numbers allow."""
    share, extra = divmod(events, len(devices))
    return {device: share + (1 if n < extra else 0) for n, device in enumerate(devices)}


@contextlib.contextmanager
def run_dir(prefix: str, keep: bool) -> Iterator[Path]:
    """A temporary directory for the run's files, removed afterwards unless ``keep`` (then its
    path goes to stderr: the hubs' and the broker's logs are there).

    The processes the bench started and has not stopped go first, then the files: a bench
    unwinding from SIGTERM reaches here before its lifetime's sweep of leftovers, and a
    10,000-lane city's simulators went on writing into a directory being removed, for a minute."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    before = running_groups()  # in a test process: its session's servers, not the bench's
    try:
        yield path
    finally:
        left = stop_all_groups(keep=before)
        if left:
            log(f"stopped {len(left)} process group(s) before removing {path}: {'; '.join(left)}")
        if keep:
            log(f"kept {path}")
        else:
            shutil.rmtree(path, ignore_errors=True)


# -- where the hub stores ------------------------------------------------------------------------


@contextlib.contextmanager
def database(kind: str, workdir: Path) -> Iterator[str]:
    """An empty hub database and its URL: a SQLite file under ``workdir`` or a private PostgreSQL
    (``sitegate.postgres``), stopped and removed when the block ends. Call outside an event loop."""
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{workdir / 'hub.sqlite3'}"
        return
    if kind != "postgres":
        raise ValueError(f"store must be one of {', '.join(STORES)}, not {kind!r}")
    log("postgres: starting a private server")
    with PostgresServer() as server:
        yield server.url(asyncio.run(server.database("bench")))


async def stored_keys(url: str) -> list[tuple[str, int]]:
    """Every (device_id, seq) in the access events table, one per row."""
    store = await Store.open(url)
    try:
        async with store.read("bench tally") as conn:
            rows = await conn.execute(select(access_events.c.device_id, access_events.c.seq))
            return [(str(device), int(seq)) for device, seq in rows]
    finally:
        await store.close()


@dataclass(frozen=True, slots=True)
class Tally:
    stored: int
    lost: int
    """Published (device, seq) with no row."""
    duplicates: int
    """Rows beyond one per (device, seq): 0 by the schema's unique key, counted all the same."""
    unexpected: int
    """Rows for a (device, seq) nobody published."""


def tally(published: Mapping[str, int], rows: Sequence[tuple[str, int]]) -> Tally:
    """Compare the rows with what was published: seqs 1..n for each device's n."""
    keys = set(rows)
    expected = {(device, seq) for device, n in published.items() for seq in range(1, n + 1)}
    return Tally(
        stored=len(rows),
        lost=len(expected - keys),
        duplicates=len(rows) - len(keys),
        unexpected=len(keys - expected),
    )


# -- the hub as a process ------------------------------------------------------------------------


class BoundedHub(HubLauncher):
    """The launcher of sitegate.hubproc, whose wait for ``/healthz`` never runs past the bench's
    deadline (bench/_lifetime.py)."""

    def start(self, within_s: float = HubLauncher.START_S) -> HubProcess:
        return super().start(budget(within_s))


class Hub(BoundedHub):
    """``sitegate hub`` as a child process on any store URL, optionally under cProfile: the
    launcher of sitegate.hubproc with the benches' defaults (warnings-only log, the run's own
    directory as working directory: a hub on PostgreSQL keeps its keys in ``./var``, and instances
    of one run share them). The profile is written when the hub exits on SIGTERM.
    """

    def __init__(
        self,
        url: str,
        broker: Mosquitto,
        *,
        state_dir: Path,
        name: str = "hub",
        share_group: str | None = None,
        log_path: Path | None = None,
        profile_path: Path | None = None,
        extra: Sequence[str] = (),
    ) -> None:
        python = [sys.executable]
        if profile_path is not None:
            python += ["-m", "cProfile", "-o", str(profile_path)]
        super().__init__(
            url,
            broker.host,
            broker.port,
            log=log_path,
            share_group=share_group,
            cwd=state_dir,
            python=python,
            extra=["--log-level", "WARNING", *extra],
            name=name,
        )


def link_drops(hub_log: Path) -> int:
    """How often a hub's ingest lost its broker link (hub.mqtt_link logs each time)."""
    try:
        return hub_log.read_text(errors="replace").count("ingest link to ")
    except OSError:
        return 0


def tail(path: Path, lines: int = 40) -> str:
    """The last ``lines`` of a log file, for a report of what went wrong."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError as err:
        return f"(no log: {err})"


def print_profile(path: Path, lines: int = 30) -> None:
    """The hub's hottest functions by cumulative and by own time, to stderr."""
    import pstats

    stats = pstats.Stats(str(path), stream=sys.stderr)
    stats.sort_stats("cumulative").print_stats(lines)
    stats.sort_stats("tottime").print_stats(lines)


async def place_devices(url: str, devices: list[str]) -> None:
    """The hub attributes each event from its device's placement (hub.events.attribution) and
    refuses an unplaced device's: the simulated controllers are placed at gates of the events'
    project, for both directions (the workload's passages go in, then out)."""
    now = datetime.now(UTC)
    async with await Store.open(url) as store, store.write("bench placements") as conn:
        await conn.execute(districts.insert().values(code="110199", name="Bench district"))
        await conn.execute(
            enterprises.insert().values(
                id="ent-bench",
                number="91110199000000000X",
                name="Bench GC",
                kind="general_contractor",
                district="110199",
                local=True,
                created_at=now,
            )
        )
        await conn.execute(
            projects.insert().values(
                id=BENCH_PROJECT,
                permit_number="permit-bench",
                name="Bench project",
                district="110199",
                address="bench",
                gc_enterprise_id="ent-bench",
                site_key_cipher=b"sealed",
                created_at=now,
            )
        )
        await conn.execute(
            gates.insert(),
            [
                {"device_id": d, "project_id": BENCH_PROJECT, "lane": "A1", "direction": "both", "name": d}
                for d in devices
            ],
        )


# -- a run's start-up ----------------------------------------------------------------------------


def bench_parser(
    doc: str | None,
    *,
    events: int,
    devices: int,
    devices_are: str = "simulated controllers",
    keeps: str = "logs, databases",
    rate: float | None = None,
    deadline_default: str,
) -> argparse.ArgumentParser:
    """The arguments every store-and-broker bench takes: ``--store``, ``--keep``, ``--events``,
    ``--devices``, ``--deadline-s`` (``deadline_default`` says how its default is worked out), and
    with a ``rate`` the lanes' ``--rate``. The bench adds its own and checks them."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", choices=STORES, default="sqlite")
    parser.add_argument("--keep", action="store_true", help=f"keep the run's files ({keeps})")
    parser.add_argument("--events", type=int, default=events)
    parser.add_argument("--devices", type=int, default=devices, help=f"{devices_are} (default {devices})")
    if rate is not None:
        parser.add_argument(
            "--rate", type=float, default=rate, help=f"events journaled a second (default {rate:g})"
        )
    parser.add_argument(
        "--deadline-s", type=float, help=f"the whole run's deadline (default: {deadline_default})"
    )
    return parser


@dataclass(frozen=True, slots=True)
class Run:
    """What :func:`started` started: the bench's lifetime, its directory, the hub's store, the broker."""

    life: Lifetime
    files: Path
    url: str
    broker: Mosquitto

    def hub(self, name: str = "hub", **options: Any) -> Hub:
        """A hub on the run's store and broker, its log ``<name>.log`` in the run's directory."""
        return Hub(self.url, self.broker, name=name, state_dir=self.files, log_path=self.log(name), **options)

    def log(self, hub_name: str) -> Path:
        return self.files / f"{hub_name}.log"

    async def counted(self, published: Mapping[str, int]) -> Tally:
        """The stored events read back and compared with what was published (:func:`tally`)."""
        self.life.step("counting the stored events")
        return tally(published, await stored_keys(self.url))


@contextlib.contextmanager
def started(name: str, args: argparse.Namespace, deadline_s: float, *, files_prefix: str) -> Iterator[Run]:
    """The bench's lifetime (bench/_lifetime.py), a directory for its files (kept with ``--keep``),
    the ``--store`` and a private mosquitto, stopped in that order's reverse however the run ends."""
    with bench_lifetime(name, deadline_s) as life, run_dir(files_prefix, args.keep) as files:
        life.step(f"starting the {args.store} store and mosquitto")
        with database(args.store, files) as url, Mosquitto() as broker:
            yield Run(life, files, url, broker)
            life.step("stopping the broker and the store")


# -- the site benches' start-up (passback, propagation) ------------------------------------------


@dataclass(frozen=True, slots=True)
class SampleDeadline:
    """A site bench's default deadline: ``base_s`` plus so much a person and a sample, several
    times what a run of that size takes, so only a run that is stuck reaches it."""

    per_person_s: float
    per_sample_s: float
    base_s: float = 120.0

    def of(self, samples: int, people: int) -> float:
        return self.base_s + self.per_person_s * people + self.per_sample_s * samples

    def __str__(self) -> str:
        return f"{self.base_s:g} s + {self.per_person_s:g} s a person + {self.per_sample_s:g} s a sample"


def sampling_parser(
    doc: str | None,
    *,
    samples: int,
    people: int,
    deadline: SampleDeadline,
    sample_timeout_s: float,
    sample_is: str,
) -> argparse.ArgumentParser:
    """The arguments of a bench that times ``--samples`` changes on a site of ``--people``:
    ``--dir``, ``--smoke``, ``--deadline-s`` (default: ``deadline``) and ``--sample-timeout-s``
    (``sample_is``: how long what may take). The bench adds its own."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=samples)
    parser.add_argument("--people", type=int, default=people)
    parser.add_argument("--dir", type=Path, default=None, help="work directory (default: a temporary one)")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes allowed; never fails on the goal")
    parser.add_argument(
        "--deadline-s",
        type=float,
        default=None,
        help=f"the whole run's deadline (default: {deadline})",
    )
    parser.add_argument(
        "--sample-timeout-s",
        type=float,
        default=sample_timeout_s,
        help=f"{sample_is} (default {sample_timeout_s:g})",
    )
    return parser


@contextlib.contextmanager
def in_workdir(
    name: str, deadline_s: float, workdir: Path | None, *, prefix: str
) -> Iterator[tuple[Lifetime, Path]]:
    """The bench's lifetime and its work directory: ``workdir`` (``--dir``, made if missing and
    kept) or a temporary one, removed afterwards."""
    with bench_lifetime(name, deadline_s) as life, tempfile.TemporaryDirectory(prefix=prefix) as scratch:
        path = workdir or Path(scratch)
        path.mkdir(parents=True, exist_ok=True)
        yield life, path


@dataclass(frozen=True, slots=True)
class SiteHub:
    broker: Mosquitto
    hub: HubProcess
    database: Path
    """The hub's SQLite file."""
    public_key: str
    """The hub's roster-signing public key, as the lanes' configuration holds it (base64)."""


async def add_city_account(url: str, password: str | None = None) -> None:
    """The city's account ``city-admin`` in the hub's database, made and migrated if new: what
    ``sitegate hub account create --create-database`` does (sitegate.hubproc's create_account), in
    this process: that command's own process cost ~1.4 CPU-s (its imports, which a bench has made
    already), this ~0.3. The password: bench/_site.py's unless given.

    The accounts' and the site's modules are imported here and in :func:`site_hub`, not with this
    module: the ingest benches, which need neither, started ~0.3 CPU-s faster without them."""
    from bench._site import PASSWORD
    from hub.auth.accounts import insert_account
    from hub.auth.principal import Role

    async with await Store.open(url) as store, store.write("bench: the city's account") as conn:
        await insert_account(
            conn,
            username="city-admin",
            password=PASSWORD if password is None else password,
            role=Role.CITY,
            display_name="city-admin",
            now=datetime.now(UTC),
        )


@contextlib.contextmanager
def site_hub(life: Lifetime, workdir: Path) -> Iterator[SiteHub]:
    """A private mosquitto and a hub process on a SQLite file in ``workdir``, with the city's
    account (``city-admin``, bench/_site.py's password) to build a site through its API."""
    from hub.rosters.keys import load_signing_key, public_key_b64

    database = workdir / "hub.db"
    life.step("creating the city's account")
    # In a thread with a loop of its own: the site benches enter this from inside theirs.
    with concurrent.futures.ThreadPoolExecutor(1) as account:
        account.submit(asyncio.run, add_city_account(f"sqlite+aiosqlite:///{database}")).result()
    life.step("starting mosquitto and the hub")
    with (
        Mosquitto() as broker,
        BoundedHub(database, broker.host, broker.port, log=workdir / "hub.log") as hub,
    ):
        yield SiteHub(broker, hub, database, public_key_b64(load_signing_key(workdir / "roster-signing.key")))
        life.step("stopping the hub and the broker")


def latency_summary(latencies_ms: Sequence[float]) -> tuple[float, float, float]:
    """Median, 99th percentile (nearest rank) and maximum, each rounded to 0.1 ms."""
    ordered = sorted(latencies_ms)
    p99 = ordered[min(len(ordered) - 1, max(0, round(0.99 * len(ordered)) - 1))]
    return round(statistics.median(ordered), 1), round(p99, 1), round(ordered[-1], 1)
