"""The any-hour check: the clock-sensitive tests, with every process's wall clock pinned.

``make test`` runs this beside the main suite. Each pin is a time of day in Beijing; the run takes
its latest occurrence in the past (certificates made at the pinned instant must already be valid
for mosquitto, which keeps the real clock). One pytest session (``--parallel`` xdist workers) runs
each test marked ``any_hour`` once per pin, with ``tests/anyhour`` on ``PYTHONPATH`` (its
``sitecustomize`` pins every Python child a test starts) and the plugin that parametrizes the
tests over the pins, re-pins at each test's start and tears the session's fixtures down between
one pin's tests and the next's (``tests/anyhour/plugin.py``). The pins are the edges of the default
working hours, the middle of the night, and the day's last second: each test is re-pinned there at
its start, and these tests start a broker, a hub or lanes, so each runs across a local midnight.

One session, not one per pin: a pytest process's start (the interpreter, plugins, conftest
imports, collection: ~1.6 s of CPU) is paid by its controller and workers, not by four sessions
(with every test deselected: 8.9 CPU-s for four sessions, 6.7-7.5 for one on two workers). One
process (``--parallel 1``) starts once, but the tests' hubs and lanes idle longer: more CPU, not less.

    python -m tests.anyhour.run            # every pin
    python -m tests.anyhour.run 00:30      # one pin
    python -m tests.anyhour.run -- -x      # options after -- go to pytest
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tests.anyhour.plugin import PINS_ENV, RESULTS_ENV

ROOT = Path(__file__).resolve().parents[2]
BEIJING = ZoneInfo("Asia/Shanghai")

PINS: dict[str, clock_time] = {
    "00:30": clock_time(0, 30),
    "05:59:59": clock_time(5, 59, 59),
    "20:00:00": clock_time(20, 0, 0),
    "23:59:59": clock_time(23, 59, 59),  # each test runs across a local midnight
}

RUN_LIMIT_S = 600.0
"""One pin's share of the session's bound (the session gets this for every ``--parallel`` pins):
pytest-timeout cannot cut a teardown that hangs after it fired."""

CLOCK_SENSITIVE = ["-m", "any_hour and not postgres and not pcscd"]
"""Tests marked ``any_hour``: the ones whose outcome depends on the time of day or the date through
real processes (lanes judging hours, the hub's "today", the console's day pages, the benches that
wait for a grant). Pure code takes its clock as a parameter and is tested at chosen instants. The
PostgreSQL variants are left to the main run (the store does not judge hours), and so are the PC/SC
lanes (pcscd is one per machine, and their lane runs the same decision as the serial one's)."""

UNUSED_PLUGINS = ["-p", "no:schemathesis", "-p", "no:anyio", "-p", "no:cacheprovider"]
"""Installed pytest plugins these tests have no use for: schemathesis alone is ~0.5 s of CPU to
import in each pytest process."""


def marked_files() -> list[str]:
    """Only the files that hold such tests are collected: collecting the whole suite costs more
    than some of the tests."""
    found = []
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        if "any_hour" in path.read_text(encoding="utf-8"):
            found.append(str(path.relative_to(ROOT)))
    return found


def latest_past(at: clock_time, now: datetime) -> datetime:
    """The latest instant at that Beijing time of day at least two minutes before ``now``."""
    local = now.astimezone(BEIJING) - timedelta(minutes=2)
    candidate = datetime.combine(local.date(), at, tzinfo=BEIJING)
    return candidate if candidate <= local else candidate - timedelta(days=1)


def command(workers: int, files: list[str], extra: list[str]) -> list[str]:
    parallel = ["-n", str(workers if workers > 1 else 0)]  # -n 0: in this process
    plugin = ["-p", "tests.anyhour.plugin", *UNUSED_PLUGINS]
    return [sys.executable, "-m", "pytest", *CLOCK_SENSITIVE, *files, *plugin, *parallel, "-q", *extra]


def environment(pins: dict[str, datetime], results: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT / "tests" / "anyhour"), str(ROOT), env.get("PYTHONPATH", "")) if p
    )
    env[PINS_ENV] = json.dumps({name: at.isoformat() for name, at in pins.items()})
    env[RESULTS_ENV] = str(results)
    env.pop("SITEGATE_CLOCK_OFFSET_S", None)  # pytest starts on the real clock; the plugin pins each test
    # Not the main run's record of how long each module takes (tests/support/ordering.py): here each
    # module holds its any_hour tests only, once per pin. With none, xdist keeps the pins in order.
    env.pop("SITEGATE_TEST_DURATIONS", None)
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("pins", nargs="*", help=f"pins to run, of {', '.join(PINS)} (default: all)")
    parser.add_argument("--parallel", type=int, default=2, help="pytest workers (xdist); 1: one process")
    parser.add_argument("--logs", type=Path, default=ROOT / "artifacts", help="where the run's output goes")
    parser.add_argument("--tests", nargs="+", help="test files instead of every file that marks any_hour")
    argv = list(sys.argv[1:] if argv is None else argv)
    cut = argv.index("--") if "--" in argv else len(argv)
    argv, extra = argv[:cut], argv[cut + 1 :]  # after --: passed to pytest
    args = parser.parse_args(argv)
    names = args.pins or list(PINS)
    unknown = [name for name in names if name not in PINS]
    if unknown:
        parser.error(f"no pin named {', '.join(unknown)}; the pins are {', '.join(PINS)}")
    args.logs.mkdir(parents=True, exist_ok=True)
    now = datetime.now(BEIJING)
    pins = {name: latest_past(PINS[name], now) for name in names}
    log, results = args.logs / "anyhour.log", args.logs / "anyhour-results.json"
    results.unlink(missing_ok=True)
    limit = RUN_LIMIT_S * math.ceil(len(pins) / max(1, args.parallel))
    signal.signal(signal.SIGTERM, _terminated)
    with log.open("wb") as out:
        process = subprocess.Popen(
            command(args.parallel, args.tests or marked_files(), extra),
            cwd=ROOT,
            env=environment(pins, results),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    started = time.monotonic()
    try:
        code = _wait(process, limit)
    finally:  # interrupted or killed: no pinned pytest (nor what it started) outlives us
        _stop(process)
    return _report(pins, code, time.monotonic() - started, log, results)


def _terminated(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _wait(process: subprocess.Popen[bytes], limit: float) -> int:
    try:
        return process.wait(limit)
    except subprocess.TimeoutExpired:  # a teardown hung past pytest-timeout
        print(f"any-hour: still running after {limit:.0f} s; stopped", flush=True)
        _stop(process)
        return process.returncode if process.returncode is not None else -signal.SIGKILL


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


def _report(pins: dict[str, datetime], code: int, took: float, log: Path, results: Path) -> int:
    """One line per pin (what failed there named under it); the log's tail if anything failed."""
    try:
        heard: dict[str, dict[str, Any]] = json.loads(results.read_text())
    except (OSError, ValueError):
        heard = {}
    failed = []
    for name, at in pins.items():
        outcome = heard.get(name, {})
        tests, failures = int(outcome.get("tests", 0)), list(outcome.get("failed", []))
        verdict = "ok" if tests and not failures else "FAILED"
        if verdict != "ok":
            failed.append(name)
        detail = f"{tests - len(failures)} passed" + (f", {len(failures)} failed" if failures else "")
        print(
            f"any-hour {name:>9} (wall clock {at:%Y-%m-%d %H:%M:%S} Beijing): {verdict}: {detail}, "
            f"{outcome.get('seconds', 0)} s of tests",
            flush=True,
        )
        for nodeid in failures:
            print(f"    {nodeid}", flush=True)
    print(f"any-hour: one session, {len(pins)} pins, {took:.0f} s: {_summary_line(log)}", flush=True)
    if failed or code != 0:
        print(log.read_text(errors="replace")[-6000:], flush=True)
        where = ", ".join(failed) if failed else f"the session (pytest exit {code})"
        print(f"any-hour check failed at: {where} (log: {log})", flush=True)
        return 1
    return 0


def _summary_line(log: Path) -> str:
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1].strip("= ") if lines else "(no output)"


if __name__ == "__main__":
    sys.exit(main())
