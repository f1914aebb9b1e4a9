"""Decision bench: policy latency, swipe-to-relay latency, boot time and memory with a 100k roster.

    .venv/bin/python bench/decision.py [--roster-size 100000] [--decide-swipes 50000]
                                       [--service-swipes 1500] [--boots 3] [--seed 0] [--dir PATH]
                                       [--deadline-s S]

Builds a synthetic roster (valid GB 11643 check digits, invented people, nothing real), saves it with
the real ``save_roster`` into a lane directory next to a real TOML configuration, and measures:

* ``decide_*``: the pure policy, ``decide(Swipe(...), Lane(...))`` including the roster lookup but
  not the HMAC; ``hash_and_decide_p99_us`` adds number validation and the HMAC (``_swipe_facts``).
* ``swipe_to_relay_*``: ``LaneService.handle(card)`` on the service ``build_service`` wires (real
  SQLite journal with ``synchronous=FULL``, real gpiozero outputs on ``MockFactory`` pins), from the
  decoded card until handle() returns, which is when the relay pin has been driven. The pin's state
  is checked after every call: driven for every grant, untouched for every denial.
* ``swipe_to_relay_*_with_feedback``: the same again, on a lane directory of its own, with the
  worker's screen and voice on (``controller/feedback``, issue 21): the real ST7789 driver
  (luma.lcd) drawing every decision on ``MockFactory`` pins and a null SPI bus, and every prompt
  (built with espeak-ng and sox first) played by ``aplay -D null``. Same goal as without: the
  feedback runs in its own threads, after the relay. ``feedback`` says what they got through.
* ``boot_ready_s`` / ``rss_mb``: a child process that imports the controller, runs ``build_service``
  on the configuration (loading the roster file) and prints "ready"; wall time from Popen
  to that line (median of ``--boots``) and the child's peak RSS (VmHWM) at that point. VmHWM, not
  ``RUSAGE_CHILDREN``: a child's ru_maxrss also counts the parent's pages it had before exec.

The lane lives at a fixed time of day (:class:`BenchClock`: 10:00 at the site on today's date,
ticking from there), and so do the synthetic roster's dates and visitor passes and the lane's
working hours (its defaults: workers 06:00-20:00): the mix of decisions, and so the timings, are
the same whatever the hour the bench runs at (at night a real clock would refuse every worker).

Progress goes to stderr; the last stdout line is one JSON object. Exit status 1 if a goal is missed
(not with ``--smoke``), 2 if the bench could not finish (``--deadline-s``, default enough for the
size, bounds the run; the message names what it waited for), 128 + N when ended by signal N.
Numbers are for the machine it runs on: a Pi is several times slower, its SD card's fsync more so.
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
import math  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from datetime import date, datetime, timedelta  # noqa: E402
from datetime import time as time_of_day  # noqa: E402
from typing import Any  # noqa: E402

from gpiozero.pins.mock import MockFactory  # noqa: E402

from bench._lane_clock import BenchClock  # noqa: E402
from bench._lifetime import Lifetime, bench_lifetime, die_with_parent, log, read_line  # noqa: E402
from controller.board import load_board  # noqa: E402
from controller.cli import build_service  # noqa: E402
from controller.config import ControllerConfig, DisplayConfig, VoiceConfig, load_config  # noqa: E402
from controller.core.cards import IdentityCard  # noqa: E402
from controller.core.decision import Lane, Swipe, decide  # noqa: E402
from controller.core.passback import PassbackBook  # noqa: E402
from controller.core.roster import RosterEntry  # noqa: E402
from controller.feedback.build import feedback_setup  # noqa: E402
from controller.feedback.process import FeedbackProcess  # noqa: E402
from controller.feedback.prompts import build_all  # noqa: E402
from controller.roster_store import load_roster, save_roster  # noqa: E402
from controller.service import LaneService, _swipe_facts  # noqa: E402
from hardware.emulators.identities import HANGZHOU_DISTRICTS, bad_check_digit  # noqa: E402
from wire.clock import SITE_ZONE  # noqa: E402
from wire.credential import credential_hash  # noqa: E402
from wire.idnumber import validate_id_number, with_check_digit  # noqa: E402
from wire.models import AccessEvent, CardKind, Decision  # noqa: E402
from wire.roles import RosterRole  # noqa: E402

GOALS = {
    "decide_p99_us": 50.0,
    "swipe_to_relay_p99_ms": 15.0,
    "swipe_to_relay_p99_ms_with_feedback": 15.0,
    "boot_ready_s": 2.0,
    "rss_mb": 120.0,
}
PROJECT_ID = "BENCH-0001"
DEVICE_ID = "lane-bench-a1"
BENCH_TIME_OF_DAY = time_of_day(10, 0)
"""Where the lane's clock starts: inside the default working hours, far from midnight."""
SITE_KEY = bytes(range(100, 132))  # a fixed synthetic key: the bench holds no secrets

