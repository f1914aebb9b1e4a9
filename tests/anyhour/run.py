"""The any-hour check: the clock-sensitive tests, with every process's wall clock pinned.

``make test`` runs this beside the main suite. Each pin is a time of day in Beijing; the run takes
its latest occurrence in the past (certificates made at the pinned instant must already be valid
for mosquitto, which keeps the real clock), starts pytest with ``tests/anyhour`` on
``PYTHONPATH`` (its ``sitecustomize`` pins the interpreter and every Python child) and the plugin
that re-pins at each test's start. The pins are the edges of the default working hours, the
middle of the night, and the day's last second: each test is re-pinned there at its start, and
these tests start a broker, a hub or lanes, so each runs across a local midnight.

    python -m tests.anyhour.run            # every pin
    python -m tests.anyhour.run 00:30      # one pin
    python -m tests.anyhour.run -- -x      # options after -- go to each pytest
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[2]
BEIJING = ZoneInfo("Asia/Shanghai")

PINS: dict[str, clock_time] = {
    "00:30": clock_time(0, 30),
    "05:59:59": clock_time(5, 59, 59),
    "20:00:00": clock_time(20, 0, 0),
    "23:59:59": clock_time(23, 59, 59),  # each test runs across a local midnight
}

RUN_LIMIT_S = 600.0
"""One pinned run's bound: pytest-timeout cannot cut a teardown that hangs after it fired."""

CLOCK_SENSITIVE = ["-m", "any_hour and not postgres and not pcscd"]
"""Tests marked ``any_hour``: the ones whose outcome depends on the time of day or the date through
real processes (lanes judging hours, the hub's "today", the console's day pages, the benches that
wait for a grant). Pure code takes its clock as a parameter and is tested at chosen instants. The
PostgreSQL variants are left to the main run (the store does not judge hours), and so are the PC/SC
lanes (pcscd is one per machine, and their lane runs the same decision as the serial one's)."""


def marked_files() -> list[str]:
    """Only the files that hold such tests are collected: collecting the whole suite five times
    costs more than some of the runs."""
    found = []
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        if "any_hour" in path.read_text(encoding="utf-8"):
            found.append(str(path.relative_to(ROOT)))
    return found


@dataclass
class Run:
    name: str
    pin: datetime
    process: subprocess.Popen[bytes]
    log: Path
    started: float


def latest_past(at: clock_time, now: datetime) -> datetime:
    """The latest instant at that Beijing time of day at least two minutes before ``now``."""
    local = now.astimezone(BEIJING) - timedelta(minutes=2)
    candidate = datetime.combine(local.date(), at, tzinfo=BEIJING)
    return candidate if candidate <= local else candidate - timedelta(days=1)


def start(name: str, pin: datetime, logs: Path, extra: list[str]) -> Run:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT / "tests" / "anyhour"), str(ROOT), env.get("PYTHONPATH", "")) if p
    )
    env["SITEGATE_PIN_AT"] = pin.isoformat()
    env["SITEGATE_CLOCK_OFFSET_S"] = repr(pin.timestamp() - time.time())
    log = logs / f"anyhour-{name.replace(':', '')}.log"
    command = [
        sys.executable,
        "-m",
        "pytest",
        *CLOCK_SENSITIVE,
        *marked_files(),
        "-p",
        "tests.anyhour.plugin",
        "-p",
        "no:cacheprovider",
        "-q",
        *extra,
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    return Run(name, pin, process, log, time.monotonic())


def summary_line(log: Path) -> str:
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1].strip("= ") if lines else "(no output)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("pins", nargs="*", help=f"pins to run, of {', '.join(PINS)} (default: all)")
    parser.add_argument("--parallel", type=int, default=len(PINS), help="pinned runs at once")
    parser.add_argument("--logs", type=Path, default=ROOT / "artifacts", help="where each run's output goes")
    argv = list(sys.argv[1:] if argv is None else argv)
    cut = argv.index("--") if "--" in argv else len(argv)
    argv, extra = argv[:cut], argv[cut + 1 :]  # after --: passed to each pytest
    args = parser.parse_args(argv)
    names = args.pins or list(PINS)
    unknown = [name for name in names if name not in PINS]
    if unknown:
        parser.error(f"no pin named {', '.join(unknown)}; the pins are {', '.join(PINS)}")
    args.logs.mkdir(parents=True, exist_ok=True)
    now = datetime.now(BEIJING)
    waiting = [(name, latest_past(PINS[name], now)) for name in names]
    running: list[Run] = []
    failed: list[str] = []
    signal.signal(signal.SIGTERM, _terminated)
    try:
        _supervise(waiting, running, failed, args.parallel, args.logs, extra)
    finally:
        for run in running:  # interrupted or killed: no pinned pytest (nor what it started) outlives us
            _stop(run.process)
    if failed:
        print(f"any-hour check failed at: {', '.join(failed)} (logs in {args.logs})", flush=True)
        return 1
    return 0


def _terminated(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the run's whole process group (pytest turns it into teardown), SIGKILL what stays."""
    for sig, grace in ((signal.SIGTERM, 20.0), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(grace)
            return
        except subprocess.TimeoutExpired:
            continue


def _supervise(
    waiting: list[tuple[str, datetime]],
    running: list[Run],
    failed: list[str],
    parallel: int,
    logs: Path,
    extra: list[str],
) -> None:
    while waiting or running:
        while waiting and len(running) < parallel:
            running.append(start(*waiting.pop(0), logs, extra))
        time.sleep(0.2)
        for run in [r for r in running if r.process.poll() is None]:
            if time.monotonic() - run.started > RUN_LIMIT_S:  # a teardown hung past pytest-timeout
                print(f"any-hour {run.name}: still running after {RUN_LIMIT_S:.0f} s; stopped", flush=True)
                _stop(run.process)
        for run in [r for r in running if r.process.poll() is not None]:
            running.remove(run)
            code = run.process.returncode
            took = time.monotonic() - run.started
            verdict = "ok" if code == 0 else f"FAILED (exit {code})"
            print(
                f"any-hour {run.name:>9} (wall clock {run.pin:%Y-%m-%d %H:%M:%S} Beijing): {verdict} "
                f"in {took:.0f} s: {summary_line(run.log)}",
                flush=True,
            )
            if code != 0:
                failed.append(run.name)
                print(run.log.read_text(errors="replace")[-6000:], flush=True)


if __name__ == "__main__":
    sys.exit(main())