# Swipe mix: mostly people on the roster, some valid numbers that are not, some broken numbers.
MIX_REGISTERED = 0.88
MIX_UNREGISTERED = 0.08  # the rest (4%) are invalid numbers
EXPIRED_CARD_SHARE = 0.02
WATCHLIST_SIZE = 25

# The child that measures boot: process start to a lane built from its configuration, as cli._run.
BOOT_CHILD = """
import sys, time
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from controller.cli import build_service, pin_factory_for
from controller.config import load_config
imported = time.monotonic()  # system-wide, so comparable with the parent's (a pinned wall clock is not)
config = load_config(Path(sys.argv[2]))
service = build_service(config, pin_factory=pin_factory_for(config))
ready = time.monotonic()
status = Path("/proc/self/status").read_text()
hwm_kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
print("ready", len(service.roster), hwm_kb, imported, ready, flush=True)
service.outputs.close()
service.journal.close()
"""


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass(frozen=True, slots=True)
class Person:
    number: str
    birth: date
    digest: str
    entry: RosterEntry | None


class Population:
    """Synthetic people: distinct valid resident ID numbers, most of them on the roster."""

    def __init__(self, rng: random.Random, size: int, outsiders: int, now: datetime) -> None:
        self.rng = rng
        self.now = now
        numbers = self._numbers(size + outsiders)
        self.registered = [self._person(n, b, self._entry(i)) for i, (n, b) in enumerate(numbers[:size])]
        self.outsiders = [self._person(n, b, None) for n, b in numbers[size:]]
        self.watchlist = [p.digest for p in rng.sample(self.registered, WATCHLIST_SIZE)]

    def _numbers(self, count: int) -> list[tuple[str, date]]:
        districts = sorted(HANGZHOU_DISTRICTS)
        first, span = date(1965, 1, 1), (date(2004, 12, 31) - date(1965, 1, 1)).days + 1
        seen: set[str] = set()
        out: list[tuple[str, date]] = []
        while len(out) < count:
            born = first + timedelta(days=self.rng.randrange(span))
            first17 = f"{self.rng.choice(districts)}{born:%Y%m%d}{self.rng.randrange(1, 1000):03d}"
            if first17 not in seen:
                seen.add(first17)
                out.append((with_check_digit(first17), born))
        return out

    def _person(self, number: str, born: date, entry: RosterEntry | None) -> Person:
        return Person(number, born, credential_hash(SITE_KEY, number), entry)

    def _entry(self, index: int) -> RosterEntry:
        rng, today = self.rng, self.now.date()
        person_id = f"p-{index + 1:07d}"
        role = rng.choices(
            (RosterRole.WORKER, RosterRole.MANAGER, RosterRole.SUPERVISOR, RosterRole.VISITOR),
            weights=(82, 6, 5, 7),
        )[0]
        entry_date = today - timedelta(days=rng.randrange(1, 400))
        exit_date = None if rng.random() < 0.6 else today + timedelta(days=rng.randrange(1, 300))
        roll = rng.random()
        if roll < 0.03:  # assignment over
            exit_date = today - timedelta(days=rng.randrange(1, 60))
        elif roll < 0.04:  # not started yet
            entry_date = today + timedelta(days=rng.randrange(1, 30))
        if role is not RosterRole.VISITOR:
            return RosterEntry(person_id, role, entry_date, exit_date)
        start = self.now - timedelta(hours=2) if rng.random() < 0.8 else self.now - timedelta(hours=30)
        return RosterEntry(person_id, role, entry_date, exit_date, start, start + timedelta(hours=8))

    def roster_items(self) -> list[tuple[str, RosterEntry]]:
        return [(p.digest, p.entry) for p in self.registered if p.entry is not None]

    def draw(self, count: int, *, distinct: bool) -> list[tuple[IdentityCard, str]]:
        """``count`` presented cards in the bench's mix, shuffled; with ``distinct`` nobody twice."""
        rng, today = self.rng, self.now.date()
        n_reg = round(count * MIX_REGISTERED)
        n_out = round(count * MIX_UNREGISTERED)
        n_bad = count - n_reg - n_out
        pick = rng.sample if distinct else rng.choices
        people = [*pick(self.registered, k=n_reg), *pick(self.outsiders, k=n_out)]
        presented = [(p, p.number) for p in people]
        for p in pick(self.outsiders, k=n_bad):
            broken = bad_check_digit(p.number) if rng.random() < 0.8 else p.number[:17]
            presented.append((p, broken))
        rng.shuffle(presented)
        cards = []
        for person, number in presented:
            expired = rng.random() < EXPIRED_CARD_SHARE
            valid_to = today - timedelta(days=rng.randrange(1, 500)) if expired else date(2036, 1, 1)
            card = IdentityCard(CardKind.RESIDENT, "测试", number, person.birth, date(2016, 1, 1), valid_to)
            cards.append((card, credential_hash(SITE_KEY, number)))
        return cards


def write_lane(root: Path, population: Population) -> Path:
    """A lane directory as a site would have it: site key, roster, TOML configuration (the lane's
    default working hours: BenchClock keeps the lane inside them)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "site.key").write_text(SITE_KEY.hex())
    save_roster(root / "roster.json", 7, PROJECT_ID, population.roster_items(), population.watchlist)
    config = root / "controller.toml"
    config.write_text(
        "\n".join(
            [
                f'device_id = "{DEVICE_ID}"',
                f'project_id = "{PROJECT_ID}"',
                'lane = "A1"',
                'direction = "in"',
                f'data_dir = "{root}"',
                f'site_key_file = "{root / "site.key"}"',
                'board = "rpi4"',
                'pin_factory = "mock"',
                f'timezone = "{SITE_ZONE.key}"',
                "relay_pulse_s = 1.0",
                "[readers.id_module]",
                f'port = "{root / "never-opened-tty"}"',  # the bench calls handle() directly
                "[policy]",
                'anti_passback = "hard"',
                "",
            ]
        )
    )
    return config


def bench_decide(
    config: ControllerConfig, population: Population, count: int, clock: BenchClock
) -> dict[str, object]:
    loaded = load_roster(config.roster_path)
    assert loaded.fault is None, loaded.fault
    roster = loaded.roster
    policy = config.policy.to_policy()
    direction = config.direction
    cards = population.draw(count, distinct=False)
    # Facts the swipe brings before the policy runs (validation, HMAC): computed outside the timing.
    facts = [(validate_id_number(card.id_number), card.valid_to, digest) for card, digest in cards]
    now = clock.now()
    lookup, watchlisted = roster.lookup, roster.watchlisted
    clock_ns = time.perf_counter_ns

    def decide_pass(record: bool) -> tuple[list[float], Counter[str]]:
        book = PassbackBook()
        times: list[float] = []
        mix: Counter[str] = Counter()
        for problem, valid_to, digest in facts:
            t0 = clock_ns()
            entry = lookup(digest) if problem is None else None
            inside = book.inside(entry.person_id if entry else None)
            verdict = decide(
                Swipe(problem, valid_to, entry, watchlisted(digest), inside=inside),
                Lane(direction, now, policy),
            )
            t1 = clock_ns()
            if verdict.granted and entry is not None:
                book.record(entry.person_id, direction)
            if record:
                times.append((t1 - t0) / 1000)
                mix[verdict.reason.value] += 1
        return times, mix

    def hash_pass() -> tuple[list[float], Counter[str]]:
        book = PassbackBook()
        times: list[float] = []
        mix: Counter[str] = Counter()
        for card, _ in cards:
            t0 = clock_ns()
            _, _, swipe = _swipe_facts(card, SITE_KEY, roster, book)
            verdict = decide(swipe, Lane(direction, now, policy))
            t1 = clock_ns()
            if verdict.granted and swipe.entry is not None:
                book.record(swipe.entry.person_id, direction)
            times.append((t1 - t0) / 1000)
            mix[verdict.reason.value] += 1
        return times, mix

    decide_pass(record=False)  # warm-up
    times, mix = decide_pass(record=True)
    hashed, hashed_mix = hash_pass()
    assert mix == hashed_mix, (mix, hashed_mix)
    times.sort()
    hashed.sort()
    log(f"decide: {count} swipes, p50 {percentile(times, 0.5):.1f} us, p99 {percentile(times, 0.99):.1f} us")
    return {
        "decide_p50_us": round(percentile(times, 0.50), 2),
        "decide_p99_us": round(percentile(times, 0.99), 2),
        "decide_max_us": round(times[-1], 1),
        "hash_and_decide_p50_us": round(percentile(hashed, 0.50), 2),
        "hash_and_decide_p99_us": round(percentile(hashed, 0.99), 2),
        "decide_swipes": count,
        "decide_mix": dict(mix.most_common()),
    }


def lane_for_run(config: ControllerConfig, run_dir: Path, *, feedback: bool) -> ControllerConfig:
    """The lane in a directory of its own (a fresh journal and passback state, the same roster),
    with the worker's screen and voice off, or on: the real ST7789 driver on a null SPI bus and
    the prompts played by aplay into ALSA's null device."""
    run_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy2(config.roster_path, run_dir / config.roster_path.name)
    if not feedback:
        display, voice = DisplayConfig(enabled=False), VoiceConfig(enabled=False)
    else:
        prompts = run_dir.parent / "prompts"
        if not prompts.is_dir():
            build_all(prompts)
        display = DisplayConfig(device="board")
        voice = VoiceConfig(output="alsa", alsa_device="null", prompts_dir=prompts, quiet_hours=None)
    return config.model_copy(update={"data_dir": run_dir, "display": display, "voice": voice})


@dataclass
class BenchLane:
    """One lane of the service bench: its service, its relay pin, its cards and timings."""

    suffix: str
    service: LaneService
    relay_pin: Any
    driven: bool
    cards: list[tuple[IdentityCard, str]]
    times: list[float]
    mix: Counter[str]


async def bench_lane(
    config: ControllerConfig, population: Population, count: int, clock: BenchClock, *, feedback: bool
) -> BenchLane:
    pins = MockFactory()
    service = build_service(config, pin_factory=pins, clock=clock)
    assert len(service.roster) == len(population.registered)
    if feedback:  # as on a real lane: the screen and voice in a child process (build_feedback)
        assert service.feedback is not None
        service.feedback.close()  # the in-process one build_service gives a mock-pin lane
        setup = feedback_setup(config, load_board(config.board)).model_copy(update={"null_bus": True})
        service.feedback = FeedbackProcess(setup, clock=clock)
        service.feedback.start()
        await _settle(service.feedback, lambda status: status.get("drawn", 0) >= 1)
    spec = load_board(config.board).outputs.relay_in
    cards = population.draw(count, distinct=True)
    suffix = "_with_feedback" if feedback else ""
    return BenchLane(suffix, service, pins.pin(spec.pin), spec.active_high, cards, [], Counter())


async def bench_service(
    life: Lifetime,
    configs: dict[bool, ControllerConfig],
    population: Population,
    count: int,
    clock: BenchClock,
) -> dict[str, object]:
    """The lanes (without feedback, with it) take turns, swipe by swipe: whatever else the machine
    is doing falls on both alike, so the difference between them is the feedback's."""
    lanes: list[BenchLane] = []
    clock_ns = time.perf_counter_ns
    try:
        for feedback, config in configs.items():
            lanes.append(await bench_lane(config, population, count, clock, feedback=feedback))
        for i in range(count):
            for lane in lanes:
                card, _ = lane.cards[i]
                outputs = lane.service.outputs
                outputs.fail_secure()  # each swipe starts from a de-energised relay
                assert lane.relay_pin.state != lane.driven
                pulses = outputs.pulses
                t0 = clock_ns()
                event = lane.service.handle(card)
                t1 = clock_ns()
                granted = event.decision is Decision.GRANTED
                if (lane.relay_pin.state == lane.driven) != granted or outputs.pulses != pulses + granted:
                    raise AssertionError(
                        f"swipe {i}: {event.reason.value} but relay state {lane.relay_pin.state}"
                    )
                lane.times.append((t1 - t0) / 1e6)
                lane.mix[event.reason.value] += 1
                await asyncio.sleep(0)  # let the loop run between swipes, as it does between real reads
            if (i + 1) % 500 == 0:
                log(f"service: {i + 1}/{count} swipes a lane")
            if (i + 1) % 50 == 0 and not life.remaining():
                life.fail(f"only {i + 1} of {count} swipes through the service {life.within_deadline}")
        result: dict[str, object] = {}
        for lane in lanes:
            result |= await _lane_result(lane, count)
    finally:
        for lane in lanes:
            lane.service.close()
    return result


async def _lane_result(lane: BenchLane, count: int) -> dict[str, object]:
    # every swipe journaled once (lane events, e.g. a grant superseded before the arm turned, also
    # sit in the journal; they are not swipes)
    recorded = [r for r in lane.service.journal.pending(0, 10 * count) if isinstance(r, AccessEvent)]
    assert len(recorded) == count, (len(recorded), count)
    shown: dict[str, object] = {}
    if isinstance(lane.service.feedback, FeedbackProcess):
        shown = await _settle(lane.service.feedback, lambda status: status.get("drawn", 0) > 1)
    times = sorted(lane.times)
    p50, p99 = percentile(times, 0.5), percentile(times, 0.99)
    log(f"service{lane.suffix}: p50 {p50:.2f} ms, p99 {p99:.2f} ms {shown}")
    result: dict[str, object] = {
        f"swipe_to_relay_p50_ms{lane.suffix}": round(percentile(times, 0.50), 3),
        f"swipe_to_relay_p99_ms{lane.suffix}": round(percentile(times, 0.99), 3),
        f"swipe_to_relay_max_ms{lane.suffix}": round(times[-1], 3),
    }
    if lane.suffix:
        return result | {"feedback": shown}
    mix = dict(lane.mix.most_common())
    return result | {"service_swipes": count, "service_mix": mix, "relay_checked": count}


async def _settle(feedback: FeedbackProcess, done: Callable[[dict[str, Any]], bool]) -> dict[str, object]:
    """The child's status once ``done`` holds (up to 20 s: a child's start on a loaded machine):
    screens drawn and dropped as stale, prompts played, faults; plus lines the lane dropped."""
    for _ in range(400):
        feedback.tick()
        if done(feedback.child_status):
            break
        await asyncio.sleep(0.05)
    return {**feedback.child_status, "dropped_by_lane": feedback.dropped, "faults": feedback.faults}


def bench_boot(life: Lifetime, config_path: Path, runs: int, roster_size: int) -> dict[str, object]:
    walls: list[float] = []
    imports: list[float] = []
    hwm_mb: list[float] = []
    for attempt in range(1, runs + 1):
        started_mono = time.monotonic()
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-c", BOOT_CHILD, str(REPO_ROOT), str(config_path)],
            stdout=subprocess.PIPE,
            text=True,
            preexec_fn=die_with_parent(),
        )
        assert proc.stdout is not None
        try:
            line = "-"
            while line and not line.startswith("ready"):  # the ready line is the one we stop at
                line = read_line(proc.stdout, f"boot {attempt}: the lane's ready line", BOOT_WAIT_S)
            elapsed = time.perf_counter() - started
            while read_line(proc.stdout, f"boot {attempt}: the lane to close its output", BOOT_WAIT_S):
                pass
            proc.wait(life.budget(BOOT_WAIT_S))
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        if proc.returncode != 0 or not line.startswith("ready"):
            raise RuntimeError(f"boot child failed (exit {proc.returncode}): {line!r}")
        _, size, hwm_kb, imported, _ready = line.split()
        assert int(size) == roster_size, size
        walls.append(elapsed)
        imports.append(float(imported) - started_mono)
        hwm_mb.append(int(hwm_kb) / 1024)
        log(
            f"boot {attempt}/{runs}: ready in {elapsed:.2f} s "
            f"(imports {imports[-1]:.2f} s), peak RSS {hwm_mb[-1]:.0f} MB"
        )
    return {
        "boot_ready_s": round(statistics.median(walls), 3),
        "boot_ready_runs_s": [round(w, 3) for w in walls],
        "boot_imports_s": round(statistics.median(imports), 3),
        "rss_mb": round(max(hwm_mb), 1),
    }


BOOT_WAIT_S = 60.0


def run(life: Lifetime, root: Path, args: argparse.Namespace, started: float) -> dict[str, object]:
    clock = BenchClock("bench-decision-boot", BENCH_TIME_OF_DAY)
    rng = random.Random(args.seed)
    life.step(f"building {args.roster_size} synthetic people in {root}")
    population = Population(rng, args.roster_size, max(2000, args.roster_size // 10), clock.now())
    config_path = write_lane(root, population)
    config = load_config(config_path)
    size_mb = config.roster_path.stat().st_size / 1e6
    log(f"roster saved: {size_mb:.1f} MB, {time.monotonic() - started:.1f} s")
    result: dict[str, object] = {"roster_size": args.roster_size, "roster_file_mb": round(size_mb, 1)}
    life.step(f"deciding {args.decide_swipes} swipes")
    result |= bench_decide(config, population, args.decide_swipes, clock)
    life.step(f"{args.service_swipes} swipes through the lane service, without and with its screen and voice")
    configs = {
        False: lane_for_run(config, root / "run-plain", feedback=False),
        True: lane_for_run(config, root / "run-feedback", feedback=True),
    }
    result |= asyncio.run(bench_service(life, configs, population, args.service_swipes, clock))
    life.step(f"booting the lane {args.boots} time(s)")
    result |= bench_boot(life, config_path, args.boots, args.roster_size)
    result["lane_clock"] = clock.now().isoformat(timespec="seconds")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--roster-size", type=int, default=100_000)
    parser.add_argument("--decide-swipes", type=int, default=50_000)
    parser.add_argument("--service-swipes", type=int, default=1_500)
    parser.add_argument("--boots", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dir", type=Path, help="lane directory to use and keep (default: a temporary one)")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="allow tiny sizes (the test suite's check that the bench still runs); never fails on the goals",
    )
    parser.add_argument(
        "--deadline-s",
        type=float,
        help="the whole run's deadline (default: 120 s + 1 ms a roster entry + 20 s a boot)",
    )
    args = parser.parse_args(argv)
    if not args.smoke and (args.decide_swipes < 20_000 or args.service_swipes < 1_000):
        parser.error("use at least 20000 decide swipes and 1000 service swipes")
    if args.dir is not None and args.dir.exists() and any(args.dir.iterdir()):
        parser.error(f"{args.dir} is not empty")

    started = time.monotonic()
    deadline_s = args.deadline_s or 120.0 + 0.001 * args.roster_size + 20.0 * args.boots
    with bench_lifetime("decision", deadline_s) as life:
        if args.dir is not None:
            result = run(life, args.dir, args, started)
        else:
            with tempfile.TemporaryDirectory(prefix="sitegate-decision-") as tmp:
                result = run(life, Path(tmp) / "lane", args, started)
    met = {key: float(result[key]) <= goal for key, goal in GOALS.items()}  # type: ignore[arg-type]
    result["goals"] = GOALS
    result["goals_met"] = {**met, "all": all(met.values())}
    result["machine"] = f"{os.uname().machine}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}"
    result["seed"] = args.seed
    result["elapsed_s"] = round(time.monotonic() - started, 2)
    print(json.dumps(result, ensure_ascii=False))
    return 0 if args.smoke or all(met.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
